"""`lumenrig run` with the device and labels, `show`, `follow`, `abort`, and Ctrl-C: the run
goes on on its rig. One real service: a fast simulated rig and one in real time."""

import getpass
import json
import re

import httpx
import pytest

from tests.host.cli.cli_support import (
    cli_env,
    first_stderr_line,
    interrupt,
    lumenrig,
    start_lumenrig,
)
from tests.support.service_proc import AUTH, TOKEN, ServiceProcess, wait_for

STRUCTURE = "ITO/PEDOT:PSS/TFB/CsPbBr3/TPBi/LiF/Al"
# A lifetime run on the real-time rig outlasts the test: it is there to be interrupted.
LONG_RUN = ("lifetime", "-p", "voltage_v=10", "-p", "max_duration_s=3600", "--rig", "slow")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-run")
    proc = ServiceProcess(["sim:G1?accel=max&seed=31", "slow=sim:G1?accel=1&seed=32"],
                          "sqlite:///%s" % (folder / "run.sqlite"), folder).start()
    try:
        yield proc
    finally:
        proc.stop()


def _cli(service, *args):
    return lumenrig(*args, "--server", service.url, env=cli_env(LUMENRIG_TOKEN=TOKEN))


def _run(service, run_id: int) -> dict:
    return httpx.get("%s/api/runs/%d" % (service.url, run_id), timeout=60).json()


def test_run_sends_the_device_and_labels_and_show_tells_them_in_words(service):
    result = _cli(service, "run", "lifetime", "-p", "voltage_v=10", "-p", "max_duration_s=5",
                  "--device-name", "G1", "--sample-id", "S-17", "--pixel", "B2",
                  "--batch", "2026-12", "--structure", STRUCTURE, "--area-mm2", "2",
                  "--notes", "first light", "--tag", "pe", "--tag", "encap", "--rig", "rig1")
    assert result.returncode == 0, result.stderr
    run_id = int(re.match(r"run (\d+) started on rig1", result.stderr).group(1))
    assert json.loads(result.stdout)["stop_reason"] == "max_duration"
    run = _run(service, run_id)
    assert run["device"] == {"name": "G1", "sample_id": "S-17", "pixel": "B2",
                             "batch": "2026-12", "structure": STRUCTURE, "area_mm2": 2.0}
    assert run["calibration"]["pixel_area_mm2"] == 2.0
    assert (run["operator"], run["notes"], run["tags"]) == (
        getpass.getuser(), "first light", ["pe", "encap"])

    shown = _cli(service, "show", str(run_id))
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert text.startswith("run %d: lifetime on rig1, completed\n" % run_id)
    assert ("device: name G1, sample S-17, pixel B2, batch 2026-12, structure %s, area 2 mm²"
            % STRUCTURE) in text
    assert "operator: %s\ntags: pe, encap\nnotes: first light\n" % getpass.getuser() in text
    assert re.search(r"\n  voltage_v +10 V\n", text)
    assert re.search(r"\n  L0, the luminance the stress starts from +\d[\d.]* cd/m²\n", text)
    assert re.search(r"\n  stopped because +max_duration\n", text)
    assert re.search(r"\nevents \(\d+\):\n(  .*\n)*  [-\d]+ [:\d]+  run started", text)
    as_json = json.loads(_cli(service, "show", str(run_id), "--json").stdout)
    assert as_json == _run(service, run_id)


def test_run_refused_by_the_service_shows_its_detail_and_exits_2(service):
    result = _cli(service, "run", "lifetime", "-p", "voltage_v=10", "--area-mm2", "0",
                  "--rig", "rig1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert re.fullmatch(r"error: 422: device\.area_mm2: .*\n", result.stderr)


def test_follow_prints_the_summary_of_a_run_started_elsewhere(service):
    started = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=30, json={
        "kind": "lifetime", "rig": "rig1", "params": {"voltage_v": 10, "max_duration_s": 5}})
    run_id = started.json()["id"]
    result = _cli(service, "follow", str(run_id))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == _run(service, run_id)["summary"]
    assert "following run %d on rig1" % run_id in result.stderr


def test_ctrl_c_during_run_leaves_the_run_going_and_says_how_to_get_back_to_it(service):
    proc = start_lumenrig("run", *LONG_RUN, "--server", service.url,
                          env=cli_env(LUMENRIG_TOKEN=TOKEN))
    try:
        run_id = int(re.match(r"run (\d+) started on slow", first_stderr_line(proc)).group(1))
        wait_for(lambda: _run(service, run_id)["state"] == "running", 30, "the run to start")
        code, err = interrupt(proc)
    finally:
        proc.kill()
    assert code == 130, err
    assert ("run %d goes on on slow; `lumenrig follow %d` to watch, `lumenrig abort %d` to stop"
            % (run_id, run_id, run_id)) in err
    assert "Traceback" not in err
    assert _run(service, run_id)["state"] == "running"
    ended = httpx.post("%s/api/runs/%d/abort" % (service.url, run_id), headers=AUTH, timeout=60)
    assert ended.json()["state"] == "aborted"


def test_ctrl_c_during_follow_then_abort_stops_the_run(service):
    started = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=30, json={
        "kind": "lifetime", "rig": "slow", "params": {"voltage_v": 10, "max_duration_s": 3600}})
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    proc = start_lumenrig("follow", str(run_id), "--server", service.url,
                          env=cli_env(LUMENRIG_TOKEN=TOKEN))
    try:
        assert first_stderr_line(proc) == "following run %d on slow\n" % run_id
        code, err = interrupt(proc)
    finally:
        proc.kill()
    assert code == 130, err
    assert "run %d goes on on slow; `lumenrig follow %d` to watch" % (run_id, run_id) in err

    aborted = _cli(service, "abort", str(run_id))
    assert (aborted.returncode, aborted.stdout) == (0, "aborted\n"), aborted.stderr
    followed = _cli(service, "follow", str(run_id))
    assert followed.returncode == 1
    assert "error: run %d ended aborted" % run_id in followed.stderr
