"""The run kinds: one object each, and every part of the host that names kinds reads them."""

from collections import deque
from types import SimpleNamespace

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from host.runs.kinds import KIND_NAMES, KINDS, RunRequest, kind_of_mode
from host.runs.progress import pl_floor_a
from host.runs.units import Converter
from host.service import create_app
from host.settings import Settings
from host.store import RUN_KINDS, Store
from protocol import names, schema

PL_POINT = schema.FLAG_PL_POINT

REQUESTS = TypeAdapter(RunRequest)
MINIMAL_PARAMS = {"lifetime": {"voltage_v": 4.0}, "photostability": {}, "jvl": {}}


@pytest.mark.parametrize("name", KIND_NAMES)
def test_a_kind_programs_the_device_in_one_of_its_own_modes(name):
    kind = KINDS[name]
    params = kind.params.model_validate(MINIMAL_PARAMS[name])
    fields = kind.start_fields(params, Converter(kind.light, None), run_key=7, dark_pd_pa=3)
    assert fields["mode"] in kind.modes
    assert (fields["run_key"], fields["dark_pd_pa"]) == (7, 3)
    assert fields["sample_period_ms"] >= 1
    assert set(fields) == {name for name, *_ in schema.BY_ID[schema.START_RUN][2]} - {"cmd_id"}


def test_every_device_run_mode_belongs_to_exactly_one_kind():
    for mode in range(1, len(names.MODE_NAMES)):
        owners = [kind.name for kind in KINDS.values() if mode in kind.modes]
        assert len(owners) == 1, (names.MODE_NAMES[mode], owners)
        assert kind_of_mode(mode).name == owners[0]
    assert kind_of_mode(schema.MODE_NONE) is None


@pytest.mark.parametrize("name", KIND_NAMES)
def test_the_request_body_of_a_kind_takes_its_params_and_refuses_the_others(name):
    request = REQUESTS.validate_python({"kind": name, "params": MINIMAL_PARAMS[name]})
    assert isinstance(request.params, KINDS[name].params)
    other = next(n for n in KIND_NAMES if n != name)
    with pytest.raises(ValidationError):
        REQUESTS.validate_python({"kind": name, "params": {"not_a_param": 1}})
    with pytest.raises(ValidationError):
        REQUESTS.validate_python({"kind": other, "params": {"voltage_v": "ten"}})


def test_params_may_be_left_out_only_where_the_kind_has_defaults_for_all():
    for kind in KINDS.values():
        if kind.params_required:
            with pytest.raises(ValidationError):
                REQUESTS.validate_python({"kind": kind.name})
        else:
            assert REQUESTS.validate_python({"kind": kind.name}).params == kind.params()


@pytest.mark.parametrize("params, message", [
    ({"current_a": 1e-4, "dark_every_s": 60}, "not under constant current"),
    ({"voltage_v": 9.0, "dark_every_s": 60, "dark_s": 1.0}, "dark_s must be at least"),
    ({"voltage_v": 9.0, "dark_every_s": 2, "dark_s": 2.0, "sample_period_s": 0.5},
     "shorter than dark_every_s"),
    ({"voltage_v": 9.0, "dark_every_s": 60.5}, "valid integer"),
])
def test_dark_tracking_params_are_refused_where_no_pause_can_work(params, message):
    with pytest.raises(ValidationError, match=message):
        KINDS["lifetime"].params.model_validate(params)


def test_dark_tracking_fields_reach_the_program_only_when_asked_for():
    kind = KINDS["lifetime"]
    converter = Converter("el", None)
    on = kind.start_fields(kind.params(voltage_v=9.0, dark_every_s=300, dark_s=3.0), converter,
                           7, 0)
    off = kind.start_fields(kind.params(voltage_v=9.0), converter, 7, 0)
    assert (on["dark_every_s"], on["dark_ms"]) == (300, 3000)
    assert (off["dark_every_s"], off["dark_ms"]) == (0, 0)
    film = KINDS["photostability"]
    fields = film.start_fields(film.params(dark_every_s=600, dark_s=12.0), converter, 7, 0)
    assert (fields["dark_every_s"], fields["dark_ms"]) == (600, 12000)


def test_the_api_schema_the_dashboard_form_reads_lists_every_kind():
    app = create_app(Settings(token="k" * 20, rigs=[]))
    body = app.openapi()["paths"]["/api/runs"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert sorted(body["discriminator"]["mapping"]) == sorted(KIND_NAMES)


def test_the_store_takes_the_kinds_and_no_other(tmp_path):
    assert RUN_KINDS == KIND_NAMES
    with Store("sqlite:///%s" % (tmp_path / "kinds.sqlite")) as store:
        store.upsert_rig("rig1", "sim:G1")
        for name in KIND_NAMES:
            assert store.create_run("rig1", name, MINIMAL_PARAMS[name]).kind == name
        with pytest.raises(ValueError, match="unknown run kind"):
            store.create_run("rig1", "brightness", {})


def _tracker(**state):
    return SimpleNamespace(**{"progress": 0.0, "l0_cd_m2": None, "pl0": None, "refusal": None,
                              "recent_cd_m2": deque(maxlen=64), "faint": False,
                              "converter": SimpleNamespace(dark_a=5e-12, cd_m2_per_a=None),
                              "last_setpoint_mv": 0, "dark_shift_a": 0.0, **state})


def test_lifetime_progress_follows_l_over_l0_down_to_the_stop_fraction():
    params = KINDS["lifetime"].params(voltage_v=4.0, stop_fraction=0.5, max_duration_s=1000)
    cols = {"luminance_cd_m2": np.array([80.0, 75.0]), "flags": np.array([0, 0])}
    message = {"t_s": 10.0}
    fraction = KINDS["lifetime"].progress(_tracker(l0_cd_m2=100.0), params, cols, message)
    assert message["l_over_l0"] == pytest.approx(0.75)
    assert fraction == pytest.approx(0.5)  # a quarter of the way from 1 to 0.5 is half done


def test_lifetime_progress_skips_dark_samples_and_takes_the_newest_pause_as_dark():
    params = KINDS["lifetime"].params(voltage_v=4.0, stop_fraction=0.5, dark_every_s=60)
    dark = schema.FLAG_DARK
    # Stored luminance is above the calibrated dark; the last pause read 2 cd/m2 more.
    cols = {"luminance_cd_m2": np.array([82.0, 2.1, 1.9]), "flags": np.array([0, dark, dark])}
    tracker = _tracker(l0_cd_m2=100.0, dark_shift_a=2e-9,
                       converter=SimpleNamespace(dark_a=5e-12, cd_m2_per_a=1e9))
    message = {"t_s": 10.0}
    KINDS["lifetime"].progress(tracker, params, cols, message)
    assert message["l_over_l0"] == pytest.approx(0.80)
    assert list(tracker.recent_cd_m2) == [pytest.approx(80.0)]


def test_photostability_progress_is_time_through_the_exposure_with_pl_against_the_first():
    params = KINDS["photostability"].params(duration_s=100.0, pl_interval_s=10.0,
                                            sample_period_s=10.0)
    tracker = _tracker()
    message = {"t_s": 25.0}
    cols = {"pl": np.array([3.0, 2.0, 1.5]) * 1e-9, "flags": np.array([0, PL_POINT, 0])}
    fraction = KINDS["photostability"].progress(tracker, params, cols, message)
    assert (fraction, tracker.pl0) == (0.25, 2e-9)  # the first PL point, not the first sample
    assert message["pl_fraction"] == pytest.approx(0.75)
    assert tracker.refusal is None


@pytest.mark.parametrize("first_pl_a", [49e-12, 0.0, -3e-12, float("nan")])
def test_a_first_pl_point_within_the_dark_floor_refuses_the_run(first_pl_a):
    # The floor is 10 x the 5 pA dark current: 50 pA.
    params = KINDS["photostability"].params(duration_s=100.0, pl_interval_s=10.0)
    tracker = _tracker()
    cols = {"pl": np.array([first_pl_a]), "flags": np.array([PL_POINT])}
    KINDS["photostability"].progress(tracker, params, cols, {"t_s": 0.0})
    assert tracker.pl0 is None
    assert "no photoluminescence" in tracker.refusal
    assert pl_floor_a(5e-12) == pytest.approx(50e-12) and pl_floor_a(0.0) == 10e-12


def test_jvl_progress_is_the_setpoint_on_its_way_through_the_sweep():
    params = KINDS["jvl"].params(start_v=2.0, stop_v=6.0)
    fraction = KINDS["jvl"].progress(_tracker(last_setpoint_mv=3000), params, {}, {"t_s": 1.0})
    assert fraction == pytest.approx(0.25)


def test_a_summary_on_data_the_analysis_refuses_names_why():
    empty = {name: np.zeros(0) for name in ("t_s", "luminance_cd_m2", "flags", "pl")}
    summary = KINDS["lifetime"].summarize({"voltage_v": 4.0}, None, empty, [])
    assert summary["notes"][0].startswith("not analysed:")
