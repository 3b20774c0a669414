"""SimBoard from LUMENRIG_SIM_*: a restarted process continues the DUT history and the clock."""

import json
import re
import subprocess

import pytest

from tests.support.mpy import MICROPYTHON, REPO, mpy_env

pytestmark = pytest.mark.micropython

_DEVICE = """
from hil_sim.board import build_from_env
from lumenfw import board_config as cfg
from lumenfw.drivers.mcp4725 import MCP4725

board = build_from_env()
bench = board.source.bench
print("BOOT", board.reset_cause, board.clock.now_us(), board.ticks_us(), bench.time_s(),
      board.board_id, board.name)
MCP4725(board.i2c, cfg.ADDR_DAC).write_code(2600)
board.relay.value(1)
for _ in range(200):  # 200 device seconds: 0.2 s of wall at accel 1000
    board.sleep_us(1_000_000)
    board.source.sync()
    board.feed_watchdog()
board.save_state()
print("END", board.clock.now_us(), bench.time_s(), board.clock.charged_us)
"""


def _boot(tmp_path, **env):
    script = tmp_path / "device.py"
    script.write_text(_DEVICE)
    base = {"LUMENRIG_SIM_PRESET": "G1", "LUMENRIG_SIM_ACCEL": "1000", "LUMENRIG_SIM_SEED": "7",
            "LUMENRIG_SIM_PD_A_PER_CD_M2": "2e-9", "LUMENRIG_SIM_STATE": str(tmp_path / "st")}
    base.update(env)
    proc = subprocess.run([str(MICROPYTHON), str(script)], check=False, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=60, env=mpy_env(base), cwd=REPO)
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode()
    boot = re.search(r"BOOT (\d+) (\d+) (\d+) (\S+) (\d+) (\S+)", out).groups()
    end = re.search(r"END (\d+) (\S+) (\d+)", out).groups()
    return {"cause": int(boot[0]), "start_us": int(boot[1]), "ticks_us": int(boot[2]),
            "bench_s": float(boot[3]), "board_id": int(boot[4]), "name": boot[5],
            "end_us": int(end[0]), "end_bench_s": float(end[1]), "charged_us": int(end[2])}


def test_first_boot_is_a_power_on_at_time_zero(tmp_path):
    first = _boot(tmp_path)
    assert first["cause"] == 0  # schema.RESET_POWER_ON
    assert first["start_us"] < 100_000_000 and first["bench_s"] < 100
    # device time is what the script slept and the DAC write's modelled bus time, exactly
    assert first["end_us"] == first["start_us"] + 200 * 1000 * 1000 + first["charged_us"]
    assert 0 < first["charged_us"] < 1000
    assert first["name"] == "sim:G1"


def test_restart_continues_the_clock_and_the_bench_as_a_soft_reset(tmp_path):
    first = _boot(tmp_path)
    second = _boot(tmp_path)
    assert second["cause"] == 2  # schema.RESET_SOFT
    assert second["start_us"] >= first["end_us"]
    assert second["bench_s"] >= first["end_bench_s"]
    assert second["start_us"] - first["end_us"] < 5_000_000_000  # a restart is not an age
    assert second["board_id"] == first["board_id"]


def test_ticks_restart_near_zero_at_every_boot_like_the_pico(tmp_path):
    _boot(tmp_path)
    second = _boot(tmp_path)
    assert second["ticks_us"] < second["start_us"]
    assert second["ticks_us"] < 1 << 29


def test_state_file_holds_the_time_the_feed_and_the_bench_snapshot(tmp_path):
    first = _boot(tmp_path)
    text = (tmp_path / "st").read_text()
    state = json.loads(text)
    assert state["t_us"] <= first["end_us"]
    assert state["bench"]["t_s"] * 1e6 == pytest.approx(state["t_us"])  # the same instant
    assert state["bench"]["t_s"] == pytest.approx(first["end_bench_s"])
    assert isinstance(state["wdt_fed_ms"], int)


def test_reset_cause_can_be_given_by_the_launcher(tmp_path):
    _boot(tmp_path)
    assert _boot(tmp_path, LUMENRIG_SIM_RESET_CAUSE="watchdog")["cause"] == 1


def test_frozen_board_never_advances_the_bench_nor_writes_state(tmp_path):
    frozen = _boot(tmp_path, LUMENRIG_SIM_FROZEN="1")
    assert frozen["end_bench_s"] == 0.0
    assert not (tmp_path / "st").exists()


def test_two_boards_of_the_same_preset_and_seed_have_their_own_ids(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _boot(tmp_path / "a")
    b = _boot(tmp_path / "b")
    assert a["board_id"] != b["board_id"]
    assert a["board_id"] > 0 and b["board_id"] > 0
