"""Test sequences end to end on the HIL: J-V-L, a CV lifetime of G1 with check-ups, J-V-L.

The service runs each step, pauses the stress for every check-up and resumes it with the
stress clock going on; the check-up sweeps see the pixel age. Also: a host killed during a
check-up and a device reset during the stress leave the sequence whole, and a bad request is
refused naming its step and field.
"""

import time

import httpx
import numpy as np
import pytest

from tests.support.service_proc import AUTH, ServiceProcess, SimProcess, wait_for

pytestmark = pytest.mark.micropython

SEED = 4
SWEEP = {"stop_v": 10.0, "step_v": 0.5, "dwell_s": 0.2}
CHECKUP_SWEEP = {"start_v": 8.0, "stop_v": 10.0, "step_v": 0.5, "dwell_s": 0.2}
STRESS = {"voltage_v": 10.0, "sample_period_s": 1.0, "host_loss_grace_s": 60}
# The kill test's check-ups: below the pixel's turn-on (no light, no ageing) and slow, so
# that each lasts seconds of wall time at accel 50 and a poll of a busy service finds one.
SLOW_CHECKUP_SWEEP = {"start_v": 0.0, "stop_v": 4.0, "step_v": 0.1, "dwell_s": 2.0}
SEQUENCE = {"name": "G1 with check-ups", "device": {"name": "G1"}, "steps": [
    {"kind": "jvl", "params": SWEEP},
    {"kind": "lifetime", "params": STRESS,
     "checkups": {"every_s": 120, "at_fractions": [0.8, 0.5],
                  "step": {"kind": "jvl", "params": CHECKUP_SWEEP}}},
    {"kind": "jvl", "params": SWEEP}]}


def _post(url: str, body: dict) -> httpx.Response:
    return httpx.post(url + "/api/sequences", json=body, headers=AUTH, timeout=30)


def _sequence(url: str, sequence_id: int) -> dict:
    return httpx.get("%s/api/sequences/%d" % (url, sequence_id), timeout=60).json()


def _until_ended(url: str, sequence_id: int, timeout_s: float) -> dict:
    return wait_for(lambda: (s := _sequence(url, sequence_id))["state"] in (
        "completed", "failed", "aborted") and s, timeout_s, "the sequence to end",
        interval_s=0.5)


def _run(url: str, run_id: int) -> dict:
    return httpx.get("%s/api/runs/%d" % (url, run_id), timeout=60).json()


def _stress_samples(url: str, run_id: int) -> tuple[np.ndarray, np.ndarray]:
    rows = httpx.get("%s/api/runs/%d/samples" % (url, run_id), timeout=60).json()["rows"]
    return (np.array([r[0] for r in rows]), np.array([r[1] for r in rows]))


def _check_stress_clock(url: str, stress_id: int, period_s: float) -> dict:
    """Every seq once, in order; the stress clock rises and never jumps by more than a
    resume's settle: no check-up or dark time is counted as stress."""
    seqs, t_s = _stress_samples(url, stress_id)
    assert list(seqs) == list(range(len(seqs)))
    steps = np.diff(t_s)
    assert (steps > 0).all()
    assert steps.max() <= 2 * period_s + 0.5, "the stress clock jumped by %.1f s" % steps.max()
    return {"samples": len(seqs), "t_end_s": float(t_s[-1])}


def _plain_t50_s() -> float:
    """The same stress on a fresh pixel of the same seed without check-ups."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        service = ServiceProcess(["sim:G1?accel=max&seed=%d" % SEED],
                                 "sqlite:///%s/plain.sqlite" % folder, Path(folder)).start()
        try:
            posted = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=30, json={
                "kind": "lifetime", "rig": "rig1", "params": STRESS})
            assert posted.status_code == 201, posted.text
            run = wait_for(lambda: (r := _run(service.url, posted.json()["id"]))["state"]
                           == "completed" and r, 120, "the plain lifetime to end")
            return run["summary"]["t50_s"]
        finally:
            service.stop()


@pytest.fixture
def service(tmp_path):
    proc = ServiceProcess(["sim:G1?accel=50&seed=%d" % SEED],
                          "sqlite:///%s" % (tmp_path / "seq.sqlite"), tmp_path).start()
    yield proc
    proc.stop()


def test_jvl_lifetime_with_checkups_jvl_runs_in_order_and_sees_the_pixel_age(service):
    posted = _post(service.url, dict(SEQUENCE, rig="rig1"))
    assert posted.status_code == 201, posted.text
    sequence = _until_ended(service.url, posted.json()["id"], 240)
    assert sequence["state"] == "completed", sequence
    before, stress, after = sequence["steps"]
    assert [s["state"] for s in sequence["steps"]] == ["completed"] * 3
    checkups = [_run(service.url, run_id) for run_id in stress["checkups"]]
    # every 120 s of stress to T50 (~630 s): 5, one at 0.8 (~150 s), one at 0.5 (the end)
    assert len(checkups) >= 6
    assert before["run_id"] < stress["run_id"] < min(stress["checkups"])
    assert max(stress["checkups"]) < after["run_id"]
    assert all(c["state"] == "completed" and c["checkup_of"] == stress["run_id"]
               and c["sequence_id"] == sequence["id"] for c in checkups)

    stress_run = _run(service.url, stress["run_id"])
    paused = [e for e in stress_run["events"] if e["name"] == "paused"]
    resumed = [e for e in stress_run["events"] if e["name"] == "resumed"]
    assert len(paused) == len(resumed) == len(checkups) - 1  # the last follows the stop
    clock = _check_stress_clock(service.url, stress["run_id"], STRESS["sample_period_s"])
    # T50 on stress time: the check-ups are short (5 steps of 0.2 s) and do not count.
    t50_s = stress_run["summary"]["t50_s"]
    assert t50_s == pytest.approx(_plain_t50_s(), rel=0.05), clock
    # The check-ups see the pixel age: current efficiency falls from one to the next.
    ce = [c["summary"]["ce_max_cd_a"] for c in checkups]
    assert all(b <= a * 1.02 for a, b in zip(ce, ce[1:])), ce
    first = _run(service.url, before["run_id"])["summary"]
    last = _run(service.url, after["run_id"])["summary"]
    assert last["ce_max_cd_a"] < 0.8 * first["ce_max_cd_a"]


def test_a_request_is_refused_whole_naming_the_step_and_field(service):
    bad_stress = {"kind": "lifetime", "params": dict(STRESS, voltage_v=99.0)}
    above = {"kind": "lifetime", "params": STRESS, "checkups": {
        "every_s": 60, "step": {"kind": "jvl", "params": dict(CHECKUP_SWEEP, stop_v=12.0)}}}
    for steps, where, words in (
            ([{"kind": "jvl", "params": SWEEP}, bad_stress],
             "steps.1.lifetime.params.voltage_v", "less than or equal"),
            ([above], "steps.0.lifetime", "above the stress voltage"),
            ([{"kind": "wait", "duration_s": -1}], "steps.0.wait.duration_s", "greater than"),
            ([{"kind": "soak"}], "steps.0", "kind")):
        response = _post(service.url, {"rig": "rig1", "steps": steps})
        assert response.status_code == 422, response.text
        problems = response.json()["errors"]
        assert any(p["where"].endswith(where) and words in p["message"] for p in problems), (
            where, problems)
    assert httpx.get(service.url + "/api/sequences", timeout=60).json()["sequences"] == []
    assert httpx.get(service.url + "/api/runs", timeout=60).json()["runs"] == []
    # Above the stress is allowed when asked for; another sequence on a busy rig is a 409.
    above["checkups"]["allow_above_stress"] = True
    first = _post(service.url, {"rig": "rig1", "steps": [above]})
    assert first.status_code == 201, first.text
    second = _post(service.url, {"rig": "rig1", "steps": [{"kind": "jvl"}]})
    assert second.status_code == 409 and "sequence %d" % first.json()["id"] in second.text
    aborted = httpx.post("%s/api/sequences/%d/abort" % (service.url, first.json()["id"]),
                         headers=AUTH, timeout=60)
    assert aborted.status_code == 200 and aborted.json()["state"] == "aborted", aborted.text
    runs = aborted.json()["runs"]
    assert runs and all(r["state"] in ("aborted", "completed") for r in runs), runs


def test_a_host_killed_in_a_checkup_and_a_device_reset_in_the_stress_lose_nothing(tmp_path):
    """The rig is its own process (it outlives the service) and is reset at 60 s of lit
    time, inside the stress; the service is SIGKILLed while a check-up runs. (SQLite only:
    a restart's adoption on PostgreSQL is test_reliability_restart's.)"""
    store_url = "sqlite:///%s" % (tmp_path / "seq.sqlite")
    sim = SimProcess(tmp_path / "sim.log", 50, seed=SEED, faults="reset=lit:60s")
    sim.start()
    data = tmp_path / "data"
    data.mkdir()
    service = ServiceProcess(["rig1=" + sim.port], store_url, data)
    try:
        from hil_sim.optics import calibration

        service.start()
        put = httpx.put(service.url + "/api/rigs/rig1/calibration", headers=AUTH, timeout=30,
                        json=calibration("G1").model_dump(mode="json"))
        assert put.status_code == 200, put.text
        stress_step = dict(SEQUENCE["steps"][1], checkups=dict(
            SEQUENCE["steps"][1]["checkups"], step={"kind": "jvl", "params": SLOW_CHECKUP_SWEEP}))
        posted = _post(service.url, dict(SEQUENCE, rig="rig1", steps=[
            SEQUENCE["steps"][0], stress_step, SEQUENCE["steps"][2]]))
        assert posted.status_code == 201, posted.text
        sequence_id = posted.json()["id"]

        def in_checkup() -> bool:
            sequence = _sequence(service.url, sequence_id)
            running = [r for r in sequence["runs"] if r["checkup_of"] and r["state"] == "running"]
            return sequence["phase"] == "checkup" and bool(running)
        wait_for(in_checkup, 120, "a check-up to run", interval_s=0.05)
        service.kill()
        assert sim.alive()
        time.sleep(1.0)  # the check-up goes on (or ends) on the rig meanwhile
        service.start()
        sequence = _until_ended(service.url, sequence_id, 300)
        assert sequence["state"] == "completed", sequence
        stress_id = sequence["steps"][1]["run_id"]
        stress_run = _run(service.url, stress_id)
        assert stress_run["state"] == "completed"
        assert any(e["name"] == "resumed" and "reset" in e["text"]
                   for e in stress_run["events"]), "the reset was resumed"
        _check_stress_clock(service.url, stress_id, STRESS["sample_period_s"])
        lost = sum(e["data"].get("lost_at_least", 0) or
                   (e["data"].get("to_seq", -1) - e["data"].get("from_seq", 0) + 1)
                   for e in stress_run["events"] if e["name"] == "samples_lost")
        assert lost <= 8, "at most the batch the reset destroyed"
        checkups = [r for r in sequence["runs"] if r["checkup_of"] == stress_id]
        assert checkups and all(r["state"] == "completed" for r in checkups), checkups
        assert stress_run["summary"]["t50_s"] == pytest.approx(630, rel=0.05)
    finally:
        service.stop()
        sim.stop()
