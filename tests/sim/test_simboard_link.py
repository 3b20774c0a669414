"""SimBoard's host link over a real raw pty, with the firmware side under the unix port."""

import os
import select
import subprocess
import time
import tty

import pytest

from tests.support.mpy import MICROPYTHON, REPO, mpy_env

pytestmark = pytest.mark.micropython

_DEVICE = """
import gc
from hil_sim.board import build_from_env

board = build_from_env()
buf = bytearray(64)
for i in range(50):
    board.read_into(buf)

def idle_allocation():
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    for i in range(2000):
        board.read_into(buf)
    allocated = gc.mem_alloc() - before
    gc.enable()
    return allocated

msg = b"IDLE %d\\n" % idle_allocation()
board.write(msg, len(msg))
last = board.link_ms()
while True:
    n = board.read_into(buf)
    if n:
        board.write(b"<", 1)
        board.write(buf, n)
        board.write(b">", 1)
        if buf[n - 1] == 4:
            break
    if board.link_diff(board.link_ms(), last) >= 50:
        last = board.link_ms()
        board.write(b"T", 1)
"""


@pytest.fixture
def device(tmp_path):
    script = tmp_path / "device.py"
    script.write_text(_DEVICE)
    master, slave = os.openpty()
    tty.setraw(slave)
    tty.setraw(master)
    env = mpy_env({"LUMENRIG_SIM_PRESET": "G1", "LUMENRIG_SIM_PD_A_PER_CD_M2": "1e-9"})
    proc = subprocess.Popen([str(MICROPYTHON), str(script)], stdin=slave, stdout=slave,
                            stderr=subprocess.PIPE, env=env, cwd=REPO)
    os.close(slave)
    yield master, proc
    proc.kill()
    proc.wait()
    os.close(master)


def _read_until(master, predicate, timeout_s=30):
    got = b""
    deadline = time.monotonic() + timeout_s
    while not predicate(got):
        left = deadline - time.monotonic()
        assert left > 0, got
        ready, _, _ = select.select([master], [], [], left)
        if ready:
            got += os.read(master, 4096)
    return got


def test_idle_read_into_allocates_nothing(device):
    master, _ = device
    got = _read_until(master, lambda b: b"\n" in b)
    assert got.startswith(b"IDLE 0\n"), got


def test_read_into_does_not_block_while_the_host_is_silent(device):
    master, _ = device
    got = _read_until(master, lambda b: b.count(b"T") >= 3)
    assert b"<" not in got


def test_a_short_burst_comes_back_whole_from_a_larger_buffer(device):
    master, _ = device
    _read_until(master, lambda b: b"T" in b)
    os.write(master, b"hello")
    got = _read_until(master, lambda b: b"<hello>" in b or b.count(b">") >= 1)
    assert b"<hello>" in got, got


def test_a_long_burst_arrives_intact_in_buffer_sized_pieces(device):
    master, _ = device
    _read_until(master, lambda b: b"T" in b)
    payload = bytes(b for b in range(5, 255) if b not in b"<>T") * 3 + b"\x04"
    os.write(master, payload)
    got = _read_until(master, lambda b: b"\x04>" in b)
    echoed = b""
    for piece in got.split(b"<")[1:]:
        echoed += piece.split(b">")[0]
    assert echoed == payload
    pieces = [p.split(b">")[0] for p in got.split(b"<")[1:]]
    assert max(len(p) for p in pieces) <= 64
