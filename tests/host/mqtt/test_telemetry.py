"""The hub's messages become messages on their rig's topics: a stored batch on `samples` with
the stored rows, state changes retained on `run` (and the rig's status with them), a run of
no rig here found in the store with its messages kept in order."""

import asyncio

from host.live.fanout import Hub
from host.mqtt.broker import Broker
from host.mqtt.telemetry import Telemetry
from host.rigs import Rig
from host.settings import RigSpec
from host.store import Store

BATCH = {"columns": ["seq", "t_s", "voltage_v"], "rows": [[0, 0.1, 10.0], [1, 1.1, 10.0]],
         "sent_at": 1.0e9}


class Offers:
    """Stands in for the publisher: keeps what is offered."""

    def __init__(self):
        self.offered: list[tuple[str, dict, bool]] = []

    def offer(self, topic, payload, retain=False):
        self.offered.append((topic, payload, retain))

    def on(self, topic_end):
        return [(p, r) for t, p, r in self.offered if t.endswith(topic_end)]


def _telemetry(store=None, rigs=("rig1",)):
    rig_objects = {name: Rig(RigSpec(name=name, spec="/dev/null")) for name in rigs}
    telemetry = Telemetry(Broker("127.0.0.1", prefix="lr"), "lab1", rig_objects, store)
    telemetry.publisher = Offers()
    hub = Hub()
    hub.add_tap(telemetry.on_hub)
    return telemetry, hub, rig_objects


def _run_dict(run_id, rig, state):
    return {"id": run_id, "rig": rig, "kind": "lifetime", "state": state, "progress": 0.25,
            "params": {"voltage_v": 10.0}, "summary": None, "created_at": "t0",
            "started_at": "t1", "finished_at": None, "error": None}


def test_a_stored_batch_goes_to_its_rigs_samples_topic_with_exactly_its_rows():
    telemetry, hub, rigs = _telemetry()
    rigs["rig1"].active_runs = {0: 5}
    hub.publish(5, "samples", BATCH)
    hub.publish(5, "progress", {"t_s": 1.1, "progress": 0.1})
    assert telemetry.publisher.offered == [
        ("lr/lab1/rig1/ch0/samples",
         {"run_id": 5, "columns": BATCH["columns"], "rows": BATCH["rows"]}, False),
        ("lr/lab1/rig1/ch0/progress", {"run_id": 5, "t_s": 1.1, "progress": 0.1}, False)]


def test_a_state_change_is_retained_on_the_run_topic_and_refreshes_the_rig_status():
    telemetry, hub, rigs = _telemetry()
    rigs["rig1"].active_runs = {0: 7}
    hub.publish(7, "state", _run_dict(7, "rig1", "running"))
    (run, retained), = telemetry.publisher.on("/ch0/run")
    assert retained and run["run_id"] == 7 and run["state"] == "running"
    assert run["channel"] == 0 and "params" not in run
    (status, retained), = telemetry.publisher.on("/rig1/status")
    assert retained and status["active_run"] == 7 and status["connected"] is False
    rigs["rig1"].active_runs = {}
    hub.publish(7, "end", _run_dict(7, "rig1", "completed"))
    assert [p["active_run"] for p, _ in telemetry.publisher.on("/rig1/status")] == [7, None]


def test_runs_on_two_channels_of_a_rig_go_to_their_own_channel_topics():
    telemetry, hub, rigs = _telemetry()
    rigs["rig1"].active_runs = {0: 8, 3: 9}
    hub.publish(9, "samples", BATCH)
    hub.publish(8, "progress", {"t_s": 1.1, "progress": 0.1})
    hub.publish(9, "state", dict(_run_dict(9, "rig1", "running"), channel=3))
    assert [t for t, _, _ in telemetry.publisher.offered[:3]] == [
        "lr/lab1/rig1/ch3/samples", "lr/lab1/rig1/ch0/progress", "lr/lab1/rig1/ch3/run"]
    (run, _), = telemetry.publisher.on("/ch3/run")
    assert run["channel"] == 3
    (status, _), = telemetry.publisher.on("/rig1/status")
    assert status["active_runs"] == {"0": 8, "3": 9} and status["active_run"] == 8


def test_a_rig_status_that_did_not_change_is_not_published_again():
    telemetry, _, _ = _telemetry()
    telemetry.check_statuses()
    telemetry.check_statuses()
    assert len(telemetry.publisher.on("/rig1/status")) == 1


def test_a_run_of_no_rig_here_is_found_in_the_store_and_its_messages_keep_their_order(
        sqlite_url):
    async def scenario(store):
        telemetry, hub, _ = _telemetry(store)
        store.upsert_rig("rig2", "sim:G1")
        run_id = store.create_run("rig2", "lifetime", {"voltage_v": 4.0}).id
        hub.publish(run_id, "samples", BATCH)
        hub.publish(run_id, "progress", {"progress": 0.5})
        assert telemetry.publisher.offered == []  # the store is asked off the event loop
        for _ in range(500):
            if len(telemetry.publisher.offered) == 2:
                break
            await asyncio.sleep(0.01)
        assert [t for t, _, _ in telemetry.publisher.offered] == [
            "lr/lab1/rig2/ch0/samples", "lr/lab1/rig2/ch0/progress"]

    with Store(sqlite_url) as store:
        asyncio.run(scenario(store))


def test_a_tap_that_raises_stops_neither_the_hub_nor_its_clients():
    hub = Hub()

    def broken(run_id, kind, data):
        raise RuntimeError("tap")

    async def scenario():
        hub.add_tap(broken)
        client = hub.subscribe(3)
        hub.publish(3, "progress", {"progress": 0.5})
        assert client.take()[0] == "progress"

    asyncio.run(scenario())
