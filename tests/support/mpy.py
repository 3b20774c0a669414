"""Run code under the real MicroPython unix port from the venv, with the board's import path."""

import os
import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO

MICROPYTHON = Path(sys.executable).with_name("micropython")
MICROPYPATH = os.pathsep.join([str(REPO / "firmware"), str(REPO), ".frozen"])


def mpy_env(extra=None):
    env = dict(os.environ, MICROPYPATH=MICROPYPATH)
    env.update(extra or {})
    return env


def run_micropython(script, args=(), timeout_s=120, env=None, heap="4m"):
    """Run a script file (Path) or source text (str) and return the CompletedProcess."""
    if isinstance(script, Path):
        argv = [str(MICROPYTHON), "-X", "heapsize=" + heap, str(script), *args]
    else:
        argv = [str(MICROPYTHON), "-X", "heapsize=" + heap, "-c", script, *args]
    return subprocess.run(argv, capture_output=True, timeout=timeout_s, env=mpy_env(env),
                          cwd=REPO)
