"""A simulated rig's pixel ages across runs until a fresh one is mounted
(`POST /api/rigs/{rig}/sim/replace`): the board boots again (power-on, same board id) and
the next run starts from the preset's L0 and ends at its T50 again. Real service, real
firmware on the MicroPython VM."""

import httpx
import pytest

from tests.support.service_proc import AUTH, ServiceProcess, wait_for

pytestmark = pytest.mark.micropython

LIFETIME = {"kind": "lifetime", "rig": "rig1", "params": {"voltage_v": 10, "max_duration_s": 3000}}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = tmp_path_factory.mktemp("replace")
    # rig1 unpaced; slow in real time, where a run outlasts the test
    proc = ServiceProcess(["sim:G1?accel=max&seed=21", "slow=sim:G1?accel=1&seed=22"],
                          "sqlite:///%s" % (folder / "r.sqlite"), folder).start()
    try:
        yield proc
    finally:
        proc.stop()


def _rig(service):
    return httpx.get(service.url + "/api/rigs/rig1", timeout=60).json()


def _replace(service, query="", headers=AUTH, rig="rig1"):
    return httpx.post(service.url + "/api/rigs/%s/sim/replace%s" % (rig, query),
                      headers=headers, timeout=60)


def _summary_of_a_run(service):
    started = httpx.post(service.url + "/api/runs", json=LIFETIME, headers=AUTH, timeout=60)
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    wait_for(lambda: httpx.get(service.url + "/api/runs/%d" % run_id, timeout=60).json()[
        "state"] not in ("queued", "running"), 300, "run %d to end" % run_id)
    run = httpx.get(service.url + "/api/runs/%d" % run_id, timeout=60).json()
    assert run["state"] == "completed", run
    return run["summary"]


def test_a_fresh_pixel_starts_where_the_first_did_and_the_aged_one_does_not(service):
    first = _summary_of_a_run(service)
    aged = _summary_of_a_run(service)
    assert aged["l0_cd_m2"] < 0.7 * first["l0_cd_m2"]  # it ran to half its L0 before

    board = _rig(service)["board_id"]
    boots = _rig(service)["device"]["reset_cause"]
    assert boots is not None
    replaced = _replace(service)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json() == {"rig": "rig1", "channel": 0, "pixels_replaced": 1}
    wait_for(lambda: _rig(service)["device"]["reset_cause"] == "power_on"
             and _rig(service)["device"]["connected"], 60, "the board to boot again")
    assert _rig(service)["board_id"] == board  # the same board, a new pixel

    fresh = _summary_of_a_run(service)
    assert fresh["l0_cd_m2"] == pytest.approx(first["l0_cd_m2"], rel=0.02)
    assert fresh["t50_s"] == pytest.approx(first["t50_s"], rel=0.02)


def test_a_pixel_is_not_replaced_under_a_run_on_another_channel_or_without_the_token(service):
    assert _replace(service, "?channel=1").status_code == 422
    assert "no channel 1" in _replace(service, "?channel=1").text
    assert _replace(service, "?channel=8").status_code == 422
    assert _replace(service, headers={}).status_code == 401
    started = httpx.post(service.url + "/api/runs", json=dict(LIFETIME, rig="slow"),
                         headers=AUTH, timeout=60)
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    try:
        busy = _replace(service, rig="slow")
        assert busy.status_code == 409 and "busy with run %d" % run_id in busy.text
    finally:
        httpx.post(service.url + "/api/runs/%d/abort" % run_id, headers=AUTH, timeout=60)
