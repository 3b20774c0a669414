"""The three run kinds as short START_RUN programs on the simulated presets, for the HIL
tests and the firmware bench: a G1 lifetime at 10 V to half luminance, the film's
photostability, a J-V-L sweep of G1."""

from dataclasses import dataclass

from protocol import schema


@dataclass(frozen=True)
class RunProgram:
    """preset and seed of the simulated device; fields: START_RUN fields (the rest take
    tests.support.fw_harness.start_run_head's defaults); it ends with stop_reason at a run
    time within stops_within_s (device seconds)."""

    preset: str
    seed: int
    fields: dict
    stop_reason: int
    stops_within_s: tuple


RUNS = {
    # G1's T50 at 10 V is 630 s (hil_sim/README.md); the firmware's fraction check stops it
    # at its first sample below half.
    "lifetime": RunProgram("G1", 1, dict(
        mode=schema.MODE_CONSTANT_VOLTAGE, setpoint_mv=10000, sample_period_ms=1000,
        l0_settle_ms=1000, stop_fraction_pm=500, max_duration_s=3600),
        schema.STOP_LUMINANCE_FRACTION, (600.0, 700.0)),
    "photostability": RunProgram("film", 3, dict(
        mode=schema.MODE_PHOTOSTABILITY, laser=1, sample_period_ms=10000, max_duration_s=1800,
        pl_interval_s=300, stop_fraction_pm=0),
        schema.STOP_COMPLETED, (1800.0, 1801.0)),
    # 141 steps of 50 ms
    "jvl": RunProgram("G1", 2, dict(
        mode=schema.MODE_SWEEP, setpoint_mv=0, stop_mv=14000, step_mv=100, dwell_ms=50,
        sample_period_ms=50, stop_fraction_pm=0, max_duration_s=0),
        schema.STOP_COMPLETED, (7.0, 7.5)),
}
