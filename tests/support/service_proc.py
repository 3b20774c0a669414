"""A real `lumenrig serve` process for end-to-end tests, on a free loopback port."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

LUMENRIG = Path(sys.executable).with_name("lumenrig")
TOKEN = "e2e-token-0123456789abcdef"
AUTH = {"Authorization": "Bearer " + TOKEN}


@contextlib.contextmanager
def busy_cores():
    """One busy loop per core and one more, for as long as the block runs: a machine with no
    core to spare."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range((os.cpu_count() or 1) + 1)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout_s: float, what: str, interval_s: float = 0.1):
    """Poll predicate until it returns a truthy value; fail with `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            last_error = exc
        time.sleep(interval_s)
    raise AssertionError("timed out after %.0f s waiting for %s (last error: %r)"
                         % (timeout_s, what, last_error))


class ServiceProcess:
    """Start, stop, kill and restart one service with fixed rigs, database and data dir."""

    def __init__(self, rigs: list[str], db_url: str, data_dir: Path, port: int | None = None,
                 env: dict[str, str] | None = None):
        """env: added to the service's environment (and so to its simulated rigs')."""
        self.rigs = rigs
        self.env = dict(env or {})
        self.db_url = db_url
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc: subprocess.Popen | None = None
        self.log_path = data_dir / ("service-%d.log" % self.port)

    def service_env(self) -> dict[str, str]:
        """The service's environment: this one with the tests' token and self.env."""
        return dict(os.environ, LUMENRIG_TOKEN=TOKEN, **self.env)

    def start(self, connect_timeout_s: float = 60) -> "ServiceProcess":
        argv = [str(LUMENRIG), "serve", "--db", self.db_url, "--port", str(self.port),
                "--data-dir", str(self.data_dir)]
        for rig in self.rigs:
            argv += ["--rig", rig]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                     env=self.service_env(), start_new_session=True)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("service exited with %s:\n%s"
                                     % (self.proc.returncode, self.log()))
            health = httpx.get(self.url + "/api/health", timeout=2).json()
            return all(health["rigs"].values()) and len(health["rigs"]) == len(self.rigs)

        wait_for(ready, connect_timeout_s, "the service and its rigs to come up")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)

    def kill(self) -> None:
        """SIGKILL the service alone: its simulator child survives only if it escaped."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)


class SimProcess:
    """`lumenrig sim` in its own session: outlives any service that opens its port."""

    def __init__(self, log_path: Path, accel: float | str, seed: int, device: str = "G1",
                 faults: str = "", spread: str = ""):
        self.log_path = log_path
        self.argv = [str(LUMENRIG), "sim", "--device", device, "--accel", str(accel),
                     "--seed", str(seed)] + (["--faults", faults] if faults else []) + (
                         ["--spread", spread] if spread else [])
        self.proc: subprocess.Popen | None = None
        self.port = ""

    def start(self) -> "SimProcess":
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=log,
                                         start_new_session=True, text=True)
        assert self.proc.stdout is not None
        self.port = self.proc.stdout.readline().strip()  # printed once the rig is up
        assert self.port.startswith("/dev/"), self.log_path.read_text()
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> str:
        """SIGTERM, wait; returns its log (the counters are its last line)."""
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)
        return self.log_path.read_text(errors="replace")


def follow_stream(url: str, run_id: int, timeout_s: float) -> dict:
    """Read SSE until `end`; returns counts per event kind, the final run and the L0 values
    the live progress messages carried (and `progress`: every progress message; `events`:
    every run event; `seqs`: the seq of every sample in the order they came)."""
    counts: dict[str, int] = {}
    events: list[dict] = []
    seqs: list[int] = []
    live_l0: list[float] = []
    progress: list[dict] = []
    final = None
    with httpx.stream("GET", "%s/api/runs/%d/stream" % (url, run_id),
                      timeout=httpx.Timeout(10, read=timeout_s)) as response:
        assert response.status_code == 200
        kind = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line[6:].strip()
                counts[kind] = counts.get(kind, 0) + 1
            elif line.startswith("data:") and kind == "end":
                final = json.loads(line[5:])
                break
            elif line.startswith("data:") and kind == "samples":
                seqs.extend(row[0] for row in json.loads(line[5:])["rows"])
            elif line.startswith("data:") and kind == "event":
                events.append(json.loads(line[5:]))
            elif line.startswith("data:") and kind == "progress":
                progress.append(json.loads(line[5:]))
                l0 = progress[-1].get("l0_cd_m2")
                if l0 is not None and l0 not in live_l0:
                    live_l0.append(l0)
    return {"counts": counts, "final": final, "live_l0": live_l0, "progress": progress,
            "events": events, "seqs": seqs}


def rig_after_the_end(url: str, stored: int, timeout_s: float = 30.0) -> dict:
    """GET /api/rigs/rig1 once the device's count (from its next HEARTBEAT after the run's
    end: STATUS does not carry it to the view) equals the stored count, or at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        described = httpx.get(url + "/api/rigs/rig1", timeout=60).json()
        if described["device"]["next_seq"] == stored or time.monotonic() > deadline:
            return described
        time.sleep(0.1)
