"""MQTT telemetry figures: samples a subscriber receives per second while a run is ingested,
beside the same run on a service without --mqtt, and the publisher's own capacity.

While ingesting: a G1 lifetime run at 10 V (1 s sampling, to half luminance, about 645
samples) on a fresh `lumenrig serve --rig sim:G1?accel=max&seed=1 --mqtt ...` publishing to
a private Mosquitto on a free port; a paho subscriber in this process counts the sample rows
of the run's `samples` messages. The wall time runs from POST /api/runs until the subscriber
has the run's last state and every stored sample. The baseline is the same run on a service
without --mqtt (POST to the stream's `end`): stored samples per wall second. Both rates are
the simulator's pace, and move with the machine's load; what MQTT costs the service is its
CPU time per stored sample (from /proc, all its threads; the simulator is another process)
with and without. A 0.1 V warm-up run goes first on each service, as in bench_sim.

Capacity: the Publisher alone in this process, connected to the private broker, offered
batches of BATCH_ROWS rows of the stored columns as fast as it takes them; samples per
second until the broker has acknowledged every message.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.bench_api import process_cpu_s
from bench.bench_sim import _run
from host.mqtt.broker import Broker
from host.mqtt.publisher import Publisher
from host.runs.sink import LIVE_COLUMNS
from tests.host.mqtt.brokers import PrivateBroker, Subscriber
from tests.support.service_proc import AUTH, ServiceProcess
from tests.support.waiting import wait_for

RIG = "sim:G1?accel=max&seed=1"
RUN = {"voltage_v": 10.0, "sample_period_s": 1.0, "host_loss_grace_s": 30}
WARM_UP = {"voltage_v": 0.1, "sample_period_s": 1.0, "max_duration_s": 5}
FINISHED = ("completed", "aborted", "failed")
BATCH_ROWS = 20
TIMEOUT_S = 300


def _service(folder: Path, mqtt_url: str | None) -> ServiceProcess:
    env = {"LUMENRIG_MQTT": mqtt_url, "LUMENRIG_SITE": "bench"} if mqtt_url else {}
    return ServiceProcess([RIG], f"sqlite:///{folder / 'mqtt.sqlite'}", folder,
                          env=env).start()


def with_mqtt(run: dict[str, Any]) -> dict[str, Any]:
    """The run through a service publishing to a private broker: samples received, stored,
    wall seconds, and what the service's health says of MQTT at the end."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        broker = PrivateBroker(folder).start()
        subscriber = Subscriber(broker.port, "bench/#")
        service = _service(folder, f"mqtt://127.0.0.1:{broker.port}/bench")
        try:
            with httpx.Client(timeout=30) as client:
                _run(client, service.url, "lifetime", WARM_UP)
                t0, cpu0 = time.perf_counter(), process_cpu_s(service.proc.pid)
                response = client.post(service.url + "/api/runs", headers=AUTH, json={
                    "kind": "lifetime", "rig": "rig1", "params": run})
                assert response.status_code == 201, response.text
                run_id = response.json()["id"]

                def rows() -> int:
                    return sum(len(m["rows"]) for m in subscriber.payloads("/ch0/samples")
                               if m["run_id"] == run_id)

                wait_for(lambda: any(m["run_id"] == run_id and m["state"] in FINISHED
                                     for m in subscriber.payloads("/ch0/run")),
                         TIMEOUT_S, "the run's end on MQTT")
                stored = len(client.get(f"{service.url}/api/runs/{run_id}/samples",
                                        timeout=60).json()["rows"])
                wait_for(lambda: rows() >= stored, 30, "every stored sample on MQTT")
                wall_s = time.perf_counter() - t0
                cpu_s = process_cpu_s(service.proc.pid) - cpu0
                health = client.get(service.url + "/api/health").json()["mqtt"]
        finally:
            service.stop()
            subscriber.close()
            broker.kill()
    return {"received": rows(), "stored": stored, "wall_s": wall_s, "cpu_s": cpu_s,
            "health": health}


def without_mqtt(run: dict[str, Any]) -> dict[str, Any]:
    """The same run on a service without --mqtt: stored samples and wall seconds."""
    with tempfile.TemporaryDirectory() as name:
        service = _service(Path(name), None)
        try:
            with httpx.Client(timeout=30) as client:
                _run(client, service.url, "lifetime", WARM_UP)
                t0, cpu0 = time.perf_counter(), process_cpu_s(service.proc.pid)
                run_id, final, _ = _run(client, service.url, "lifetime", run)
                wall_s = time.perf_counter() - t0
                cpu_s = process_cpu_s(service.proc.pid) - cpu0
                stored = len(client.get(f"{service.url}/api/runs/{run_id}/samples",
                                        timeout=60).json()["rows"])
        finally:
            service.stop()
    return {"stored": stored, "wall_s": wall_s, "cpu_s": cpu_s}


def publisher_capacity(batches: int) -> dict[str, float]:
    """Samples/s through a connected Publisher to the broker's PUBACK, batches of
    BATCH_ROWS rows shaped like a lifetime run's."""
    row = [0, 0.100343, 10.0, 3.625e-05, 49.964497212973086, None, 25.97, 61.0, None, 10.0, 265]
    with tempfile.TemporaryDirectory() as name:
        broker = PrivateBroker(Path(name)).start()
        publisher = Publisher(Broker("127.0.0.1", broker.port, "bench", batches), "bench")
        publisher.start()
        try:
            wait_for(lambda: publisher.stats()["connected"], 10, "the connection")
            t0 = time.perf_counter()
            for n in range(batches):
                rows = [[n * BATCH_ROWS + k] + row[1:] for k in range(BATCH_ROWS)]
                publisher.offer("bench/site/rig1/ch0/samples",
                                {"run_id": 1, "columns": list(LIVE_COLUMNS), "rows": rows})
            wait_for(lambda: publisher.stats()["published"] >= batches, TIMEOUT_S,
                     "every PUBACK")
            elapsed = time.perf_counter() - t0
            dropped = publisher.stats()["dropped"]
        finally:
            publisher.stop()
            broker.kill()
    return {"samples_per_s": batches * BATCH_ROWS / elapsed, "dropped": dropped}


def run(run_params: dict[str, Any] | None = None, capacity_batches: int = 5000
        ) -> dict[str, dict[str, Any]]:
    params = dict(RUN, **(run_params or {}))
    on = with_mqtt(params)
    off = without_mqtt(params)
    capacity = publisher_capacity(capacity_batches)
    rate_on = on["received"] / on["wall_s"]
    health = on["health"]
    cpu_on_us = on["cpu_s"] / on["stored"] * 1e6
    cpu_off_us = off["cpu_s"] / off["stored"] * 1e6
    return {
        "mqtt_publish_samples_per_s": {
            "value": rate_on, "unit": "samples/s",
            "goal": "= the ingest rate (%d received of %d stored in %.2f s; dropped %d)"
                    % (on["received"], on["stored"], on["wall_s"], health["dropped"])},
        "mqtt_samples_missing": {"value": on["stored"] - min(on["received"], on["stored"]),
                                 "unit": "samples", "goal": "0"},
        "mqtt_ingest_off_samples_per_s": {
            "value": off["stored"] / off["wall_s"],
            "unit": "samples/s stored without --mqtt (%d in %.2f s)"
                    % (off["stored"], off["wall_s"])},
        "mqtt_service_cpu_us_per_sample": {
            "value": cpu_on_us, "unit": "us of service CPU per stored sample, with --mqtt"},
        "mqtt_service_cpu_off_us_per_sample": {
            "value": cpu_off_us, "unit": "us of service CPU per stored sample, without"},
        "mqtt_publisher_capacity_samples_per_s": {
            "value": capacity["samples_per_s"],
            "unit": "samples/s (%d-row batches, to PUBACK)" % BATCH_ROWS},
    }


if __name__ == "__main__":
    for key, figure in run().items():
        print(f"{key:40s} {figure['value']!s:>14.10} {figure['unit']} {figure.get('goal', '')}")
