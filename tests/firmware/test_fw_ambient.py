"""Ambient readings (SHT31) never make a run depend on when it began or move a sample."""

from protocol import schema
from tests.support.fw_harness import Bed, start_run_head

PERIOD_MS = 100


def _run(start_while_measuring, duration_s=20, **program):
    """Every sample and event code of a G1 run (duration_s long) whose START_RUN reaches the
    device while the ambient measurement the first pass began converts (the sensor NACKs
    every command then), or with the HELLO, before the sensor was ever started. program:
    START_RUN fields instead of the constant-voltage run's."""
    bed = Bed("G1", accel=None, seed=3)
    device, sht = bed.device, bed.board.sht
    bed.send(schema.HELLO, (bed.session_id, schema.SCHEMA_HASH, 1))
    if start_while_measuring:
        device.step_safely()  # takes the HELLO; the sensor's first measurement begins
        assert sht.measuring()
    since = len(bed.messages)
    bed.send(schema.START_RUN, start_run_head(**dict(
        dict(cmd_id=9, run_key=7, setpoint_mv=10000, sample_period_ms=PERIOD_MS,
             max_duration_s=duration_s), **program)))
    device.sleep_safely()  # the host's bytes end this wait at once
    device.step_safely()  # ...and this pass starts the run
    bed.run_until(lambda: schema.EV_RUN_STOPPED in bed.event_codes(since), timeout_s=60,
                  what="the run's end")
    assert (schema.ACK, 9) in [(mid, head[0]) for mid, head, _ in bed.messages[since:]
                               if mid in (schema.ACK, schema.NACK)]
    _run.climb_s = bed.climb_s()
    return bed.samples(run_key=7), bed.event_codes(since)


def test_a_run_begun_during_an_ambient_measurement_stores_what_any_other_start_would():
    during, during_events = _run(start_while_measuring=True)
    idle, idle_events = _run(start_while_measuring=False)
    assert schema.EV_I2C_ERROR not in during_events
    # The L0 settle (0.1 s) after the climb to 10 V, then every 0.1 s up to 19.9 s.
    first_s = _run.climb_s + 0.1
    assert len(during) == int((20 - first_s) / 0.1 + 1e-9) + 1
    assert during == idle


def test_a_sweep_begun_during_an_ambient_measurement_reads_the_same_currents():
    """The INA226's conversions restart after the wait for a measurement in flight, so
    their phase on the run clock (which decides each result while the current settles after
    a step) does not depend on when the START_RUN came."""
    sweep = dict(mode=schema.MODE_SWEEP, setpoint_mv=8000, stop_mv=12000, step_mv=500,
                 dwell_ms=200, sample_period_ms=50)
    during, _ = _run(start_while_measuring=True, **sweep)
    idle, _ = _run(start_while_measuring=False, **sweep)
    assert len(during) > 30
    assert during == idle


def test_the_sensors_own_passes_never_move_a_sample_off_the_run_grid():
    # 300 s: the sensor's 2 s schedule slides past the 100 ms sample grid many times.
    samples, _ = _run(start_while_measuring=False, duration_s=300)
    first_us = samples[0]["t_s"] * 1_000_000 + samples[0]["t_us"]
    late_us = [s["t_s"] * 1_000_000 + s["t_us"] - first_us - s["seq"] * PERIOD_MS * 1000
               for s in samples]
    assert late_us == [0] * len(samples)
