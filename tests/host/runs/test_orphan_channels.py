"""Orphans per channel: on a board of three channels, a run the board holds on one channel
that this service did not start is shown with its channel, stopped and imported there while
the run followed on another channel goes on, and a run this store ended that still runs on
a channel is stopped on that channel. The service in-process (real SQLite store and run
manager, the API over TestClient), the board a scripted peer on a real socket."""

import contextlib
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from hil_sim.optics import calibration
from host.runkey import key_text
from host.service import create_app
from host.settings import RigSpec, Settings
from host.store import Store
from protocol import messages, schema
from tests.support.rigpeer import RigPeer, channel_record
from tests.support.waiting import wait_for

TOKEN = "t0ken-for-the-orphan-channel-tests"
AUTH = {"Authorization": "Bearer " + TOKEN}
ORPHAN_KEY = 0x0DD0_2222_3333_4444
OTHER_ORPHAN_KEY = 0x0DD0_1111_5555_6666
ENDED_KEY = 0x0E0D_1111_2222_3333
HELD_SEQS = 6  # samples the orphan has taken, all still held by the board
LIFETIME = {"kind": "lifetime", "rig": "rig1", "channel": 0,
            "params": {"voltage_v": 5.0, "sample_period_s": 1.0, "host_loss_grace_s": 60}}


def _running(key: int, channel: int) -> dict[str, int]:
    return channel_record(channel, state=schema.STATE_RUNNING,
                          mode=schema.MODE_CONSTANT_VOLTAGE, run_key=key, next_seq=HELD_SEQS)


def _card_board(records: list[dict[str, int]]) -> RigPeer:
    """A peer playing a board of len(records) channels as the firmware does per channel:
    START_RUN runs there, STOP_RUN stops the key it holds there (the key stays), GET_STATUS
    tells it, RESEND re-sends what it holds."""
    peer = RigPeer(records=records)

    def answer(m: Any) -> bool:
        if m.msg_id == schema.START_RUN:
            records[m.channel].update(state=schema.STATE_RUNNING, mode=m.mode,
                                      run_key=m.run_key, next_seq=0)
            peer.ack(m)
        elif m.msg_id == schema.STOP_RUN:
            _stop(peer, records[m.channel], m)
        elif m.msg_id == schema.GET_STATUS:
            peer.send("STATUS", **_status(m, records[m.channel]))
        else:
            return False
        return True

    peer.handlers.append(answer)
    peer.serve_resends(range(HELD_SEQS))
    return peer


def _stop(peer: RigPeer, record: dict[str, int], command: Any) -> None:
    if record["run_key"] != command.run_key:
        peer.nack(command, schema.NACK_BAD_RUN_KEY, record["run_key"])
        return
    record.update(state=schema.STATE_IDLE)
    peer.ack(command)


def _status(command: Any, record: dict[str, int]) -> dict[str, int]:
    fields = dict.fromkeys(messages.field_names(schema.STATUS), 0)
    fields.update({name: record[name] for name in ("state", "mode", "run_key", "next_seq")},
                  cmd_id=command.cmd_id, channel=command.channel, setpoint_mv=5000,
                  stop_reason=(schema.STOP_HOST_ABORT if record["state"] == schema.STATE_IDLE
                               else schema.STOP_NONE))
    return fields


@contextlib.contextmanager
def _service(tmp_path, peer: RigPeer) -> Iterator[TestClient]:
    settings = Settings(db_url="sqlite:///%s" % (tmp_path / "runs.sqlite"), token=TOKEN,
                        data_dir=tmp_path, rigs=[RigSpec(name="rig1", spec=peer.url)])
    try:
        with TestClient(create_app(settings)) as client:
            client.put("/api/rigs/rig1/calibration", headers=AUTH,
                       json=calibration("G1").model_dump(mode="json")).raise_for_status()
            yield client
    finally:
        peer.close()


def _rig(client: TestClient) -> dict[str, Any]:
    return client.get("/api/rigs/rig1").json()


def _orphans(client: TestClient) -> list[dict[str, Any]]:
    return wait_for(lambda: _rig(client)["orphan_runs"], 30, "the orphan runs")


def _start_on_channel_0(client: TestClient, peer: RigPeer) -> dict[str, Any]:
    started = client.post("/api/runs", headers=AUTH, json=LIFETIME)
    assert started.status_code == 201, started.text
    [start] = peer.sent_by_host("START_RUN")
    assert start.channel == 0
    return started.json()


def _state(client: TestClient, run_id: int) -> str:
    return client.get("/api/runs/%d" % run_id).json()["state"]


def test_an_orphan_on_channel_2_is_shown_and_stopped_there_while_channel_0_runs(tmp_path):
    peer = _card_board([channel_record(0), channel_record(1), _running(ORPHAN_KEY, 2)])
    with _service(tmp_path, peer) as client:
        [shown] = _orphans(client)
        followed = _start_on_channel_0(client, peer)
        rig = _rig(client)
        assert shown == rig["orphan_run"] == {
            "channel": 2, "run_key": key_text(ORPHAN_KEY), "mode": "constant_voltage",
            "state": "running", "next_seq": HELD_SEQS, "board_id": rig["board_id"]}
        assert rig["orphan_runs"] == [shown] and rig["active_runs"] == {"0": followed["id"]}

        refused = client.post("/api/runs", headers=AUTH, json=dict(LIFETIME, channel=2))
        assert refused.status_code == 409 and "orphan/stop?channel=2" in refused.text
        none = client.post("/api/rigs/rig1/orphan/stop?channel=1", headers=AUTH)
        assert none.status_code == 404 and "rig rig1" in none.text
        assert "channel 1" in none.text
        lacking = client.post("/api/rigs/rig1/orphan/import?channel=5", headers=AUTH)
        assert lacking.status_code == 422 and "has no channel 5" in lacking.text
        assert not peer.sent_by_host("STOP_RUN"), "nothing was stopped by a refusal"

        stopped = client.post("/api/rigs/rig1/orphan/stop", headers=AUTH)  # the only one
        assert stopped.status_code == 200, stopped.text
        [stop] = peer.sent_by_host("STOP_RUN")
        assert (stop.channel, stop.run_key) == (2, ORPHAN_KEY)
        assert stopped.json()["stopped"]["channel"] == 2
        assert stopped.json()["orphan_run"]["state"] == "idle"
        assert _rig(client)["orphan_runs"][0]["state"] == "idle"
        assert _state(client, followed["id"]) == "running"


def test_an_orphan_on_channel_2_is_imported_there_while_channel_0_runs(tmp_path):
    peer = _card_board([channel_record(0), channel_record(1), _running(ORPHAN_KEY, 2)])
    with _service(tmp_path, peer) as client:
        _orphans(client)
        followed = _start_on_channel_0(client, peer)
        imported = client.post("/api/rigs/rig1/orphan/import?channel=2", headers=AUTH)
        assert imported.status_code == 201, imported.text
        run = imported.json()
        assert run["imported"] and run["channel"] == 2 and run["kind"] == "lifetime"
        assert run["run_key"] == key_text(ORPHAN_KEY) and run["state"] == "running"
        assert [m.channel for m in peer.sent_by_host("GET_STATUS")
                if m.channel != 0] == [2], "the import asked channel 2 alone"
        rig = _rig(client)
        assert rig["orphan_run"] is None and rig["orphan_runs"] == []
        assert rig["active_runs"] == {"0": followed["id"], "2": run["id"]}
        with Store("sqlite:///%s" % (tmp_path / "runs.sqlite")) as store:
            wait_for(lambda: store.max_seq(run["id"]) == HELD_SEQS - 1, 30,
                     "the samples the board held")
            assert [int(s) for s in store.read_samples(run["id"], columns=("t_s",))["seq"]] \
                == list(range(HELD_SEQS))
        assert _state(client, followed["id"]) == "running"
        again = client.post("/api/rigs/rig1/orphan/import?channel=2", headers=AUTH)
        assert again.status_code == 404, again.text


def test_with_orphans_on_two_channels_a_request_must_name_one(tmp_path):
    peer = _card_board([channel_record(0), _running(OTHER_ORPHAN_KEY, 1),
                        _running(ORPHAN_KEY, 2)])
    with _service(tmp_path, peer) as client:
        wait_for(lambda: len(_rig(client)["orphan_runs"]) == 2, 30, "both orphans")
        rig = _rig(client)
        assert [o["channel"] for o in rig["orphan_runs"]] == [1, 2]
        assert rig["orphan_run"] == rig["orphan_runs"][0]
        unnamed = client.post("/api/rigs/rig1/orphan/stop", headers=AUTH)
        assert unnamed.status_code == 409 and "channels 1, 2" in unnamed.text, unnamed.text
        stopped = client.post("/api/rigs/rig1/orphan/stop?channel=1", headers=AUTH)
        assert stopped.status_code == 200, stopped.text
        [stop] = peer.sent_by_host("STOP_RUN")
        assert (stop.channel, stop.run_key) == (1, OTHER_ORPHAN_KEY)
        states = {o["channel"]: o["state"] for o in _rig(client)["orphan_runs"]}
        assert states == {1: "idle", 2: "running"}


def test_a_run_this_store_ended_still_running_on_channel_1_is_stopped_on_channel_1(tmp_path):
    url = "sqlite:///%s" % (tmp_path / "runs.sqlite")
    with Store(url) as store:
        store.upsert_rig("rig1", "earlier")
        ended = store.create_run("rig1", "lifetime", {"voltage_v": 5.0}, run_key=ENDED_KEY,
                                 channel=1, state="running")
        store.update_run(ended.id, state="completed")
    peer = _card_board([channel_record(0), _running(ENDED_KEY, 1), channel_record(2)])
    with _service(tmp_path, peer) as client:
        [stop] = wait_for(lambda: peer.sent_by_host("STOP_RUN"), 30, "the STOP_RUN")
        assert (stop.channel, stop.run_key) == (1, ENDED_KEY)
        assert peer.records[1]["state"] == schema.STATE_IDLE
        with Store(url) as store:
            [said] = wait_for(lambda: [e for e in store.list_events(rig="rig1")
                                       if e.name == "stopped_ended_run"], 30, "the event")
        assert _rig(client)["orphan_runs"] == []
        assert said.data == {"run": ended.id, "channel": 1}
        assert "rig rig1 channel 1 was still running run %d" % ended.id in said.message
