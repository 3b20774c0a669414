"""Host crash: SIGKILL the service mid-run, start it again, and the run ends whole.

The simulated rig runs as its own process (`lumenrig sim`, own session), so killing the
service leaves the device running the run on its own (host_loss_grace_s 60 covers the
restart). The restarted service adopts the unfinished run from the database, reattaches
when HELLO_ACK shows it still running, fetches what it missed with RESEND and finishes it.
Checked on SQLite and on PostgreSQL: every seq stored once, nothing lost, the database
consistent. The rig keeps the Pico's 512-sample ring: at accel 20 with one sample per device
second a restart of up to ~25 s of wall time fits in it. Figures go to
test-artifacts/reliability-restart-<db>.json.
"""

import json
import os
import signal
import time

import httpx
import pytest

from host.store import Store
from tests.support.paths import ARTIFACTS
from tests.support.service_proc import AUTH, ServiceProcess, SimProcess, rig_after_the_end, wait_for

pytestmark = pytest.mark.micropython

ACCEL = 20
# G1 at 10 V until half its L0: T50 630 s, about 32 s of wall time at accel 20.
PARAMS = {"voltage_v": 10.0, "stop_fraction": 0.5, "sample_period_s": 1.0,
          "host_loss_grace_s": 60}
KILL_AFTER_SAMPLES = 120


def _run(url: str, run_id: int) -> dict:
    return httpx.get("%s/api/runs/%d" % (url, run_id), timeout=60).json()


def _stored(url: str, run_id: int) -> list[int]:
    rows = httpx.get("%s/api/runs/%d/samples" % (url, run_id), timeout=60).json()["rows"]
    return [row[0] for row in rows]


def _database_consistent(db_url: str, run_id: int, seqs: list[int]) -> dict:
    """What the store itself says of the run, beside what the API served."""
    with Store(db_url) as store:
        cols = store.read_samples(run_id, columns=("t_s",))
        figures = {"rows": int(store.sample_count(run_id)), "max_seq": store.max_seq(run_id),
                   "state": store.get_run(run_id).state}
        assert list(cols["seq"]) == seqs
        assert (cols["t_s"][1:] > cols["t_s"][:-1]).all(), "run time rises with seq"
    if db_url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(db_url[len("sqlite:///"):]) as conn:
            figures["integrity"] = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return figures


def test_a_run_survives_a_sigkilled_service_and_ends_whole(store_url, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    sim = SimProcess(tmp_path / "sim.log", ACCEL, seed=5).start()
    service = ServiceProcess(["rig1=" + sim.port], store_url, data)
    try:
        from hil_sim.optics import calibration

        service.start()
        put = httpx.put(service.url + "/api/rigs/rig1/calibration", headers=AUTH, timeout=30,
                        json=calibration("G1").model_dump(mode="json"))
        assert put.status_code == 200, put.text
        posted = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=60, json={
            "kind": "lifetime", "rig": "rig1", "params": PARAMS})
        assert posted.status_code == 201, posted.text
        run_id = posted.json()["id"]
        wait_for(lambda: len(_stored(service.url, run_id)) >= KILL_AFTER_SAMPLES, 60,
                 "samples to be stored before the kill", interval_s=0.2)

        service.kill()  # SIGKILL, mid-stream: no shutdown code runs
        killed_at = time.monotonic()
        assert sim.alive(), "the device outlives the host"
        service.start()
        restarted_s = time.monotonic() - killed_at
        resumed = wait_for(lambda: [e for e in _run(service.url, run_id)["events"]
                                    if e["name"] == "reattached"], 30, "the reattach")
        reattached_s = time.monotonic() - killed_at
        final = wait_for(lambda: (lambda r: r if r["state"] not in ("queued", "running")
                                  else None)(_run(service.url, run_id)),
                         90, "the run to end")
        assert final["state"] == "completed", final.get("error")
        assert final["summary"]["stop_reason"] == "luminance_fraction"
        assert final["summary"]["t50_s"] == pytest.approx(630, rel=0.02)

        seqs = _stored(service.url, run_id)
        assert seqs == list(range(len(seqs))), "every seq exactly once"
        rig = rig_after_the_end(service.url, len(seqs))
        assert rig["device"]["next_seq"] == len(seqs), "nothing the device took is missing"
        assert not [e for e in final["events"] if e["name"] == "samples_lost"]
        resent = [e for e in final["events"] if e["name"] == "resent"]
        assert resent, "what the host missed while down came by RESEND"
        service.stop()
        database = _database_consistent(store_url, run_id, seqs)
        assert database["rows"] == len(seqs)
        assert database["state"] == "completed"
        assert database.get("integrity", "ok") == "ok"

        figures = {
            "db": store_url.split(":")[0], "accel": ACCEL,
            "service_restart_s": round(restarted_s, 1),
            "kill_to_reattach_s": round(reattached_s, 1),
            "reattached_at_seq": int(resumed[0]["message"].rsplit(" ", 1)[-1]),
            "samples_stored": len(seqs), "device_next_seq": rig["device"]["next_seq"],
            "samples_resent_after_restart": rig["link"]["samples_resent"],
            "t50_s": final["summary"]["t50_s"], "database": database,
        }
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / ("reliability-restart-%s.json" % figures["db"])).write_text(
            json.dumps(figures, indent=1))
        print("restart figures:", json.dumps(figures))
    finally:
        service.stop()
        sim.stop()
        if sim.alive():
            os.killpg(sim.proc.pid, signal.SIGKILL)
