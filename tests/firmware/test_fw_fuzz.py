"""Whatever the host sends, the firmware answers and never faults (hypothesis on raw frames)."""

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import frame, messages, schema
from tests.support.fw_harness import Bed

_BED = {}


def _bed():
    """One simulated rig for all examples: state carried across them is part of the test."""
    if "bed" not in _BED:
        _BED["bed"] = Bed(accel=None)  # (unpaced: nothing here needs wall time)
        _BED["bed"].hello()
    return _BED["bed"]


def _body(msg_id, data):
    """A body of a valid length for msg_id made of hypothesis' bytes (tails: empty)."""
    size = messages.LAYOUT[msg_id][1]
    return bytes(data[:size].ljust(size, b"\x00"))


frames = st.lists(st.one_of(
    st.tuples(st.sampled_from(sorted(schema.BY_ID)), st.binary(min_size=0, max_size=80)).map(
        lambda t: frame.build(t[0], 0, _body(t[0], t[1]))),
    st.binary(min_size=1, max_size=40),  # garbage between frames
), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames)
def test_random_frames_never_fault_the_rig_and_it_still_answers(chunks):
    bed = _bed()
    for chunk in chunks:
        bed.link.to_device += chunk
        bed.step(3)
    bed.link.to_device += b"\x00"  # end whatever garbage is pending
    assert bed.ctrl.state != schema.STATE_FAULT, bed.device.link.last_failure
    msg_id, head = bed.command(schema.GET_STATUS, (0,))
    assert msg_id in (schema.STATUS, schema.NACK)  # NACK: a random HELLO ended the session
    if msg_id == schema.NACK:
        assert head[2] == schema.NACK_NO_SESSION
        bed.hello()
    assert bed.ctrl.state != schema.STATE_FAULT


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 0xFFFF), st.binary(min_size=0, max_size=60))
def test_random_start_runs_are_refused_or_run_but_never_fault(cmd_id, data):
    bed = _bed()
    size = messages.LAYOUT[schema.START_RUN][1]
    body = bytearray(data[:size].ljust(size, b"\x00"))
    struct.pack_into("<H", body, 0, cmd_id)
    bed.link.to_device += frame.build(schema.START_RUN, 0, bytes(body))
    bed.step(20)
    assert bed.ctrl.state != schema.STATE_FAULT
    bed.command(schema.STOP_RUN, (0, 0))
    assert bed.ctrl.state == schema.STATE_IDLE and bed.board.relay.value() == 0


programs = st.fixed_dictionaries({
    "run_key": st.integers(1, 1000), "mode": st.integers(1, 4),
    "setpoint_mv": st.integers(0, 20000), "stop_mv": st.integers(0, 20000),
    "step_mv": st.integers(0, 5000), "target_pd_pa": st.one_of(st.just(0), st.integers(0, 2000000)),
    "dark_pd_pa": st.integers(-1000, 1000), "target_current_na": st.integers(0, 4000000),
    "compliance_na": st.integers(0, 4000000), "sample_period_ms": st.integers(50, 500),
    "dwell_ms": st.integers(0, 2000), "oversample": st.integers(1, 16),
    "stop_fraction_pm": st.integers(0, 1000), "l0_settle_ms": st.integers(0, 2000),
    "max_duration_s": st.integers(0, 20), "pl_interval_s": st.integers(0, 20),
    "laser": st.integers(0, 1), "resume_seq": st.one_of(st.just(0), st.integers(0, 100)),
})


@settings(max_examples=60, deadline=None)
@given(programs)
def test_plausible_programs_run_or_are_refused_but_never_fault(program):
    bed = _bed()
    bed.command(schema.STOP_RUN, (0, 0))
    msg_id, head = bed.start_run(**program)
    if msg_id == schema.NACK:
        assert head[2] == schema.NACK_OUT_OF_RANGE and 1 <= head[3] < len(
            messages.field_names(schema.START_RUN))
    bed.step(40)
    assert bed.ctrl.state != schema.STATE_FAULT, bed.device.link.last_failure
    bed.command(schema.STOP_RUN, (0, 0))
    assert bed.ctrl.state == schema.STATE_IDLE and bed.board.relay.value() == 0
