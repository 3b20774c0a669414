"""A run's events in words with units (host.runs.eventtext): the device's integers decoded
with the run's own calibration, the host's own events as recorded; and the API hands both
the CLI and the dashboard that text."""

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from hil_sim.optics import calibration as sim_calibration
from host.cli.describe import describe
from host.runs import eventtext
from host.service import create_app
from host.settings import Settings
from host.store import Store
from photometry.photodiode import luminance_per_amp
from protocol import names, schema

CALIBRATION = sim_calibration("G1")


def _device(code: int, value: int) -> dict:
    return {"code": code, "name": names.EVENT_NAMES[code], "message": "raw (%d)" % value,
            "data": {"value": value, "t_s": 1.5}}


def _text(code: int, value: int, kind: str = "lifetime", calibration: dict | None = None) -> str:
    run = {"kind": kind, "calibration": calibration}
    return eventtext.texts([_device(code, value)], run)[0]


@pytest.mark.parametrize("code, value, said", [
    (schema.EV_OUTPUT_ON, 10000, "output on at 10.000 V"),
    (schema.EV_OUTPUT_OFF, 0, "output off"),
    (schema.EV_TARGET_REACHED, 10121, "target reached: holding 10.121 V"),
    (schema.EV_COMPLIANCE, 4_000_000, "current 4 mA reached the compliance limit"),
    (schema.EV_RUN_STOPPED, schema.STOP_LUMINANCE_FRACTION, "run stopped: luminance fraction"),
    (schema.EV_SAFE_STOP, schema.STOP_INTERLOCK, "safe stop: interlock"),
    (schema.EV_RUN_STARTED, schema.MODE_CONSTANT_VOLTAGE, "run started in constant voltage mode"),
    (schema.EV_STATE, schema.STATE_RUNNING, "state: running"),
    (schema.EV_EXCEPTION, schema.FAULT_I2C, "exception: i2c fault"),
    (schema.EV_I2C_ERROR, 0x40, "I2C error at address 0x40"),
    (schema.EV_HOST_LOST, 1500, "host silent for 1.5 s"),
    (schema.EV_DARK_BEGIN, 2000, "dark pause of 2 s begins"),
    (schema.EV_DARK_END, 5, "dark pause ends: dark reading 5 pA"),
    (schema.EV_SHUTTER_FAULT, 500, "shutter stuck: not in place after 500 ms"),
    (schema.EV_RUN_STOPPED, 99, "run stopped: code 99"),
])
def test_device_event_values_read_in_units(code, value, said):
    assert _text(code, value) == said


def test_l0_captured_reads_as_luminance_through_the_runs_calibration():
    calibration = CALIBRATION.model_dump(mode="json")
    expected = 45367e-12 * luminance_per_amp(CALIBRATION)
    said = _text(schema.EV_L0_CAPTURED, 45367, calibration=calibration)
    assert said == "L0 captured: %.4g cd/m²" % expected


def test_l0_without_a_calibration_and_pl0_of_a_film_read_as_photocurrent():
    assert _text(schema.EV_L0_CAPTURED, 45367) == \
        "L0 captured: 45.4 nA photocurrent (no calibration)"
    assert _text(schema.EV_L0_CAPTURED, 200279, kind="photostability") == \
        "PL0 captured: 200 nA photocurrent"


def test_host_events_and_unknown_device_codes_keep_their_recorded_message():
    events = [{"code": None, "name": "edited", "message": "notes changed by ana",
               "data": None},
              {"code": 250, "name": "new_event", "message": "new event (7)",
               "data": {"value": 7}}]
    assert eventtext.texts(events, {"kind": "lifetime"}) == ["notes changed by ana",
                                                            "new event (7)"]


@given(code=st.integers(-1, 300), value=st.integers(-(2**31), 2**32),
       kind=st.sampled_from(["lifetime", "photostability", "jvl", "bake"]))
def test_any_code_and_value_reads_as_some_text(code, value, kind):
    event = {"code": code, "name": "x", "message": "recorded", "data": {"value": value}}
    said = eventtext.texts([event], {"kind": kind,
                                     "calibration": CALIBRATION.model_dump(mode="json")})
    assert said[0] and isinstance(said[0], str)


@pytest.fixture
def client_and_run(tmp_path):
    url = "sqlite:///%s" % (tmp_path / "events.sqlite")
    with Store(url) as store:
        store.upsert_rig("rig1", "sim:G1")
        store.set_calibration("rig1", CALIBRATION.model_dump(mode="json"))
        run = store.create_run("rig1", "lifetime", {"voltage_v": 10.0})
        for code, value in ((schema.EV_OUTPUT_ON, 10000), (schema.EV_L0_CAPTURED, 45367)):
            store.add_event(names.EVENT_NAMES[code], "raw (%d)" % value, rig="rig1",
                            run_id=run.id, code=code, data={"value": value, "t_s": 0.1})
    settings = Settings(db_url=url, token="t0ken-for-the-event-tests", data_dir=tmp_path)
    with TestClient(create_app(settings)) as client:
        yield client, run.id


def test_the_api_gives_each_event_its_text_and_the_cli_shows_it(client_and_run):
    client, run_id = client_and_run
    run = client.get("/api/runs/%d" % run_id).json()
    texts = [e["text"] for e in run["events"]]
    assert texts[0] == "output on at 10.000 V"
    assert texts[1].startswith("L0 captured: ") and texts[1].endswith(" cd/m²")
    assert [e["message"] for e in run["events"]] == ["raw (10000)", "raw (45367)"]
    shown = describe(run)
    assert "output on at 10.000 V" in shown and "raw (10000)" not in shown


def test_the_api_names_the_summary_figures_in_words_with_units(client_and_run):
    client, _ = client_and_run
    answer = client.get("/api/figures").json()
    assert answer["figures"]["t50_s"] == {"words": "T50, time to 50 % of L0", "unit": "s"}
    assert answer["figures"]["l0_cd_m2"]["unit"] == "cd/m²"
    assert ["_cd_m2", "cd/m²"] in answer["suffix_units"]
