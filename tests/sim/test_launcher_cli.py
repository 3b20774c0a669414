"""`lumenrig sim` as a process: port on the first line, clean stop on SIGTERM or SIGINT."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import serial

from tests.support.paths import DATA, REPO
from tests.support.processes import child_pids
from tests.support.waiting import wait_for

pytestmark = pytest.mark.micropython

ECHO_DEVICE = DATA / "echo_device.py"
# The CLI's own loop with the stand-in device instead of the firmware.
RUN_ECHO_RIG = """
import sys
from hil_sim.cli import run_until_signalled
from hil_sim.spec import parse_sim_spec
run_until_signalled(parse_sim_spec(sys.argv[1]), script=sys.argv[2], pd_amps_per_cd_m2=9e-10)
"""


def start_cli(spec="sim:G1?accel=10"):
    return subprocess.Popen([sys.executable, "-c", RUN_ECHO_RIG, spec, str(ECHO_DEVICE)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_the_port_first_and_stops_cleanly_on_a_signal(sig):
    cli = start_cli()
    try:
        port_path = cli.stdout.readline().decode().strip()
        with serial.Serial(port_path, timeout=5) as port:
            port.write(b"ping\n")
            assert port.read_until(b"ping\n").endswith(b"ping\n")
        device_pids = wait_for(lambda: child_pids(cli.pid), what="the device process")
        cli.send_signal(sig)
        assert cli.wait(timeout=60) == 0
        assert b"stopping; counters" in cli.stderr.read()
        assert all(not Path(f"/proc/{pid}").exists() for pid in device_pids)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
        cli.stdout.close()
        cli.stderr.close()


def run_cli(*args):
    # A wide terminal, so the error box does not wrap the message.
    return subprocess.run([sys.executable, "-m", "hil_sim.cli", "sim", *args],
                          check=False, capture_output=True, cwd=REPO, timeout=60,
                          env=dict(os.environ, COLUMNS="200"))


def test_cli_rejects_a_bad_preset_before_starting_anything():
    result = run_cli("--device", "G7")
    assert result.returncode == 2
    assert b"unknown preset 'G7'" in result.stderr
    assert result.stdout == b""


def test_cli_rejects_bad_fault_text_with_the_grammar_message():
    result = run_cli("--device", "G1", "--faults", "cut=5s")
    assert result.returncode == 2
    assert b"cut needs AT+DURATION" in result.stderr


def test_cli_rejects_a_spread_above_one_half():
    result = run_cli("--device", "G1", "--spread", "0.6")
    assert result.returncode == 2
    assert b"spread must be 0 to 0.5" in result.stderr


def test_lumenrig_sim_runs_the_pixel_of_a_substrate_it_is_given(tmp_path):
    from tests.support.service_proc import SimProcess

    sim = SimProcess(tmp_path / "sim.log", "max", seed=3, spread="0.2").start()
    try:
        wait_for(lambda: "simulated rig" in sim.log_path.read_text(), 30, "the rig's line")
        assert "simulated rig sim:G1?accel=max&seed=3&spread=0.2," in sim.log_path.read_text()
    finally:
        sim.stop()


def test_the_firmware_ends_when_the_process_holding_its_pty_is_killed(tmp_path):
    """SIGKILL of `lumenrig sim` (or of a service running a sim: rig) closes the far end of
    the firmware's pty: the MicroPython process sees the hang-up and ends, even at
    accel=max, instead of spinning on as an orphan."""
    from tests.support.service_proc import SimProcess

    sim = SimProcess(tmp_path / "sim.log", "max", seed=1).start()
    firmware = wait_for(lambda: child_pids(sim.proc.pid), 30, "the firmware process")
    said = wait_for(lambda: "firmware log " in (text := sim.log_path.read_text()) and text,
                    30, "the launcher to name the firmware's log")
    device_log = Path(said.split("firmware log ")[1].split()[0])
    wait_for(lambda: "firmware from" in device_log.read_text(), 30, "the firmware to boot")
    os.kill(sim.proc.pid, signal.SIGKILL)
    sim.proc.wait(10)

    def ended(pid: int) -> bool:
        try:
            return Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            return True
    wait_for(lambda: all(ended(pid) for pid in firmware), 30, "the firmware to end")
