"""Races, poison and storage errors leave the service sound: one start per rig, aborts that
win, ingest that survives a run it cannot store, and a store that cannot keep the service
down (real services, real simulated boards, bounded loops on loopback)."""

import asyncio
import os
import signal
import sqlite3
import threading

import httpx
import pytest

from hil_sim.launcher import SimRig
from hil_sim.optics import calibration
from host.store import Store
from tests.support.service_proc import AUTH, ServiceProcess, wait_for

pytestmark = pytest.mark.micropython

LONG_LIFETIME = {"voltage_v": 10.0, "sample_period_s": 1.0}
SHORT_LIFETIME = {"voltage_v": 10.0, "sample_period_s": 1.0, "max_duration_s": 20}
FINAL = ("completed", "aborted", "failed")


def _run(url: str, run_id: int) -> dict:
    return httpx.get("%s/api/runs/%d" % (url, run_id), timeout=60).json()


def _ended(url: str, run_id: int, timeout_s: float = 60) -> dict:
    return wait_for(lambda: (lambda r: r if r["state"] in FINAL else None)(_run(url, run_id)),
                    timeout_s, "run %d to end" % run_id)


def _seqs(url: str, run_id: int) -> list[int]:
    rows = httpx.get("%s/api/runs/%d/samples" % (url, run_id), timeout=60).json()["rows"]
    return [row[0] for row in rows]


async def _together(url: str, method: str, paths: list[str], body: dict | None = None):
    async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=120) as client:
        return await asyncio.gather(*(client.request(method, path, json=body)
                                      for path in paths))


@pytest.fixture
def service(tmp_path):
    proc = ServiceProcess(["sim:G1?accel=20&seed=3"], "sqlite:///%s" % (tmp_path / "s.sqlite"),
                          tmp_path).start()
    yield proc
    proc.stop()


def test_concurrent_starts_give_one_run_and_concurrent_aborts_one_aborted(service):
    body = {"kind": "lifetime", "rig": "rig1", "params": LONG_LIFETIME}
    for round_ in range(20):
        answers = asyncio.run(_together(service.url, "POST", ["/api/runs"] * 20, body))
        started = [a.json() for a in answers if a.status_code == 201]
        assert len(started) == 1, [a.text for a in answers]
        assert sorted(a.status_code for a in answers) == [201] + [409] * 19
        run_id = started[0]["id"]
        runs = httpx.get(service.url + "/api/runs", timeout=60).json()["runs"]
        assert [r["id"] for r in runs][0] == run_id == round_ + 1, "no record from a 409"
        assert httpx.get(service.url + "/api/rigs/rig1", timeout=60).json()["active_run"] \
            == run_id
        aborts = asyncio.run(_together(service.url, "POST",
                                       ["/api/runs/%d/abort" % run_id] * (2 + 3 * (round_ % 2))))
        assert all(a.status_code in (200, 409) for a in aborts), [a.text for a in aborts]
        ok = [a.json() for a in aborts if a.status_code == 200]
        assert ok and all(r["state"] == "aborted" for r in ok), "every caller sees the end"
        assert _run(service.url, run_id)["state"] == "aborted"
    assert len(httpx.get(service.url + "/api/runs", timeout=60).json()["runs"]) == 20


def test_a_run_whose_samples_cannot_be_stored_fails_and_the_next_one_stores_all(service):
    database = service.db_url[len("sqlite:///"):]
    with sqlite3.connect(database) as conn:  # the disk refuses run 1's samples
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON samples WHEN NEW.run_id = 1 "
                     "BEGIN SELECT RAISE(ABORT, 'the disk says no'); END")
    posted = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=60, json={
        "kind": "lifetime", "rig": "rig1", "params": SHORT_LIFETIME})
    assert posted.status_code == 201, posted.text
    failed = _ended(service.url, 1)
    assert failed["state"] == "failed" and "the disk says no" in failed["error"]
    health = httpx.get(service.url + "/api/health", timeout=60).json()
    assert health["status"] == "degraded" and "the disk says no" in health["ingest_errors"]["rig1"]
    device = httpx.get(service.url + "/api/rigs/rig1", timeout=60).json()["device"]
    assert device["state"] != "running", "the board does not stress a device nobody records"

    with sqlite3.connect(database) as conn:
        conn.execute("DROP TRIGGER refuse")
    posted = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=60, json={
        "kind": "lifetime", "rig": "rig1", "params": SHORT_LIFETIME})
    assert posted.status_code == 201, posted.text
    done = _ended(service.url, 2)
    assert done["state"] == "completed", done["error"]
    seqs = _seqs(service.url, 2)
    assert seqs == list(range(len(seqs))) and len(seqs) >= 20
    health = httpx.get(service.url + "/api/health", timeout=60).json()
    assert health["status"] == "ok" and health["ingest_errors"] == {}


def test_a_damaged_store_does_not_keep_the_service_from_starting(tmp_path):
    url = "sqlite:///%s" % (tmp_path / "damaged.sqlite")
    with Store(url) as store:
        store.upsert_rig("gone", "sim:G2")
        store.create_run("gone", "jvl", {})  # queued on a rig no longer served
        store.upsert_rig("rig1", "sim:G1")
        damaged = calibration("G1").model_dump(mode="json")
        damaged["pixel_area_mm2"] = 5e-324
        store.set_calibration("rig1", damaged)
        store.create_run("rig1", "lifetime", {"voltage_v": "ten"}, run_key=77)  # unreadable
    service = ServiceProcess(["sim:G1?accel=20&seed=3"], url, tmp_path).start()
    try:
        runs = {r["id"]: r for r in httpx.get(service.url + "/api/runs", timeout=60).json()["runs"]}
        assert runs[1]["state"] == "failed" and "not served" in runs[1]["error"]
        assert runs[2]["state"] == "failed" and "could not follow" in runs[2]["error"]
        rig = httpx.get(service.url + "/api/rigs/rig1", timeout=60).json()
        assert "pixel_area_mm2" in rig["calibration_error"]
        body = {"kind": "lifetime", "rig": "rig1", "params": SHORT_LIFETIME}
        refused = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=60, json=body)
        assert refused.status_code == 409 and "calibration" in refused.text
        assert len(httpx.get(service.url + "/api/runs", timeout=60).json()["runs"]) == 2
        httpx.put(service.url + "/api/rigs/rig1/calibration", headers=AUTH, timeout=30,
                  json=calibration("G1").model_dump(mode="json")).raise_for_status()
        posted = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=60, json=body)
        assert posted.status_code == 201, posted.text
        assert _ended(service.url, posted.json()["id"])["state"] == "completed"
    finally:
        service.stop()


def test_an_abort_during_an_unanswered_start_stops_what_the_board_then_starts(tmp_path):
    with SimRig("G1", accel=20, seed=3) as sim:
        service = ServiceProcess(["rig1=" + sim.port], "sqlite:///%s" % (tmp_path / "a.sqlite"),
                                 tmp_path).start()
        try:
            httpx.put(service.url + "/api/rigs/rig1/calibration", headers=AUTH, timeout=30,
                      json=calibration("G1").model_dump(mode="json")).raise_for_status()
            os.kill(sim.pid, signal.SIGSTOP)  # the firmware is slow to answer
            answers: dict = {}

            def start():
                answers["start"] = httpx.post(service.url + "/api/runs", headers=AUTH,
                                              timeout=120, json={"kind": "lifetime",
                                                                 "rig": "rig1",
                                                                 "params": LONG_LIFETIME})

            starter = threading.Thread(target=start)
            starter.start()
            wait_for(lambda: httpx.get(service.url + "/api/runs", timeout=60).json()["runs"], 30,
                     "the run record")
            aborter = threading.Thread(target=lambda: answers.update(abort=httpx.post(
                service.url + "/api/runs/1/abort", headers=AUTH, timeout=120)))
            aborter.start()
            wait_for(lambda: [e for e in _run(service.url, 1)["events"]
                              if e["name"] == "abort_requested"], 30, "the abort to be taken")
            os.kill(sim.pid, signal.SIGCONT)  # the board takes the START_RUN now
            starter.join(90)
            aborter.join(90)
            assert answers["start"].status_code == 201, answers["start"].text
            assert answers["abort"].status_code == 200, answers["abort"].text
            final = _ended(service.url, 1)
            assert final["state"] == "aborted" and answers["abort"].json()["state"] == "aborted"
            seqs = _seqs(service.url, 1)
            assert seqs == list(range(len(seqs)))
            # The board's count comes with its next heartbeat: every sample it took is stored.
            wait_for(lambda: (lambda d: d["state"] != "running" and d["next_seq"] == len(seqs))(
                httpx.get(service.url + "/api/rigs/rig1", timeout=60).json()["device"]), 30,
                "the board to be stopped with every sample stored")
            assert httpx.get(service.url + "/api/rigs/rig1", timeout=60).json()[
                "active_run"] is None
        finally:
            if sim.pid:
                os.kill(sim.pid, signal.SIGCONT)
            service.stop()
