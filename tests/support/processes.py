"""Helpers shared by the launcher and fault tests: raw ptys, exact reads, child processes."""

import os
import pty
import select
import termios
import time
import tty
from pathlib import Path


def raw_pty():
    """(master, slave) fds of a new pty, slave raw with no echo."""
    master, slave = pty.openpty()
    tty.setraw(slave, termios.TCSANOW)
    return master, slave


def read_exactly(fd, n, timeout_s=30.0):
    """n bytes from fd (any blocking mode); fails with what arrived if the deadline passes."""
    deadline = time.monotonic() + timeout_s
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    out = bytearray()
    while len(out) < n:
        left_s = deadline - time.monotonic()
        if left_s <= 0 or not poller.poll(int(left_s * 1000) + 1):
            raise AssertionError(
                f"got {len(out)} of {n} bytes in {timeout_s:.1f} s: {bytes(out[:64])!r}...")
        out += os.read(fd, n - len(out))
    return bytes(out)


def pending(fd):
    """What fd holds right now, without waiting."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    out = bytearray()
    while poller.poll(0):
        out += os.read(fd, 65536)
    return bytes(out)


def child_pids(pid):
    """Processes whose parent is pid, whichever of its threads started them (a simulated
    rig's firmware process is started by its relay thread after a reset)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path("/proc", entry, "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry))
    return children
