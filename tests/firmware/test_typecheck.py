"""The board layer type-checks as rp2 MicroPython code with mypy-firmware.ini (make typecheck)."""

import subprocess
import sys

from tests.support.mpy import REPO

BOARD_LAYER = [
    "firmware/lumenfw/board.py",
    "firmware/lumenfw/board_config.py",
    "firmware/lumenfw/board_pico.py",
    "firmware/lumenfw/photodiode.py",
    "firmware/lumenfw/drivers",
]


def _mypy(*paths, cwd=REPO):
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(REPO / "mypy-firmware.ini"),
         "--no-incremental", *map(str, paths)],
        capture_output=True, text=True, timeout=300, cwd=cwd, check=False)


def test_board_layer_type_checks_against_the_rp2_stubs():
    proc = _mypy(*BOARD_LAYER)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_misuse_of_the_rp2_api_and_cpython_only_modules_are_caught(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import machine\n"
        "import time\n"
        "import dataclasses\n"
        "pin = machine.Pin(4, machine.Pin.OUTPUT)\n"
        "time.ticks_usec()\n"
    )
    proc = _mypy(bad, cwd=tmp_path)
    assert proc.returncode == 1
    assert 'has no attribute "OUTPUT"' in proc.stdout
    assert 'has no attribute "ticks_usec"' in proc.stdout
    assert 'module named "dataclasses"' in proc.stdout
