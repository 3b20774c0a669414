"""The link fault grammar: strict parsing, clear errors, canonical round trip."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hil_sim.faults import DOWN, UP, FaultPlan, FaultSpecError, parse_faults
from tests.support.fault_plans import plans

EXAMPLE = "corrupt=0.01,drop=0.001,delay=20ms,cut=300s+5s,cut=900s+3s,reset=1800s,seed=7"


def test_example_from_the_readme_parses_to_its_meaning():
    plan = parse_faults(EXAMPLE)
    assert plan.corrupt == {UP: 0.01, DOWN: 0.01}
    assert plan.drop == {UP: 0.001, DOWN: 0.001}
    assert plan.delay_s == {UP: pytest.approx(0.02), DOWN: pytest.approx(0.02)}
    assert plan.cuts == ((300.0, 5.0), (900.0, 3.0))
    assert plan.resets == (1800.0,)
    assert plan.seed == 7


def test_empty_text_is_the_empty_plan():
    assert parse_faults("") == FaultPlan()
    assert parse_faults("").is_empty()


def test_direction_prefix_sets_one_direction_only():
    plan = parse_faults("up:corrupt=0.5,down:delay=1.5s")
    assert plan.corrupt == {UP: 0.5, DOWN: 0.0}
    assert plan.delay_s == {UP: 0.0, DOWN: 1.5}


def test_units_scale_durations_to_seconds():
    plan = parse_faults("reset=2h,reset=3min,reset=250us,cut=1.5min+500ms")
    assert plan.resets == (pytest.approx(250e-6), 180.0, 7200.0)
    assert plan.cuts == ((90.0, 0.5),)


def test_lit_prefix_counts_a_time_in_lit_time():
    plan = parse_faults("reset=lit:300s,cut=lit:1000s+4s,cut=20s+1s")
    assert (plan.lit_resets, plan.lit_cuts) == ((300.0,), ((1000.0, 4.0),))
    assert (plan.resets, plan.cuts) == ((), ((20.0, 1.0),))
    assert str(plan) == "cut=20.0s+1.0s,cut=lit:1000.0s+4.0s,reset=lit:300.0s"


def test_chip_faults_name_a_chip_each_and_come_back_canonical():
    plan = parse_faults("stuck=ina226,drop=0.1,missing=sht31,missing=ads1115")
    assert (plan.missing, plan.stuck) == (("ads1115", "sht31"), ("ina226",))
    assert plan.chip_text() == "missing=ads1115,missing=sht31,stuck=ina226"
    assert str(plan) == "drop=0.1,missing=ads1115,missing=sht31,stuck=ina226"
    assert not parse_faults("missing=mcp4725").is_empty()


def test_a_chip_fault_may_name_a_channel_cards_chip():
    plan = parse_faults("stuck=ina226@01,missing=mcp4725@7,missing=ina226")
    assert (plan.missing, plan.stuck) == (("ina226", "mcp4725@7"), ("ina226@1",))
    assert parse_faults(str(plan)) == plan


def test_a_card_fails_at_a_device_or_lit_time_and_comes_back_canonical():
    plan = parse_faults("card_fail=3@lit:2min,drop=0.1,card_fail=0@500ms")
    assert plan.card_fails == ((0, "", 0.5), (3, "lit:", 120.0))
    assert plan.card_text() == "0@500000,3@lit:120000000"
    assert str(plan) == "drop=0.1,card_fail=0@0.5s,card_fail=3@lit:120.0s"
    assert parse_faults(str(plan)) == plan and not parse_faults("card_fail=1@1s").is_empty()


@pytest.mark.parametrize("text, fragment", [
    ("card_fail=8@1s", "card_fail needs CARD@AT, a card 0 to 7"),
    ("card_fail=2", "card_fail needs CARD@AT"),
    ("card_fail=2@10", "write a number and a unit"),
    ("card_fail=2@1s,card_fail=2@lit:5s", "card 2 fails once"),
    ("missing=sht35", "missing takes a chip, one of ina226, mcp4725, ads1115, sht31"),
    ("missing=sht31@1", "sht31 is the rig's, on no channel card"),
    ("stuck=ina226@8", "CHIP@CARD names a card 0 to 7"),
    ("stuck=ina226@x", "CHIP@CARD names a card 0 to 7"),
    ("stuck=ina226@1,missing=ina226@1", "chip ina226@1 already stuck"),
    ("stuck=", "stuck takes a chip"),
    ("missing=sht31,stuck=sht31", "chip sht31 already missing"),
    ("up:stuck=ina226", "fault of a chip on the board"),
    ("corrupt=2", "probability per byte, 0 to 1"),
    ("drop=-0.1", "not a plain decimal number"),
    ("delay=20", "write a number and a unit"),
    ("cut=300s", "cut needs AT+DURATION"),
    ("cut=300s+0s", "duration must be above zero"),
    ("jitter=1ms", "unknown key 'jitter'"),
    ("sideways:drop=0.1", "direction must be up: or down:"),
    ("up:reset=10s", "takes no up:/down: prefix"),
    ("drop=0.1,,seed=1", "empty item"),
    ("drop=0.1,drop=0.2", "set twice for direction up"),
    ("drop=0.1,down:drop=0.2", "set twice for direction down"),
    ("seed=1,seed=2", "seed given twice"),
    ("seed=-3", "seed must be an integer"),
    ("reset", "expected KEY=VALUE"),
    ("corrupt=nan", "not a plain decimal number"),
    ("reset=1e400s", "too large"),
    (" drop=0.1", "unknown key ' drop'"),
])
def test_bad_items_are_rejected_with_a_message_naming_the_problem(text, fragment):
    with pytest.raises(FaultSpecError, match="fault item") as err:
        parse_faults(text)
    assert fragment in str(err.value)




@given(plans())
def test_canonical_text_parses_back_to_the_same_plan(plan):
    assert parse_faults(str(plan)) == plan


@given(st.text(alphabet=st.sampled_from("updowncrtlyesk:=,+.0123456789msuhi-eE% "),
               max_size=60))
def test_any_text_either_parses_or_raises_fault_spec_error(text):
    try:
        plan = parse_faults(text)
    except FaultSpecError as exc:
        assert str(exc)
    else:
        assert parse_faults(str(plan)) == plan


@given(st.text(max_size=40))
def test_arbitrary_unicode_never_raises_anything_else(text):
    try:
        parse_faults(text)
    except FaultSpecError:
        pass
