"""A rig card tells the truth over the HIL: an idle rig's temperature and humidity are read
every few seconds (GET_STATUS), during a run they come from its samples, and after the run
the last sample grows old while the ambient reading stays fresh."""

import time

import httpx
import pytest

from tests.support.service_proc import AUTH, ServiceProcess, follow_stream, wait_for

# The simulated bench: 26 degC and 60 %RH with a slow wander (hil_sim/presets.py).
BENCH_TEMPERATURE_C = (25.0, 27.0)
BENCH_HUMIDITY_PCT = (55.0, 65.0)
DEADLINE_S = 60  # generous: the service asks every host.runs.idlestatus.IDLE_STATUS_S


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ambient")
    proc = ServiceProcess(["sim:G1?accel=max&seed=5"], "sqlite:///%s" % (folder / "a.sqlite"),
                          folder).start()
    yield proc
    proc.stop()


def _device(service) -> dict:
    return httpx.get(service.url + "/api/rigs/rig1", timeout=60).json()["device"]


def _ambient_from(service, source: str) -> dict | None:
    ambient = _device(service)["ambient"]
    return ambient if ambient is not None and ambient["source"] == source else None


def _refreshed(service) -> None:
    """A STATUS newer than the one seen now arrives (its age falls below the time waited)."""
    first_age_s = _device(service)["status_age_s"]
    seen_at = time.monotonic()
    wait_for(lambda: _device(service)["status_age_s"] < first_age_s
             + (time.monotonic() - seen_at) - 0.5, DEADLINE_S, "a newer idle STATUS")


def test_an_idle_rig_reports_the_bench_temperature_and_humidity_and_keeps_it_fresh(service):
    ambient = wait_for(lambda: _ambient_from(service, "status"), DEADLINE_S,
                       "an idle STATUS with the ambient reading")
    assert BENCH_TEMPERATURE_C[0] < ambient["temperature_c"] < BENCH_TEMPERATURE_C[1]
    assert BENCH_HUMIDITY_PCT[0] < ambient["humidity_pct"] < BENCH_HUMIDITY_PCT[1]
    assert ambient["age_s"] >= 0
    _refreshed(service)
    _refreshed(service)  # and again: it is a schedule, not a one-off at connection


def test_after_a_run_the_ambient_reading_is_fresh_while_the_last_sample_ages(service):
    started = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=30, json={
        "kind": "lifetime", "rig": "rig1",
        "params": {"voltage_v": 10, "sample_period_s": 1, "max_duration_s": 5}})
    assert started.status_code == 201, started.text
    assert follow_stream(service.url, started.json()["id"], timeout_s=DEADLINE_S
                         )["final"]["state"] == "completed"
    device = _device(service)
    assert device["last_sample"] is not None
    wait_for(lambda: _ambient_from(service, "status"), DEADLINE_S,
             "the idle STATUS after the run")
    sample_age_s = _device(service)["last_sample_age_s"]
    _refreshed(service)
    device = _device(service)
    assert device["last_sample_age_s"] > sample_age_s  # the run's reading grows old
    assert device["ambient"]["age_s"] < device["last_sample_age_s"]
    assert device["ambient"]["age_s"] <= device["status_age_s"] + 1e-9
