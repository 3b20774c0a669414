"""Sim rig specs `sim:PRESET?accel=K&seed=N&faults=F&spread=S&channels=C`: parsing, errors,
round trip."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hil_sim.faults import FaultPlan, parse_faults
from hil_sim.spec import PRESETS, SimSpec, SimSpecError, is_sim_spec, parse_sim_spec
from tests.support.fault_plans import plans


def test_bare_preset_takes_the_defaults():
    assert parse_sim_spec("sim:G2") == SimSpec("G2", 1.0, 0, FaultPlan())


def test_all_parameters_are_read():
    spec = parse_sim_spec("sim:film?accel=120&seed=9&faults=drop=0.01,cut=300s+5s")
    assert spec == SimSpec("film", 120.0, 9, parse_faults("drop=0.01,cut=300s+5s"))


def test_percent_encoded_faults_are_decoded():
    spec = parse_sim_spec("sim:G1?faults=cut%3D300s%2B5s%2Creset%3D1800s")
    assert spec.faults == parse_faults("cut=300s+5s,reset=1800s")


def test_plus_in_a_plain_fault_text_stays_a_plus():
    assert parse_sim_spec("sim:G1?faults=cut=1s+2s").faults.cuts == ((1.0, 2.0),)


def test_is_sim_spec_tells_simulators_from_ports():
    assert is_sim_spec("sim:G1")
    assert not is_sim_spec("/dev/ttyACM0")
    assert not is_sim_spec("socket://127.0.0.1:7000")


@pytest.mark.parametrize("text, fragment", [
    ("sim:G3", "unknown preset 'G3'; presets are G1, G2, film"),
    ("sim:g1", "did you mean 'G1'?"),
    ("sim:G1?", "nothing after '?'"),
    ("sim:G1?speed=2", "unknown parameter 'speed'"),
    ("sim:G1?accel", "parameter 'accel' needs =VALUE"),
    ("sim:G1?accel=2&accel=3", "given twice"),
    ("sim:G1?accel=0.5", "accel must be 1 to"),
    ("sim:G1?accel=fast", "not a plain decimal number"),
    ("sim:G1?accel=1e9", "accel must be 1 to"),
    ("sim:G1?seed=1.5", "not a non-negative integer"),
    ("sim:G1?faults=drop=3", "faults: fault item 1 'drop=3'"),
    ("sim:G1?faults=%C3%28", "not UTF-8"),
    ("sim:G1?spread=0.6", "spread must be 0 to 0.5"),
    ("sim:G1?spread=-0.1", "not a plain decimal number"),
    ("sim:G1?spread=nan", "not a plain decimal number"),
    ("sim:G1?channels=9", "channels must be a whole number of channel cards, 1 to 8"),
    ("sim:G1?channels=two", "channels must be a whole number"),
    ("sim:film?channels=2", "the film preset is one film under the laser"),
    ("sim:G1?channels=4&faults=missing=ina226", "every channel card has its ina226: name "
                                                "the card, ina226@K"),
    ("sim:G1?channels=2&faults=stuck=ads1115@2", "ads1115@2 needs a board of at least 3"),
    ("sim:G1?faults=stuck=ads1115@0", "ads1115@0 is a chip of a channel card"),
    ("sim:G1?channels=2&faults=card_fail=2@1s", "needs a board of at least 3 channel cards"),
    ("sim:G1?faults=card_fail=0@1s", "needs a board of at least 1 channel cards"),
    ("/dev/ttyUSB0", "starts with 'sim:'"),
])
def test_bad_specs_are_rejected_with_a_message_naming_the_problem(text, fragment):
    with pytest.raises(SimSpecError) as err:
        parse_sim_spec(text)
    assert fragment in str(err.value)


@given(st.sampled_from(PRESETS), st.floats(min_value=1.0, max_value=1e6),
       st.integers(min_value=0, max_value=2**32 - 1), plans(),
       st.floats(min_value=0.0, max_value=0.5), st.integers(min_value=0, max_value=8))
def test_canonical_text_parses_back_to_the_same_spec(preset, accel, seed, plan, spread,
                                                     channels):
    if preset == "film" or set(plan.missing + plan.stuck) - {"sht31"}:
        channels = 0  # (cards drive LED pixels; their chip faults name a card: rejected above)
    spec = SimSpec(preset, accel, seed, plan, spread=spread, channels=channels)
    assert parse_sim_spec(str(spec)) == spec


@given(st.text(max_size=60))
def test_any_text_after_the_prefix_parses_or_raises_sim_spec_error(text):
    try:
        parse_sim_spec("sim:" + text)
    except SimSpecError as exc:
        assert str(exc)


def test_make_rig_carries_the_spec_into_the_launcher():
    rig = parse_sim_spec("sim:G2?accel=30&seed=4&faults=reset=10s&spread=0.05&channels=8"
                         ).make_rig()
    assert (rig.preset, rig.accel, rig.seed, rig.plan.resets, rig.spread, rig.channels) == (
        "G2", 30.0, 4, (10.0,), 0.05, 8)
