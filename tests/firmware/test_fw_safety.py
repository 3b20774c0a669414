"""Safety on the device, one test per path, checked on the simulated pins and DAC."""

import time

from hil_sim.gpio import SimPin
from host.link import DeviceEvent, wire
from host.link.snapshot import DeviceView
from host.runs.following import _event_text
from protocol import names, schema
from tests.support.fw_harness import Bed

CLOSED = 1
OPEN = 0


def _outputs_safe(bed):
    board = bed.board
    closed_level = 1 - board.config.SHUTTER_OPEN_LEVEL
    return (board.relay.value(), board.laser.value(), board.shutter.value(), board.dac.code) == (
        0, 0, closed_level, 0)


def _stop_events(bed, since=0):
    """(code, value) of the safety and stop events, in order."""
    wanted = (schema.EV_INTERLOCK_OPEN, schema.EV_COMPLIANCE, schema.EV_HOST_LOST,
              schema.EV_EXCEPTION, schema.EV_I2C_ERROR, schema.EV_SAFE_STOP,
              schema.EV_RUN_STOPPED, schema.EV_SHUTTER_FAULT)
    return [(code, value) for code, value, _, _ in bed.events(since) if code in wanted]


class RaisingPin:
    """An input pin whose read fails once armed: a stand-in for a broken GPIO read."""

    def __init__(self, level, error):
        self.level = level
        self.error = error
        self.armed = False

    def value(self, v=None):
        if self.armed:
            raise self.error
        return self.level


class PinOpeningAt:
    """The interlock, opening at a device time: read as the firmware reads it, at its
    passes (a change inside an idle wait is also caught there on the simulated board)."""

    def __init__(self, at_us):
        self.at_us = at_us
        self.clock = None  # the board's, set once the bed is built

    def value(self, v=None):
        return OPEN if self.clock is not None and self.clock.now_us() >= self.at_us else CLOSED


def _stop_time_us(bed, passes=100):
    """Device time of the pass that found the rig safe-stopped (within `passes`)."""
    for _ in range(passes):
        bed.device.step_safely()
        if bed.ctrl.state == schema.STATE_SAFE_STOP:
            return bed.board.clock.now_us()
        bed.device.sleep_safely()
    raise AssertionError("no safe stop")


def _running_cv(interlock=None, accel=100, **fields):
    bed = Bed(accel=accel, interlock=interlock)
    bed.hello()
    program = dict(setpoint_mv=10000, sample_period_ms=100, **fields)
    assert bed.start_run(**program)[0] == schema.ACK
    bed.run_until(lambda: bed.ctrl.next_seq >= 3, what="3 samples")
    assert bed.board.relay.value() == 1 and bed.board.dac.code > 0
    return bed


def test_interlock_open_stops_the_output_and_zeroes_the_dac_within_one_sample_period():
    interlock = PinOpeningAt(1 << 62)
    bed = _running_cv(interlock)
    interlock.clock = bed.board.clock
    interlock.at_us = bed.board.clock.now_us() + 12_345  # between two passes
    assert _stop_time_us(bed) - interlock.at_us < 100000
    assert _outputs_safe(bed)
    assert bed.ctrl.state == schema.STATE_SAFE_STOP
    assert _stop_events(bed) == [
        (schema.EV_INTERLOCK_OPEN, 0), (schema.EV_SAFE_STOP, schema.STOP_INTERLOCK),
        (schema.EV_RUN_STOPPED, schema.STOP_INTERLOCK)]


def test_interlock_open_closes_the_shutter_and_switches_the_laser_off_within_one_period():
    interlock = PinOpeningAt(1 << 62)
    bed = Bed(preset="film", accel=None, interlock=interlock)
    interlock.clock = bed.board.clock
    bed.hello()
    bed.start_run(mode=schema.MODE_PHOTOSTABILITY, setpoint_mv=0, compliance_na=0, laser=1,
                  pl_interval_s=60, max_duration_s=600, sample_period_ms=100)
    bed.run_until(lambda: bed.ctrl.next_seq >= 3, what="3 samples")
    assert bed.board.laser.value() == 1
    assert bed.board.shutter.value() == bed.board.config.SHUTTER_OPEN_LEVEL
    interlock.at_us = bed.board.clock.now_us() + 12_345
    assert _stop_time_us(bed) - interlock.at_us < 100000
    assert _outputs_safe(bed) and bed.ctrl.state == schema.STATE_SAFE_STOP
    bed.run_until(lambda: schema.EV_SHUTTER_CLOSED in bed.event_codes(), what="shutter closed")


def test_start_run_with_the_interlock_open_is_refused():
    bed = Bed(interlock=SimPin(OPEN))
    bed.hello()
    msg_id, head = bed.start_run()
    assert msg_id == schema.NACK and head[2] == schema.NACK_INTERLOCK_OPEN
    assert _outputs_safe(bed) and bed.ctrl.state == schema.STATE_IDLE


def test_nothing_can_be_switched_on_by_hand_with_the_interlock_open():
    bed = Bed(interlock=SimPin(OPEN))
    bed.hello()
    assert bed.command(schema.SET_OUTPUT, (0, 5000, 1))[1][2] == schema.NACK_INTERLOCK_OPEN
    assert bed.command(schema.SHUTTER, (1, 1))[1][2] == schema.NACK_INTERLOCK_OPEN
    assert _outputs_safe(bed)


def test_compliance_switches_the_output_off():
    bed = Bed(accel=100)
    bed.hello()
    bed.start_run(setpoint_mv=14000, compliance_na=500000, sample_period_ms=100)
    bed.run_until(lambda: bed.ctrl.state != schema.STATE_RUNNING, what="the run to stop")
    assert _outputs_safe(bed) and bed.ctrl.state == schema.STATE_SAFE_STOP
    events = _stop_events(bed)
    assert events[0][0] == schema.EV_COMPLIANCE and events[0][1] >= 500000
    assert events[1:] == [(schema.EV_SAFE_STOP, schema.STOP_COMPLIANCE),
                          (schema.EV_RUN_STOPPED, schema.STOP_COMPLIANCE)]
    status = bed.status()
    assert status["stop_reason"] == schema.STOP_COMPLIANCE
    assert status["flags"] & schema.FLAG_COMPLIANCE


def test_host_silent_longer_than_the_grace_stops_the_run_safely():
    bed = _running_cv(host_loss_grace_ms=1000)  # START_RUN is the host's last frame
    bed.run_until(lambda: bed.ctrl.state != schema.STATE_RUNNING, timeout_s=30,
                  what="the host-lost stop")
    assert _outputs_safe(bed) and bed.ctrl.state == schema.STATE_SAFE_STOP
    events = _stop_events(bed)
    assert events[0][0] == schema.EV_HOST_LOST and 1000 <= events[0][1] < 1200
    assert events[1:] == [(schema.EV_SAFE_STOP, schema.STOP_HOST_LOST),
                          (schema.EV_RUN_STOPPED, schema.STOP_HOST_LOST)]


def test_host_heartbeats_keep_a_run_with_a_grace_going():
    bed = _running_cv(host_loss_grace_ms=1000)
    for _ in range(7):  # 2.1 s, a heartbeat every 300 ms
        bed.send(schema.HEARTBEAT, (0, 0))
        next_at = time.monotonic() + 0.3
        bed.run_until(lambda at=next_at: time.monotonic() >= at, what="300 ms")
    assert bed.ctrl.state == schema.STATE_RUNNING


def test_a_run_with_zero_grace_goes_on_without_the_host():
    bed = _running_cv(host_loss_grace_ms=0)
    start = time.monotonic()
    bed.run_until(lambda: time.monotonic() - start >= 2.0, what="2 s")
    assert bed.ctrl.state == schema.STATE_RUNNING and bed.board.relay.value() == 1
    assert schema.EV_HOST_LOST in bed.event_codes()  # reported, not acted on


def test_exception_in_the_loop_makes_outputs_safe_then_faults_and_keeps_serving():
    interlock = RaisingPin(CLOSED, RuntimeError("interlock input unreadable"))
    bed = _running_cv(interlock)
    since = len(bed.messages)
    interlock.armed = True
    bed.step()
    assert _outputs_safe(bed) and bed.ctrl.state == schema.STATE_FAULT
    assert _stop_events(bed, since) == [
        (schema.EV_EXCEPTION, schema.FAULT_SOFTWARE),
        (schema.EV_SAFE_STOP, schema.STOP_EXCEPTION),
        (schema.EV_RUN_STOPPED, schema.STOP_EXCEPTION)]
    logs = [tail for mid, _, tail in bed.messages[since:] if mid == schema.LOG]
    assert logs and b"RuntimeError" in logs[0]
    # Still failing every pass: no flood of reports, and the host is still answered.
    status = bed.status()
    assert (status["state"], status["fault_code"]) == (schema.STATE_FAULT,
                                                       schema.FAULT_SOFTWARE)
    assert len(_stop_events(bed, since)) == 3
    assert bed.start_run(run_key=43)[1][2] == schema.NACK_FAULTED
    interlock.armed = False
    assert bed.command(schema.STOP_RUN, (0, 0))[0] == schema.ACK
    status = bed.status()
    assert (status["state"], status["fault_code"], status["stop_reason"]) == (
        schema.STATE_IDLE, schema.FAULT_NONE, schema.STOP_EXCEPTION)


def test_i2c_failure_faults_and_names_the_address():
    bed = _running_cv()
    ina = bed.board.config.ADDR_INA226
    bed.board.i2c.fail(ina)
    bed.run_until(lambda: bed.ctrl.state == schema.STATE_FAULT, what="FAULT")
    assert _outputs_safe(bed)
    assert _stop_events(bed)[:4] == [
        (schema.EV_EXCEPTION, schema.FAULT_I2C), (schema.EV_I2C_ERROR, ina),
        (schema.EV_SAFE_STOP, schema.STOP_I2C_FAULT),
        (schema.EV_RUN_STOPPED, schema.STOP_I2C_FAULT)]
    assert bed.status()["fault_code"] == schema.FAULT_I2C


def test_the_host_names_the_fault_the_device_reports():
    bed = _running_cv()
    bed.board.i2c.fail(bed.board.config.ADDR_INA226)
    bed.run_until(lambda: bed.ctrl.state == schema.STATE_FAULT, what="FAULT")
    bed.status()
    events = [wire.decode(schema.EVENT, body) for body in bed.bodies(schema.EVENT)]
    exc = next(e for e in events if e.code == schema.EV_EXCEPTION)
    delivered = DeviceEvent("G1", exc.event_seq, exc.code, names.EVENT_NAMES[exc.code],
                            exc.run_key, exc.t_s, exc.t_us, exc.value, exc.state, False)
    assert _event_text(delivered) == "exception: i2c fault"
    view = DeviceView()
    view.saw_status(wire.decode(schema.STATUS, bed.bodies(schema.STATUS)[-1]), 0.0)
    assert view.as_dict(now=0.0)["fault"] == "i2c"


def test_a_dead_dac_still_leaves_the_relay_open():
    bed = _running_cv()
    bed.board.i2c.fail(bed.board.config.ADDR_DAC)
    bed.command(schema.STOP_RUN, (0, 0))
    assert bed.board.relay.value() == 0 and bed.device.outputs.dac_failed


def test_boot_makes_the_outputs_safe_before_the_first_byte_is_written():
    seen = []

    def leave_outputs_on(board):
        board.relay.value(1)
        board.laser.value(1)
        board.shutter.value(board.config.SHUTTER_OPEN_LEVEL)
        board.i2c.writeto(board.config.ADDR_DAC, bytes((0x08, 0x00)))  # code 2048
        assert board.dac.code == 2048

        def first_write():
            if not seen:
                seen.append(_outputs_safe_board(board))
        board._link.on_write = first_write

    bed = Bed(before_device=leave_outputs_on)
    assert seen == [True]
    assert _outputs_safe(bed)


def _outputs_safe_board(board):
    closed_level = 1 - board.config.SHUTTER_OPEN_LEVEL
    return (board.relay.value(), board.laser.value(), board.shutter.value(),
            board.dac.code) == (0, 0, closed_level, 0)


def test_a_shutter_that_never_opens_stops_the_photostability_run():
    def stick_shutter(board):
        board.shutter_closed = SimPin(1)  # the switch never releases

    bed = Bed(preset="film", accel=100, before_device=stick_shutter)
    bed.hello()
    bed.start_run(mode=schema.MODE_PHOTOSTABILITY, setpoint_mv=0, compliance_na=0, laser=1,
                  pl_interval_s=60, max_duration_s=600, sample_period_ms=100)
    bed.run_until(lambda: bed.ctrl.state != schema.STATE_RUNNING, what="the shutter fault")
    assert _outputs_safe(bed) and bed.ctrl.state == schema.STATE_SAFE_STOP
    events = _stop_events(bed)
    assert events[0][0] == schema.EV_SHUTTER_FAULT
    assert events[0][1] >= bed.board.config.SHUTTER_TIMEOUT_MS
    assert events[1:] == [(schema.EV_SAFE_STOP, schema.STOP_SHUTTER_FAULT),
                          (schema.EV_RUN_STOPPED, schema.STOP_SHUTTER_FAULT)]
    assert bed.ctrl.next_seq == 0  # no sample is taken until the shutter is open


def test_every_loop_pass_feeds_the_watchdog():
    bed = _running_cv()
    fed = bed.board.watchdog_fed_ms
    bed.run_until(lambda: bed.board.watchdog_fed_ms != fed, timeout_s=30, what="a feed")
    passes_fed = 0
    for _ in range(20):
        before = bed.board.watchdog_fed_ms
        time.sleep(0.002)
        bed.step()
        passes_fed += bed.board.watchdog_fed_ms != before
    assert passes_fed == 20


def test_every_stop_leaves_the_same_event_trail():
    bed = _running_cv()
    bed.command(schema.STOP_RUN, (0, 0))
    codes = [c for c in bed.event_codes() if c in (
        schema.EV_OUTPUT_OFF, schema.EV_RUN_STOPPED, schema.EV_STATE)]
    assert codes[-3:] == [schema.EV_OUTPUT_OFF, schema.EV_RUN_STOPPED, schema.EV_STATE]
