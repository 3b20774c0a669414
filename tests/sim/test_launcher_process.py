"""SimRig's process management with a small MicroPython stand-in device (tests/data)."""

import json
import os
import threading
from pathlib import Path

import pytest
import serial

from hil_sim.launcher import SimRig
from tests.support.paths import DATA
from tests.support.waiting import wait_for

pytestmark = pytest.mark.micropython

ECHO_DEVICE = DATA / "echo_device.py"


def echo_rig(accel=50, faults="", restart_delay_s=0.1, **options):
    return SimRig("G1", accel=accel, faults=faults, script=ECHO_DEVICE,
                  pd_amps_per_cd_m2=9e-10, restart_delay_s=restart_delay_s, **options)


def open_port(rig):
    return serial.Serial(rig.port, timeout=5)


def next_boot(port, accept=lambda fields: True):
    """Fields of the next BOOT line that accept() takes (earlier boots may still be queued:
    the first one goes out whenever the stand-in has started)."""
    while True:
        line = port.readline()
        assert line, "no BOOT line within the port timeout"
        fields = line.split()
        if fields[:1] == [b"BOOT"] and accept(fields):
            return fields


def after_first_boot(fields):
    return int(fields[3]) > 0


def state_write_lag_s(accel):
    """How far behind the device time the stand-in's last state write can be."""
    return accel * 0.05


def _gone(pid):
    return not Path(f"/proc/{pid}").exists()


def test_host_talks_to_the_device_process_through_the_port():
    with echo_rig() as rig, open_port(rig) as port:
        port.write(b"hello\n")
        # The boot line may have gone out before the port was open; the echo may not.
        assert port.read_until(b"hello\n").endswith(b"hello\n")


def test_device_process_gets_the_rig_environment():
    with echo_rig(accel=25) as rig, open_port(rig) as port:
        port.write(b"boot?\n")  # the first BOOT line may have gone out before the port opened
        _, preset, accel, _, cause = next_boot(port)
        assert (preset, float(accel), cause) == (b"G1", 25.0, b"-")


def test_reset_starts_a_new_process_that_boots_again():
    with echo_rig() as rig, open_port(rig) as port:
        first_pid = wait_for(lambda: rig.pid)
        wait_for(lambda: rig.device_time_s() > 2 * state_write_lag_s(50), what="state writes")
        rig.reset()
        next_boot(port, after_first_boot)
        assert rig.pid != first_pid
        assert _gone(first_pid)
        assert rig.stats["device_resets"] == 1
        assert rig.stats["boots"] == 2


def test_device_time_continues_across_a_reset():
    with echo_rig(accel=100) as rig, open_port(rig) as port:
        wait_for(lambda: rig.device_time_s() > 20.0, what="20 device seconds")
        rig.reset()
        boot_t_us = int(next_boot(port, after_first_boot)[3])
        assert boot_t_us / 1e6 >= 20.0 - state_write_lag_s(100)
        wait_for(lambda: rig.device_time_s() > boot_t_us / 1e6, what="the new boot's clock")


def test_scheduled_reset_fires_at_its_device_time():
    with echo_rig(accel=100, faults="reset=30s") as rig, open_port(rig) as port:
        first_pid = wait_for(lambda: rig.pid)
        wait_for(lambda: rig.stats["resets"] == 1, what="the scheduled reset")
        boot_t_us = int(next_boot(port, after_first_boot)[3])
        assert rig.pid != first_pid
        # The device halted at exactly 30 s and was reset there; the new boot goes on from it.
        assert boot_t_us == 30_000_000


def test_crash_restarts_the_device_after_a_delay_and_counts_it():
    with echo_rig() as rig, open_port(rig) as port:
        first_pid = wait_for(lambda: rig.pid)
        port.write(b"crash\n")
        next_boot(port, lambda fields: fields[4] == b"watchdog")
        assert rig.stats["crashes"] == 1
        assert rig.pid != first_pid
        assert "RuntimeError: crash requested by the host" in rig.log_text()


def test_bytes_sent_while_the_device_is_down_never_reach_the_restarted_device():
    with echo_rig(restart_delay_s=0.5) as rig, open_port(rig) as port:
        port.write(b"crash\n")
        port.read_until(b"crash\n")
        wait_for(lambda: rig.pid is None, what="the device to be down")
        port.write(b"stale\n")
        next_boot(port, lambda fields: fields[4] == b"watchdog")
        port.write(b"fresh\n")
        assert port.read_until(b"fresh\n") == b"fresh\n"
        assert rig.stats["down_discarded_bytes"] >= len(b"stale\n")


def test_interlock_setting_reaches_the_device_side_file():
    with echo_rig() as rig, open_port(rig) as port:
        rig.set_interlock(False)
        port.write(b"interlock?\n")
        assert port.read_until(b"interlock 0\n").endswith(b"interlock 0\n")
        rig.set_interlock(True)
        port.write(b"interlock?\n")
        assert port.read_until(b"interlock 1\n").endswith(b"interlock 1\n")


def test_stop_leaves_no_process_thread_or_fd_behind():
    fds_before = set(os.listdir("/proc/self/fd"))
    threads_before = threading.active_count()
    rig = echo_rig(faults="delay=5ms")
    rig.start()
    pid = wait_for(lambda: rig.pid)
    state_dir = rig.state_dir
    with open_port(rig) as port:
        port.write(b"x\n")
        port.read_until(b"x\n")
    rig.stop()
    assert _gone(pid)
    assert threading.active_count() == threads_before
    assert set(os.listdir("/proc/self/fd")) == fds_before
    assert not state_dir.exists()
    rig.stop()  # twice is harmless


def test_state_dir_given_is_kept_and_the_next_rig_continues_from_it(tmp_path):
    with echo_rig(accel=100, state_dir=tmp_path) as rig:
        wait_for(lambda: rig.device_time_s() > 10.0, what="10 device seconds")
    saved_t_us = json.loads((tmp_path / "device_state.json").read_text())["t_us"]
    assert saved_t_us / 1e6 >= 10.0 - state_write_lag_s(100)
    with echo_rig(accel=100, state_dir=tmp_path) as rig:
        wait_for(lambda: rig.device_time_s() > saved_t_us / 1e6, what="the boot's clock")


def _heapsize_arg(pid):
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return argv[argv.index(b"-X") + 1].decode()


def test_the_device_heap_fits_the_sample_ring_it_keeps():
    from hil_sim.launcher import BASE_HEAP_KB
    from lumenfw.board_config import SAMPLE_RING
    from protocol.schema import SAMPLE_SIZE

    with echo_rig() as rig:
        assert _heapsize_arg(wait_for(lambda: rig.pid)) == (
            "heapsize=%dk" % (BASE_HEAP_KB + 2 * SAMPLE_RING * SAMPLE_SIZE // 1024))
    with echo_rig(extra_env={"LUMENRIG_SIM_SAMPLE_RING": "8192"}) as rig:
        assert _heapsize_arg(wait_for(lambda: rig.pid)) == (
            "heapsize=%dk" % (BASE_HEAP_KB + 2 * 8192 * SAMPLE_SIZE // 1024))


@pytest.mark.parametrize("ring", ["lots", "0", "-5", "1.5"])
def test_a_bad_sample_ring_setting_stops_the_rig_before_it_starts(ring):
    rig = echo_rig(extra_env={"LUMENRIG_SIM_SAMPLE_RING": ring})
    with pytest.raises(ValueError, match="LUMENRIG_SIM_SAMPLE_RING must be a whole number"):
        rig.start()
    assert rig.pid is None and rig.relay is None  # nothing was left running
