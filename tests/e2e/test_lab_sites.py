"""A lab on one PostgreSQL database, with real services: each lists every rig of the lab with
the site serving it, a rig or site name held by an online service is refused to another,
a killed site goes offline within 15 s and comes back under the same names."""

import os
import subprocess

import httpx
import pytest

from tests.support.service_proc import AUTH, LUMENRIG, TOKEN, ServiceProcess, wait_for

pytestmark = [pytest.mark.micropython, pytest.mark.postgres]

G1 = "labG1=sim:G1?accel=20&seed=1"


def _rigs(service: ServiceProcess) -> dict[str, dict]:
    answer = httpx.get(service.url + "/api/rigs", headers=AUTH, timeout=10)
    assert answer.status_code == 200, answer.text
    return {rig["name"]: rig for rig in answer.json()}


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
    for folder in "abc":
        (tmp_path / folder).mkdir()
    bench = ServiceProcess([G1], pg_url, tmp_path / "a", env={"LUMENRIG_SITE": "bench-a"})
    office = ServiceProcess([], pg_url, tmp_path / "c", env={"LUMENRIG_SITE": "office"})
    bench.start()
    office.start()
    try:
        # The office serves no rig and shows the bench's, as the bench last wrote it.
        seen = wait_for(lambda: (r := _rigs(office).get("labG1")) and r["connected"] and r,
                        30, "the bench's rig on the office's list")
        assert (seen["site"], seen["online"], seen["remote"]) == ("bench-a", True, True)
        assert seen["simulated"] and seen["board_id"]
        own = _rigs(bench)["labG1"]
        assert (own["site"], own["remote"], own["board_id"]) == ("bench-a", False,
                                                                 seen["board_id"])
        sites = httpx.get(office.url + "/api/sites", headers=AUTH, timeout=10).json()
        assert {s["name"]: s["online"] for s in sites} == {"bench-a": True, "office": True}
        # Control stays with the site that serves the rig, and says where that is.
        refused = httpx.post(office.url + "/api/rigs/labG1/selftest", headers=AUTH, timeout=10)
        assert refused.status_code == 409 and "site bench-a" in refused.json()["detail"]

        # A rig name and a site name are each held by one online service.
        clash = _serve(pg_url, tmp_path / "b", "bench-b", "labG1=sim:film?accel=20")
        assert clash.returncode == 2
        assert "rig 'labG1' is served by site 'bench-a' (online)" in clash.stderr
        twin = _serve(pg_url, tmp_path / "b", "bench-a")
        assert twin.returncode == 2 and "site 'bench-a' is online" in twin.stderr

        # Killed without a word: offline on every service within 15 s of its last heartbeat.
        bench.kill()
        gone = wait_for(lambda: not (r := _rigs(office)["labG1"])["online"] and r, 30,
                        "the killed site's rig to show offline")
        assert not gone["connected"] and gone["site"] == "bench-a"
        # Started again: the same names, online.
        bench.start()
        back = wait_for(lambda: (r := _rigs(office)["labG1"])["online"] and r["connected"]
                        and r, 30, "the rig back online")
        assert back["site"] == "bench-a" and back["board_id"]  # (a new simulated board)
    finally:
        bench.stop()
        office.stop()
