"""Run identity end to end: a run's data is filed under that run alone, whatever database,
service or board sits behind a port (real services, simulated boards kept alive across
them on their own ptys)."""

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hil_sim.launcher import SimRig
from hil_sim.optics import calibration
from host.link import RigLink
from tests.support.pgscratch import temporary_pg_schema
from tests.support.service_proc import AUTH, LUMENRIG, TOKEN, ServiceProcess, wait_for

pytestmark = pytest.mark.micropython

ACCEL = 20
SWEEP = {"start_v": 2.0, "stop_v": 6.0, "step_v": 0.5, "dwell_s": 0.5}
# Long enough never to end by itself while a test looks at it (T50 630 s at 10 V).
LONG_LIFETIME = {"voltage_v": 10.0, "sample_period_s": 1.0, "host_loss_grace_s": 60}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_databases(request, tmp_path) -> Iterator[tuple[str, str]]:
    """Two fresh, unrelated databases of one kind: two labs' services, or a new install."""
    if request.param == "sqlite":
        yield ("sqlite:///%s" % (tmp_path / "a.sqlite"), "sqlite:///%s" % (tmp_path / "b.sqlite"))
        return
    base = request.getfixturevalue("pg_base_url")
    with temporary_pg_schema(base) as first, temporary_pg_schema(base) as second:
        yield first, second


@contextlib.contextmanager
def _service(port: str, db_url: str, data: Path) -> Iterator[ServiceProcess]:
    data.mkdir(exist_ok=True)
    service = ServiceProcess(["rig1=" + port], db_url, data)
    try:
        service.start()
        put = httpx.put(service.url + "/api/rigs/rig1/calibration", headers=AUTH, timeout=30,
                        json=calibration("G1").model_dump(mode="json"))
        assert put.status_code == 200, put.text
        yield service
    finally:
        service.stop()


def _post(url: str, path: str, body: dict | None = None) -> httpx.Response:
    return httpx.post(url + path, headers=AUTH, timeout=60, json=body)


def _start(url: str, kind: str, params: dict) -> dict:
    posted = _post(url, "/api/runs", {"kind": kind, "rig": "rig1", "params": params})
    assert posted.status_code == 201, posted.text
    return posted.json()


def _run(url: str, run_id: int) -> dict:
    return httpx.get("%s/api/runs/%d" % (url, run_id), timeout=60).json()


def _rig(url: str) -> dict:
    return httpx.get(url + "/api/rigs/rig1", timeout=60).json()


def _count(url: str, run_id: int) -> int:
    return len(_samples(url, run_id)["seq"])


def _ended(url: str, run_id: int, timeout_s: float = 90) -> dict:
    return wait_for(lambda: (lambda r: r if r["state"] in ("completed", "aborted", "failed")
                             else None)(_run(url, run_id)), timeout_s, "run %d to end" % run_id)


def _samples(url: str, run_id: int) -> dict[str, list]:
    body = httpx.get("%s/api/runs/%d/samples" % (url, run_id), timeout=60).json()
    return {name: [row[i] for row in body["rows"]] for i, name in enumerate(body["columns"])}


def test_a_service_on_a_fresh_database_sweeps_instead_of_adopting_the_boards_old_run(
        two_databases, tmp_path):
    first_db, second_db = two_databases
    with SimRig("G1", accel=ACCEL, seed=4) as sim:
        with _service(sim.port, first_db, tmp_path / "a") as first:
            lifetime = _start(first.url, "lifetime", {"voltage_v": 10.0, "max_duration_s": 20})
            lifetime = _ended(first.url, lifetime["id"])
            assert lifetime["state"] == "completed", lifetime["error"]
        with _service(sim.port, second_db, tmp_path / "b") as second:
            # The board still holds the finished lifetime: shown, nothing of it stored.
            orphan = wait_for(lambda: _rig(second.url)["orphan_run"], 30, "the orphan run")
            assert orphan["run_key"] == lifetime["run_key"] and orphan["state"] == "idle"
            sweep = _start(second.url, "jvl", SWEEP)
            assert sweep["id"] == 1 == lifetime["id"], "the numeric ids do repeat"
            sweep = _ended(second.url, sweep["id"])
            assert sweep["state"] == "completed", sweep["error"]
            assert sweep["run_key"] != lifetime["run_key"]
            assert _rig(second.url)["orphan_run"] is None
            samples = _samples(second.url, sweep["id"])
            setpoints = sorted({round(v, 2) for v in samples["setpoint_v"]})
            assert setpoints == [2.0 + 0.5 * i for i in range(9)], "a real sweep, step by step"
            assert max(samples["voltage_v"]) < 6.5, "no sample of the 10 V lifetime"
            assert samples["seq"] == list(range(len(samples["seq"])))
            started = [e for e in sweep["events"] if e["name"] == "run_started"]
            assert [e["data"]["run_key"] for e in started] == [sweep["run_key"]]


def test_two_simulators_of_one_preset_and_seed_are_two_boards():
    with SimRig("G1", seed=4) as a, SimRig("G1", seed=4) as b, \
            RigLink("a", a.port) as link_a, RigLink("b", b.port) as link_b:
        assert link_a.wait_connected(20) and link_b.wait_connected(20)
        assert link_a.board_id != link_b.board_id
        assert link_a.board_id and link_b.board_id


def test_a_port_that_reaches_another_board_does_not_resume_the_run_there(tmp_path):
    port = tmp_path / "rig-port"  # a path the service keeps, like a reused /dev/ttyACM0
    with SimRig("G1", accel=ACCEL, seed=4) as first_board:
        port.symlink_to(first_board.port)
        with _service(str(port), "sqlite:///%s" % (tmp_path / "db.sqlite"),
                      tmp_path / "data") as service:
            run = _start(service.url, "lifetime", LONG_LIFETIME)
            first_id = run["board_id"]
            wait_for(lambda: _count(service.url, run["id"]) >= 10, 30, "samples")
            first_board.stop()  # unplugged
            with SimRig("G1", accel=ACCEL, seed=4) as second_board:
                os.replace(_new_link(tmp_path, second_board.port), port)  # another board
                failed = _ended(service.url, run["id"], 60)
                rig = wait_for(lambda: (lambda r: r if r["board_id"] != first_id else None)(
                    _rig(service.url)), 30, "the second board's handshake")
                assert failed["state"] == "failed"
                assert first_id in failed["error"] and rig["board_id"] in failed["error"]
                assert rig["device"]["state"] == "idle" and rig["device"]["next_seq"] == 0, \
                    "nothing was started on the second board"
                assert rig["active_run"] is None and rig["orphan_run"] is None


def _new_link(folder: Path, target: str) -> Path:
    link = folder / "rig-port.new"
    link.symlink_to(target)
    return link


def _left_running(sim: SimRig, tmp_path: Path, channel: int, samples: int) -> dict:
    """A long lifetime on the board's channel, started by a service that is then killed
    with its database (gone for good): the board runs on (grace 60 s), an orphan to any
    other service. The run as the killed service had it."""
    first = ServiceProcess(["rig1=" + sim.port], "sqlite:///%s" % (tmp_path / "a.sqlite"),
                           tmp_path / "a")
    (tmp_path / "a").mkdir()
    try:
        first.start()
        httpx.put(first.url + "/api/rigs/rig1/calibration", headers=AUTH, timeout=30,
                  json=calibration("G1").model_dump(mode="json")).raise_for_status()
        run = _start_on(first.url, channel)
        wait_for(lambda: _count(first.url, run["id"]) >= samples, 30, "samples")
    finally:
        first.kill()
    return run


def _start_on(url: str, channel: int) -> dict:
    posted = _post(url, "/api/runs", {"kind": "lifetime", "rig": "rig1", "channel": channel,
                                      "params": LONG_LIFETIME})
    assert posted.status_code == 201, posted.text
    return posted.json()


def test_an_orphan_run_is_listed_stopped_and_imported_with_every_sample(tmp_path):
    with SimRig("G1", accel=ACCEL, seed=6) as sim:
        run = _left_running(sim, tmp_path, 0, 20)
        with _service(sim.port, "sqlite:///%s" % (tmp_path / "b.sqlite"),
                      tmp_path / "b") as second:
            orphan = wait_for(lambda: _rig(second.url)["orphan_run"], 30, "the orphan run")
            assert orphan["run_key"] == run["run_key"] and orphan["state"] == "running"
            assert orphan["mode"] == "constant_voltage"
            refused = _post(second.url, "/api/runs", {"kind": "jvl", "rig": "rig1",
                                                      "params": SWEEP})
            assert refused.status_code == 409 and run["run_key"] in refused.text
            assert "orphan/stop" in refused.text
            assert httpx.get(second.url + "/api/runs", timeout=60).json()["runs"] == [], \
                "nothing was stored of the orphan, and no record was left by the refusal"

            stopped = _post(second.url, "/api/rigs/rig1/orphan/stop")
            assert stopped.status_code == 200, stopped.text
            assert stopped.json()["orphan_run"]["state"] == "idle"
            device = wait_for(lambda: (lambda d: d if not d["flags"]["output_on"] else None)(
                _rig(second.url)["device"]), 30, "the output to be off")
            assert device["state"] == "idle"
            held = stopped.json()["orphan_run"]["next_seq"]
            assert held > 10

            imported = _post(second.url, "/api/rigs/rig1/orphan/import")
            assert imported.status_code == 201, imported.text
            record = imported.json()
            assert record["imported"] and record["run_key"] == run["run_key"]
            assert record["kind"] == "lifetime" and record["board_id"] == run["board_id"]
            record = _ended(second.url, record["id"])
            assert record["state"] == "aborted" and record["summary"]["stop_reason"] == \
                "host_abort"
            assert _samples(second.url, record["id"])["seq"] == list(range(held))
            assert _rig(second.url)["orphan_run"] is None


def test_an_orphan_on_channel_2_of_a_card_board_is_stopped_and_imported_there(tmp_path):
    with SimRig("G1", accel=ACCEL, seed=6, channels=3) as sim:
        run = _left_running(sim, tmp_path, 2, 10)
        with _service(sim.port, "sqlite:///%s" % (tmp_path / "b.sqlite"),
                      tmp_path / "b") as second:
            [orphan] = wait_for(lambda: _rig(second.url)["orphan_runs"], 30, "the orphan run")
            assert (orphan["channel"], orphan["run_key"]) == (2, run["run_key"])
            lowest = _rig(second.url)["orphan_run"]  # (its next_seq moves on as it runs)
            assert orphan["state"] == "running" and (lowest["channel"], lowest["run_key"]) == (
                2, run["run_key"])
            followed = _start_on(second.url, 0)  # the other channels take runs meanwhile
            refused = _post(second.url, "/api/runs", {"kind": "jvl", "rig": "rig1",
                                                      "channel": 2, "params": SWEEP})
            assert refused.status_code == 409 and "orphan/stop?channel=2" in refused.text

            stopped = _post(second.url, "/api/rigs/rig1/orphan/stop?channel=2")
            assert stopped.status_code == 200, stopped.text
            assert stopped.json()["orphan_run"]["state"] == "idle"
            wait_for(lambda: [c["state"] for c in _rig(second.url)["device"]["channels"]]
                     == ["running", "idle", "idle"], 30, "channel 2 alone to stop")
            held = stopped.json()["orphan_run"]["next_seq"]

            imported = _post(second.url, "/api/rigs/rig1/orphan/import?channel=2")
            assert imported.status_code == 201, imported.text
            record = imported.json()
            assert record["imported"] and record["channel"] == 2
            assert record["run_key"] == run["run_key"]
            record = _ended(second.url, record["id"])
            assert record["state"] == "aborted"
            # Every sample channel 2's share of the ring still held (170 of a 3-card board's
            # 512: 8.5 s of wall time at x20, which a loaded machine's service restart can
            # take); the older ones are gone from the board.
            [note] = [e for e in record["events"] if e["name"] == "imported"]
            oldest = note["data"]["oldest_seq"]
            assert _samples(second.url, record["id"])["seq"] == list(range(oldest, held))
            assert _run(second.url, followed["id"])["state"] == "running"
            assert _rig(second.url)["orphan_runs"] == []


def test_a_run_whose_rig_vanishes_is_interrupted_then_ends_as_the_board_ended_it(tmp_path):
    with SimRig("G1", accel=ACCEL, seed=4) as sim:
        with _service(sim.port, "sqlite:///%s" % (tmp_path / "db.sqlite"),
                      tmp_path / "data") as service:
            follower = subprocess.Popen(
                [str(LUMENRIG), "run", "lifetime", "-p", "voltage_v=10", "-p",
                 "host_loss_grace_s=2", "--server", service.url], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, env=dict(os.environ, LUMENRIG_TOKEN=TOKEN))
            try:
                wait_for(lambda: _count(service.url, 1) >= 10, 30, "samples")
                sim.cut(25.0)  # the cable is out: the board stops the run 2 s later
                interrupted = wait_for(
                    lambda: (lambda r: r if r["state"] == "interrupted" else None)(
                        _run(service.url, 1)), 30, "the run to be interrupted")
                _, err = follower.communicate(timeout=30)
            finally:
                follower.kill()
            assert follower.returncode == 1 and "run 1 is interrupted" in err, err
            assert [e for e in interrupted["events"] if e["name"] == "interrupted"]
            final = _ended(service.url, 1, 60)  # the same board is back
            assert final["state"] == "aborted"
            assert final["summary"]["stop_reason"] == "host_lost"
            seqs = _samples(service.url, 1)["seq"]
            assert seqs == list(range(len(seqs))), "what the board held was fetched"
