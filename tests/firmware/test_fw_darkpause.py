"""Dark tracking on the device: pauses with the drive off (or the shutter closed), flagged
dark samples, and the offset they give L0 and the fraction stop."""

from lumenfw import runprogram
from lumenfw.darkpause import DARK_SETTLE_MS
from protocol import schema
from tests.support.fw_harness import Bed


def _run(preset="G1", accel=200, **fields):
    bed = Bed(preset=preset, accel=accel)
    bed.hello()
    reply = bed.start_run(**fields)
    assert reply[0] == schema.ACK, reply
    bed.run_until(lambda: bed.ctrl.state != schema.STATE_RUNNING, 60, "the run to end")
    bed.command(schema.GET_STATUS, (0,))  # flushes the last batch
    return bed


def _t(record):
    return record["t_s"] + record["t_us"] / 1e6


def _timed_events(bed, code):
    """(run time, value) of each event of one code."""
    return [(h[4] + h[5] / 1e6, h[6]) for h in bed.of(schema.EVENT) if h[1] == code]  # t_s, t_us, value


def _pauses(samples):
    """Runs of consecutive dark samples."""
    runs, current = [], []
    for record in samples:
        if record["flags"] & schema.FLAG_DARK:
            current.append(record)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def test_a_voltage_hold_starts_dark_then_pauses_after_every_dark_every_s_of_drive():
    bed = _run(setpoint_mv=10000, stop_fraction_pm=0, l0_settle_ms=200, sample_period_ms=500,
               max_duration_s=50, dark_every_s=20, dark_ms=1500)
    samples = bed.samples(42)
    begins = _timed_events(bed, schema.EV_DARK_BEGIN)
    ends = _timed_events(bed, schema.EV_DARK_END)
    # Dark 0..1.5 s, drive 20 s, dark 1.5 s, drive 20 s, dark 1.5 s until the end at 50 s.
    assert [round(t, 3) for t, _ in begins] == [0.0, 21.5, 43.0]
    assert [round(t, 3) for t, _ in ends] == [1.5, 23.0, 44.5]
    assert all(value == 1500 for _, value in begins)
    pauses = _pauses(samples)
    assert len(pauses) == 3
    for (begin_t, _), (end_t, mean_pa), pause in zip(begins, ends, pauses):
        times = [_t(r) for r in pause]
        assert begin_t + DARK_SETTLE_MS / 1000 <= times[0] and times[-1] < end_t
        assert len(pause) == 3  # 0.1, 0.6 and 1.1 s into the pause
        assert mean_pa == sum(r["pd_pa"] for r in pause) // len(pause)
        assert all(not r["flags"] & schema.FLAG_OUTPUT_ON for r in pause)
        assert all(r["pd_pa"] < 100 for r in pause)  # G1 at 10 V gives ~45 nA when lit
    lit = [r for r in samples if not r["flags"] & schema.FLAG_DARK]
    assert all(r["flags"] & schema.FLAG_OUTPUT_ON and r["pd_pa"] > 10000 for r in lit)
    # L0 is the first lit sample, the settle after the first pause and the climb to 10 V,
    # less that pause's dark.
    [l0_sample] = [r for r in samples if r["flags"] & schema.FLAG_L0]
    assert l0_sample is lit[0] and round(_t(l0_sample), 3) == round(1.7 + bed.climb_s(), 3)
    [(_, l0_pa)] = _timed_events(bed, schema.EV_L0_CAPTURED)
    assert l0_pa == l0_sample["pd_pa"] - ends[0][1]
    # After each pause the hold settles again before it samples.
    after_second = [r for r in lit if _t(r) > 23.0]
    assert round(_t(after_second[0]), 3) == round(23.2 + bed.climb_s(), 3)


def test_a_luminance_target_ramps_after_the_first_pause_and_pauses_count_from_the_hold():
    bed = _run(setpoint_mv=12000, target_pd_pa=20000, step_mv=500, dwell_ms=100,
               stop_fraction_pm=0, l0_settle_ms=100, sample_period_ms=500, max_duration_s=30,
               dark_every_s=10, dark_ms=600)
    samples = bed.samples(42)
    [(reached_t, _)] = _timed_events(bed, schema.EV_TARGET_REACHED)
    begins = [t for t, _ in _timed_events(bed, schema.EV_DARK_BEGIN)]
    assert begins[0] == 0.0
    assert abs(begins[1] - (reached_t + 10)) < 0.01
    ramp = [r for r in samples if r["flags"] & schema.FLAG_RAMP]
    assert ramp and all(not r["flags"] & schema.FLAG_DARK for r in ramp)
    assert _t(ramp[0]) > 0.6  # the ramp began after the first pause


def test_a_photostability_pause_closes_the_shutter_and_the_pl_points_stay_on_exposure_time():
    bed = _run(preset="film", accel=50, mode=schema.MODE_PHOTOSTABILITY, setpoint_mv=0,
               compliance_na=0, laser=1, pl_interval_s=10, max_duration_s=60,
               sample_period_ms=1000, stop_fraction_pm=0, dark_every_s=15, dark_ms=2000)
    samples = bed.samples(42)
    pauses = _pauses(samples)
    begins = [t for t, _ in _timed_events(bed, schema.EV_DARK_BEGIN)]
    ends = [t for t, _ in _timed_events(bed, schema.EV_DARK_END)]
    assert len(pauses) == len(begins) >= 3
    for pause in pauses:
        assert all(not r["flags"] & schema.FLAG_SHUTTER_OPEN for r in pause)
        assert all(r["flags"] & schema.FLAG_LASER_ON for r in pause)  # the laser stays on
        assert all(r["pd_pa"] < 100 for r in pause)  # the film's PL reaches it at ~200 nA
    lit = [r for r in samples if not r["flags"] & schema.FLAG_DARK]
    assert all(r["pd_pa"] > 100000 for r in lit)

    def exposure_s(t):
        return t - sum(min(end, t) - begin for begin, end in zip(begins, ends) if begin < t)

    points = [exposure_s(_t(r)) for r in samples if r["flags"] & schema.FLAG_PL_POINT]
    assert len(points) >= 5
    # The first sample at or after each 10 s of exposure (the run clock has 8 s of pauses
    # by the fifth point), as without pauses.
    assert all(k * 10 <= t < k * 10 + 1.0 for k, t in enumerate(points)), points


def test_dark_tracking_is_refused_where_it_cannot_work():
    bed = Bed()
    bed.hello()
    cases = (
        (dict(mode=schema.MODE_CONSTANT_CURRENT, target_current_na=30000, dark_every_s=60,
              dark_ms=1000), runprogram.F_DARK_EVERY),
        (dict(dark_every_s=1, dark_ms=1000), runprogram.F_DARK_EVERY),
        (dict(sample_period_ms=1000, dark_every_s=60, dark_ms=1000), runprogram.F_DARK_MS),
    )
    for fields, field in cases:
        mid, head = bed.start_run(**fields)
        assert mid == schema.NACK, fields
        assert head[2] == schema.NACK_OUT_OF_RANGE and head[3] == field, (fields, head)
