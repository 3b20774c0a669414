"""A lab on one PostgreSQL database, with real services: each lists every rig of the lab with
the site serving it, a rig or site name held by an online service is refused to another,
a killed site goes offline within 15 s and comes back under the same names."""

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from host.store import Store
from tests.support.service_proc import (
    AUTH,
    LUMENRIG,
    TOKEN,
    ServiceProcess,
    SimProcess,
    follow_stream,
    wait_for,
)

pytestmark = [pytest.mark.micropython, pytest.mark.postgres]

ACCEL = 20  # a 20 s outage is 400 samples: within what the board's ring holds
LIFETIME = {"kind": "lifetime", "rig": "labG1",
            "params": {"voltage_v": 10.0, "sample_period_s": 1.0}}


def _rigs(service: ServiceProcess) -> dict[str, dict]:
    answer = httpx.get(service.url + "/api/rigs", headers=AUTH, timeout=60)
    assert answer.status_code == 200, answer.text
    return {rig["name"]: rig for rig in answer.json()}


def _post(service: ServiceProcess, path: str, body: dict | None = None) -> httpx.Response:
    return httpx.post(service.url + path, json=body, headers=AUTH, timeout=60)


def _run(service: ServiceProcess, run_id: int) -> dict:
    return httpx.get(service.url + "/api/runs/%d" % run_id, headers=AUTH, timeout=60).json()


def _serve(db_url: str, data_dir, site: str, *rigs: str) -> subprocess.CompletedProcess:
    """`lumenrig serve` that is expected to refuse to start: its exit and output."""
    argv = [str(LUMENRIG), "serve", "--db", db_url, "--site", site, "--port", "1",
            "--data-dir", str(data_dir)]
    for rig in rigs:
        argv += ["--rig", rig]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, LUMENRIG_TOKEN=TOKEN))


def test_every_service_sees_the_labs_rigs_and_names_are_held_by_one_online_site(pg_url,
                                                                                tmp_path):
    """The bench serves a G1 (its simulator apart, so the device outlives a killed service);
    the office serves nothing, sees it, drives it; a killed bench is offline for the office
    within 15 s, and a run going when it was killed is whole once the bench is back."""
    for folder in "abc":
        (tmp_path / folder).mkdir()
    sim = SimProcess(tmp_path / "sim.log", ACCEL, seed=1).start()
    bench = ServiceProcess(["labG1=" + sim.port], pg_url, tmp_path / "a",
                           env={"LUMENRIG_SITE": "bench-a"})
    office = ServiceProcess([], pg_url, tmp_path / "c", env={"LUMENRIG_SITE": "office"})
    bench.start()
    office.start()
    try:
        from hil_sim.optics import calibration

        put = httpx.put(bench.url + "/api/rigs/labG1/calibration", headers=AUTH, timeout=30,
                        json=calibration("G1").model_dump(mode="json"))
        assert put.status_code == 200, put.text
        # The office serves no rig and shows the bench's, as the bench last wrote it.
        seen = wait_for(lambda: (r := _rigs(office).get("labG1")) and r["connected"] and r,
                        30, "the bench's rig on the office's list")
        assert (seen["site"], seen["online"], seen["remote"]) == ("bench-a", True, True)
        assert seen["board_id"]
        own = _rigs(bench)["labG1"]
        assert (own["site"], own["remote"], own["board_id"]) == ("bench-a", False,
                                                                 seen["board_id"])
        sites = httpx.get(office.url + "/api/sites", headers=AUTH, timeout=60).json()
        assert {s["name"]: s["online"] for s in sites} == {"bench-a": True, "office": True}
        listed = subprocess.run([str(LUMENRIG), "lab", "--server", office.url], text=True,
                                capture_output=True, timeout=30,
                                env=dict(os.environ, LUMENRIG_TOKEN=TOKEN))
        assert listed.returncode == 0, listed.stderr
        bench_line = next(line for line in listed.stdout.splitlines() if "bench-a" in line)
        assert "online" in bench_line and "labG1" in bench_line, listed.stdout
        # What only the serving site can do says where that is.
        refused = httpx.post(office.url + "/api/rigs/labG1/selftest", headers=AUTH, timeout=60)
        assert refused.status_code == 409 and "site bench-a" in refused.json()["detail"]

        # Started and aborted from the office: the bench carries it out, its answer relayed.
        started = _post(office, "/api/runs", LIFETIME)
        assert started.status_code == 201, started.text
        run = started.json()
        assert (run["rig"], run["kind"], run["state"]) == ("labG1", "lifetime", "running")
        busy = _post(office, "/api/runs", LIFETIME)
        assert busy.status_code == 409 and "busy with run %d" % run["id"] in busy.text
        wait_for(lambda: _run(bench, run["id"])["progress"] > 0, 60, "the run to measure")
        aborted = _post(office, "/api/runs/%d/abort" % run["id"])
        assert aborted.status_code == 200, aborted.text
        assert aborted.json()["state"] == "aborted" == _run(bench, run["id"])["state"]
        refused = _post(office, "/api/runs", dict(LIFETIME, params={"voltage_v": 99.0}))
        assert refused.status_code == 422  # checked where it is asked, as on the bench

        # A rig name and a site name are each held by one online service.
        clash = _serve(pg_url, tmp_path / "b", "bench-b", "labG1=sim:film?accel=20")
        assert clash.returncode == 2
        assert "rig 'labG1' is served by site 'bench-a' (online)" in clash.stderr
        twin = _serve(pg_url, tmp_path / "b", "bench-a")
        assert twin.returncode == 2 and "site 'bench-a' is online" in twin.stderr

        # A run going when the bench is killed without a word: offline on every service
        # within 15 s of its last heartbeat, and nothing lost once it is back.
        run_id = _post(office, "/api/runs", LIFETIME).json()["id"]
        wait_for(lambda: len(_stored_seqs(office, run_id)) >= 20, 60, "samples before the kill")
        bench.kill()
        assert sim.alive(), "the device outlives its service"
        gone = wait_for(lambda: not (r := _rigs(office)["labG1"])["online"] and r, 30,
                        "the killed site's rig to show offline")
        assert not gone["connected"] and gone["site"] == "bench-a"
        offline = _post(office, "/api/runs", LIFETIME)
        assert offline.status_code == 503, offline.text
        assert "site bench-a" in offline.text and "offline" in offline.text
        bench.start()  # at once: its killed process is known gone, the site is its own
        back = wait_for(lambda: (r := _rigs(office)["labG1"])["online"] and r["connected"]
                        and r, 30, "the rig back online")
        assert back["site"] == "bench-a" and back["board_id"] == seen["board_id"]
        final = wait_for(lambda: (r := _run(office, run_id))["state"] not in (
            "queued", "running") and r, 120, "the run to end")
        assert final["state"] == "completed", final.get("error")
        seqs = _stored_seqs(office, run_id)
        assert seqs == list(range(len(seqs))), "every seq exactly once"
        assert not [e for e in final["events"] if e["name"] == "samples_lost"]
    finally:
        bench.stop()
        office.stop()
        sim.stop()


def _stored_seqs(service: ServiceProcess, run_id: int) -> list[int]:
    answer = httpx.get(service.url + "/api/runs/%d/samples" % run_id, headers=AUTH, timeout=30)
    return [row[0] for row in answer.json()["rows"]]


def test_a_viewer_runs_both_sites_rigs_and_streams_every_sample_they_store(pg_url, tmp_path):
    """A serves a G1, B a film, C nothing: C starts a lifetime on A's rig and a
    photostability on B's, its live streams of both carry every stored sample once, in
    order, and A, B and C return the same run records."""
    for folder in "abc":
        (tmp_path / folder).mkdir()
    sites = [ServiceProcess([rig], pg_url, tmp_path / folder, env={"LUMENRIG_SITE": name})
             for rig, folder, name in (("A-G1=sim:G1?accel=50&seed=2", "a", "site-a"),
                                       ("B-film=sim:film?accel=100&seed=3", "b", "site-b"))]
    viewer = ServiceProcess([], pg_url, tmp_path / "c", env={"LUMENRIG_SITE": "site-c"})
    try:
        for service in (*sites, viewer):
            service.start()
        wait_for(lambda: all(r["connected"] for r in _rigs(viewer).values())
                 and len(_rigs(viewer)) == 2, 30, "both rigs on the viewer's list")
        def start_and_follow(body: dict) -> tuple[int, dict]:
            started = _post(viewer, "/api/runs", body)
            assert started.status_code == 201, started.text
            run_id = started.json()["id"]
            return run_id, follow_stream(viewer.url, run_id, timeout_s=120)

        with ThreadPoolExecutor(2) as pool:
            followed = list(pool.map(start_and_follow, (
                {"kind": "lifetime", "rig": "A-G1", "params": {"voltage_v": 10.0,
                                                               "max_duration_s": 600}},
                {"kind": "photostability", "rig": "B-film",
                 "params": {"duration_s": 600, "pl_interval_s": 300,
                            "sample_period_s": 10}})))
        ids = [run_id for run_id, _ in followed]
        for run_id, stream in followed:
            assert stream["final"]["state"] == "completed", stream["final"]
            stored = _stored_seqs(viewer, run_id)
            got = stream["seqs"]
            assert got == sorted(set(got)), "each sample once, in order"
            # From the first it carried (those before it were stored before the stream was
            # asked for: a client reads them from /samples; how many depends on how busy the
            # machine is) every stored sample.
            assert got and got == stored[stored.index(got[0]):], got[:5]
        records = [[_run(service, i) for i in ids] for service in (*sites, viewer)]
        for one in records:
            for run in one:
                del run["events"]  # (their `text` may word times in the service's zone)
        assert records[0] == records[1] == records[2]
    finally:
        for service in (*sites, viewer):
            service.stop()


def test_a_board_keeps_its_lab_name_on_another_computer(pg_url, tmp_path):
    """A board served as `keeper` by one site, then plugged into another site's computer
    and served there with no name: the rig is `keeper` again from its first connection."""
    for folder in "ab":
        (tmp_path / folder).mkdir()
    sim = SimProcess(tmp_path / "sim.log", ACCEL, seed=3).start()
    try:
        first = ServiceProcess(["keeper=" + sim.port], pg_url, tmp_path / "a",
                               env={"LUMENRIG_SITE": "bench-a"}).start()
        board = _rigs(first)["keeper"]["board_id"]
        first.stop()
        second = ServiceProcess([sim.port], pg_url, tmp_path / "b",
                                env={"LUMENRIG_SITE": "bench-b"}).start()
        try:
            rig = wait_for(lambda: _rigs(second).get("keeper"), 30, "the lab's name")
            assert (rig["board_id"], rig["remote"], rig["site"]) == (board, False, "bench-b")
            assert "bench-b.rig1" not in _rigs(second)
            with Store(pg_url) as store:
                named = [e for e in store.list_events(rig="keeper") if e.name == "board_named"]
            assert len(named) == 1 and named[0].data == {"board_id": board,
                                                         "was": "bench-b.rig1"}
        finally:
            second.stop()
    finally:
        sim.stop()
