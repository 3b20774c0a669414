"""The setpoint climb (lumenfw/climb.py) and the INA226 ALERT: the current is watched by the
chip, not by passes of the loop, and a rise never outruns what the chip can report."""

import math

from hypothesis import given
from hypothesis import strategies as st

from hil_sim.gpio import SimPin
from lumenfw import board_config
from lumenfw.climb import step_mv
from protocol import schema
from tests.support.fw_harness import Bed

MV_PER_NEPER = board_config.CLIMB_MV_PER_NEPER
MIN_MV = board_config.CLIMB_MIN_STEP_MV
MAX_MV = board_config.CLIMB_MAX_STEP_MV


def _step(current_na, limit_na):
    return step_mv(current_na, limit_na, MV_PER_NEPER, MIN_MV, MAX_MV)


@given(limit_na=st.integers(1_000, board_config.MAX_COMPLIANCE_NA),
       fraction=st.floats(0.0, 0.8999))
def test_a_step_never_grows_the_steepest_dut_past_90_percent(limit_na, fraction):
    current_na = int(limit_na * fraction)
    rise_mv = _step(current_na, limit_na)
    exact_mv = MV_PER_NEPER * math.log(0.9 * limit_na / max(current_na, 1))
    assert MIN_MV <= rise_mv <= MAX_MV
    assert rise_mv <= max(exact_mv, MIN_MV)
    # ...and it is not needlessly timid: at least half the exact step, where that is allowed
    assert rise_mv >= min(exact_mv / 2, MAX_MV) or rise_mv == MIN_MV


def test_near_the_limit_the_climb_creeps_and_at_it_stops():
    limit_na = 500_000
    assert _step(455_000, limit_na) == MIN_MV  # between 90 and 100 %: one DAC code
    assert _step(499_875, limit_na) == MIN_MV
    assert _step(500_000, limit_na) == 0  # at the limit: the caller trips
    assert _step(0, limit_na) == MAX_MV  # nothing flows: the largest step


def _holding_cv(alert=None):
    """A G1 constant-voltage run at 10 V, past its climb and L0, with an ALERT input the test
    drives (a SimPin standing in for the INA226's pin) when given."""

    def wire_alert(board):
        if alert is not None:
            board.ina_alert = alert

    bed = Bed(accel=None, before_device=wire_alert)
    bed.hello()
    bed.start_run(setpoint_mv=10000, compliance_na=500_000, sample_period_ms=1000,
                  l0_settle_ms=1000, stop_fraction_pm=0)
    bed.run_until(lambda: bed.ctrl.next_seq >= 3, what="3 samples")
    return bed


def test_an_alert_between_samples_trips_the_very_next_pass():
    alert = SimPin(1)
    bed = _holding_cv(alert)
    seq = bed.ctrl.next_seq
    alert.value(0)  # the INA226 latched a result at or over the compliance
    bed.step()
    assert bed.ctrl.state == schema.STATE_SAFE_STOP and bed.board.relay.value() == 0
    assert bed.board.dac.code == 0 and bed.ctrl.next_seq == seq  # before any other sample
    codes = bed.event_codes()
    assert codes.index(schema.EV_COMPLIANCE) < codes.index(schema.EV_RUN_STOPPED)
    assert bed.status()["stop_reason"] == schema.STOP_COMPLIANCE


def test_a_held_output_costs_one_pass_per_sample_and_no_current_reads_between():
    bed = _holding_cv()
    ina = bed.board.ina
    reads = []
    read_register = ina.read_register

    def counted(ptr):
        if ptr == 4:  # the current register
            reads.append(bed.board.clock.now_us())
        return read_register(ptr)

    ina.read_register = counted
    passes_before = bed.board.passes
    first = bed.ctrl.next_seq
    bed.run_until(lambda: bed.ctrl.next_seq >= first + 20, what="20 more samples")
    samples = bed.ctrl.next_seq - first
    assert len(reads) == samples  # one current read per sample, none in between
    # Per sample period (1 s) the sample's pass and the ambient sensor's (a reading every
    # 2 s is two: start and read back); none for the interlock or the current (they were
    # 20 a second, one every 50 ms, before the ALERT ended the waits), none for the link's
    # wall-clock deadlines (kept on their own clock) or the batch (sent in the sample's).
    assert bed.board.passes - passes_before <= samples * 2 + 2


def test_the_alert_is_armed_at_the_run_compliance_and_at_the_board_maximum_by_hand():
    bed = _holding_cv()
    ina = bed.board.ina
    assert ina.mask_enable & 0x8001 == 0x8001  # shunt over-limit, latched
    assert (ina.alert_limit + 1) * board_config.INA226_CURRENT_LSB_NA == 500_000
    bed.command(schema.STOP_RUN, (0, 0))
    assert bed.command(schema.SET_OUTPUT, (0, 5000, 1))[0] == schema.ACK
    assert ((ina.alert_limit + 1) * board_config.INA226_CURRENT_LSB_NA
            == board_config.MAX_COMPLIANCE_NA)
