"""`lumenrig serve --mqtt` end to end: a real service with a simulated rig publishes to a
real Mosquitto what it stores; a broker that dies mid-run costs counted messages, never a
stored sample."""

import httpx
import pytest

from host.store.records import FINISHED_STATES
from tests.host.mqtt.brokers import (
    SHARED_PORT,
    PrivateBroker,
    Subscriber,
    require_shared_broker,
    unique_prefix,
)
from tests.support.service_proc import AUTH, ServiceProcess, rig_after_the_end, wait_for

RIG = "sim:G1?accel=max&seed=1"
SITE = "testsite"


def _service(tmp_path, mqtt_url: str) -> ServiceProcess:
    return ServiceProcess([RIG], "sqlite:///%s" % (tmp_path / "mqtt.sqlite"), tmp_path,
                          env={"LUMENRIG_MQTT": mqtt_url, "LUMENRIG_SITE": SITE}).start()


def _mqtt_health(url: str) -> dict:
    return httpx.get(url + "/api/health", timeout=60).json()["mqtt"]


def _start_run(url: str, params: dict) -> int:
    response = httpx.post(url + "/api/runs", json={"kind": "lifetime", "rig": "rig1",
                                                   "params": params}, headers=AUTH, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _stored(url: str, run_id: int) -> dict:
    return httpx.get("%s/api/runs/%d/samples" % (url, run_id), timeout=60).json()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A service publishing to the machine's broker under a prefix of its own, and a
    subscriber to everything under it; retained messages cleared afterwards."""
    require_shared_broker()
    prefix = unique_prefix()
    subscriber = Subscriber(SHARED_PORT, "%s/#" % prefix)
    service = _service(tmp_path_factory.mktemp("mqtt-service"),
                       "mqtt://127.0.0.1:%d/%s" % (SHARED_PORT, prefix))
    yield service, subscriber, prefix
    service.stop()
    subscriber.clear_retained()
    subscriber.close()


def test_a_subscriber_gets_every_stored_sample_of_a_run_its_states_and_events(served):
    service, subscriber, prefix = served
    run_id = _start_run(service.url, {"voltage_v": 10.0, "sample_period_s": 1.0,
                                      "max_duration_s": 120, "host_loss_grace_s": 30})

    def run_messages():
        return [m for m in subscriber.payloads("/rig1/ch0/run") if m["run_id"] == run_id]

    def ended():
        return any(m["state"] in FINISHED_STATES for m in run_messages())

    wait_for(ended, 60, "the run's last state on %s/%s/rig1/ch0/run" % (prefix, SITE))
    stored = _stored(service.url, run_id)
    batches = [m for m in subscriber.payloads("/rig1/ch0/samples") if m["run_id"] == run_id]
    wait_for(lambda: sum(len(b["rows"]) for b in subscriber.payloads("/rig1/ch0/samples")
                         if b["run_id"] == run_id) >= len(stored["rows"]),
             30, "as many samples as are stored")
    batches = [m for m in subscriber.payloads("/rig1/ch0/samples") if m["run_id"] == run_id]
    received = {}
    for batch in batches:
        for row in batch["rows"]:
            received[row[0]] = dict(zip(batch["columns"], row))
    stored_rows = {row[0]: dict(zip(stored["columns"], row)) for row in stored["rows"]}
    assert len(stored_rows) > 100 and set(received) == set(stored_rows)
    assert sum(len(b["rows"]) for b in batches) == len(stored_rows), "each sample once"
    for seq, row in received.items():
        assert row == {name: stored_rows[seq][name] for name in row}, seq
    states = [m["state"] for m in run_messages()]
    assert states[0] == "running" and states[-1] in FINISHED_STATES
    progress = [m for m in subscriber.payloads("/rig1/ch0/progress") if m["run_id"] == run_id]
    assert len(progress) == len(batches) and progress[-1]["t_s"] == received[max(received)]["t_s"]
    run = httpx.get("%s/api/runs/%d" % (service.url, run_id), timeout=60).json()
    texts = {e["id"]: e["text"] for e in run["events"]}
    events = [e for e in subscriber.payloads("/rig1/ch0/events") if e["run_id"] == run_id]
    assert events and all(texts[e["id"]] == e["text"] for e in events)
    assert "run_stopped" in {e["name"] for e in events}
    health = _mqtt_health(service.url)
    assert health["connected"] and health["dropped"] == 0 and health["site"] == SITE


def test_rig_status_is_retained_for_a_subscriber_that_comes_later(served):
    service, _, prefix = served
    late = Subscriber(SHARED_PORT, "%s/%s/+/status" % (prefix, SITE))
    try:
        status = wait_for(lambda: late.on("/rig1/status"), 30, "the retained status")
        (payload, retained), = status
        assert retained and payload["rig"] == "rig1" and payload["connected"] is True
        assert payload["simulated"] is True and payload["firmware_version"]
    finally:
        late.close()
    service_state = Subscriber(SHARED_PORT, "%s/%s/service" % (prefix, SITE))
    try:
        wait_for(lambda: service_state.on("/service"), 30, "the retained service state")
        assert service_state.on("/service") == [({"site": SITE, "online": True}, True)]
    finally:
        service_state.close()


def test_a_broker_killed_mid_run_costs_counted_messages_and_no_stored_sample(tmp_path):
    broker = PrivateBroker(tmp_path).start()
    prefix = unique_prefix()
    subscriber = Subscriber(broker.port, "%s/#" % prefix)
    service = _service(tmp_path, "mqtt://127.0.0.1:%d/%s?queue=20" % (broker.port, prefix))
    try:
        # A run far longer than the test: it is aborted once the drops are counted.
        run_id = _start_run(service.url, {"voltage_v": 8.0, "sample_period_s": 1.0,
                                          "host_loss_grace_s": 30})
        wait_for(lambda: len(subscriber.on("/rig1/ch0/samples")) >= 5, 30,
                 "samples on MQTT before the broker dies")
        broker.kill()
        wait_for(lambda: not _mqtt_health(service.url)["connected"], 30,
                 "the service to see the broker gone")
        wait_for(lambda: _mqtt_health(service.url)["dropped"] > 0, 30, "counted drops")
        assert httpx.post("%s/api/runs/%d/abort" % (service.url, run_id), headers=AUTH,
                          timeout=30).status_code == 200
        run = wait_for(lambda: (lambda r: r if r["state"] in FINISHED_STATES else None)(
            httpx.get("%s/api/runs/%d" % (service.url, run_id), timeout=60).json()),
            30, "the run's end")
        assert run["state"] == "aborted" and run["error"] is None
        seqs = [row[0] for row in _stored(service.url, run_id)["rows"]]
        assert seqs == list(range(len(seqs))), "every seq exactly once, in order"
        described = rig_after_the_end(service.url, len(seqs))
        assert described["device"]["next_seq"] == len(seqs), "every sample the rig took"
        health = httpx.get(service.url + "/api/health", timeout=60).json()
        assert health["status"] == "ok" and health["ingest_errors"] == {}
        mqtt = health["mqtt"]
        assert not mqtt["connected"] and mqtt["dropped"] > 0 and mqtt["queued"] <= 20 + 100
    finally:
        service.stop()
        subscriber.close()
        broker.kill()
