"""The `lumenrig` client commands as a user runs them: a subprocess with a chosen environment
and folder, and a service that keeps its generated token in its data folder."""

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.service_proc import LUMENRIG, ServiceProcess

# What the CLI reads from the environment; each test says which of these it has.
CLI_ENV = ("LUMENRIG_TOKEN", "LUMENRIG_DATA_DIR")


def cli_env(**given: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLI_ENV}
    env.update(given)
    return env


def lumenrig(*args: str, env: dict[str, str], cwd: Path | None = None,
             timeout_s: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(LUMENRIG), *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=timeout_s)


# Runs the command with SIGINT as a terminal leaves it (its default action), whatever the
# test process inherited: a suite started in the background by a shell without job control
# ignores SIGINT, and a child that inherits the ignoring never sees Ctrl-C.
_WITH_TERMINAL_SIGINT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                         "os.execv(sys.argv[1], sys.argv[1:])")


def start_lumenrig(*args: str, env: dict[str, str]) -> subprocess.Popen:
    """The command as a person would start it at a terminal, its output piped."""
    return subprocess.Popen([sys.executable, "-c", _WITH_TERMINAL_SIGINT, str(LUMENRIG), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def interrupt(proc: subprocess.Popen, timeout_s: float = 60) -> tuple[int, str]:
    """SIGINT, as Ctrl-C sends; the exit code and the rest of stderr.  A command still there
    after timeout_s fails the test with the stacks of its threads (SIGUSR1: faulthandler)."""
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGUSR1)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        raise AssertionError("still running %.0f s after SIGINT; its threads:\n%s"
                             % (timeout_s, err[-8000:])) from None
    return proc.returncode, err


def first_stderr_line(proc: subprocess.Popen, timeout_s: float = 30) -> str:
    """The command's first line on stderr, or fail after timeout_s (never hang the suite)."""
    ready, _, _ = select.select([proc.stderr], [], [], timeout_s)
    assert ready, "no line on stderr within %.0f s" % timeout_s
    line = proc.stderr.readline()
    assert line, "the command ended before it said anything: %r" % (proc.communicate(),)
    return line


class TokenFileService(ServiceProcess):
    """`lumenrig serve` without LUMENRIG_TOKEN: it generates a token into its data folder,
    which the CLI must find there (`token` reads it)."""

    def service_env(self) -> dict[str, str]:
        return cli_env(**self.env)

    @property
    def token(self) -> str:
        return (self.data_dir / "token").read_text().strip()

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.token}
