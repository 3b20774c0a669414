"""A run program from START_RUN, and its check against the board's limits."""

from lumenfw.darkpause import DARK_SETTLE_MS
from protocol import schema

# Index of each START_RUN head field (cmd_id is 0): NACK_OUT_OF_RANGE names the field by it.
FIELDS = tuple(f[0] for f in schema.BY_ID[schema.START_RUN][2])
F_RUN_KEY = FIELDS.index("run_key")
F_CHANNEL = FIELDS.index("channel")
F_MODE = FIELDS.index("mode")
F_SETPOINT = FIELDS.index("setpoint_mv")
F_STOP = FIELDS.index("stop_mv")
F_STEP = FIELDS.index("step_mv")
F_TARGET_PD = FIELDS.index("target_pd_pa")
F_DARK_PD = FIELDS.index("dark_pd_pa")
F_TARGET_CURRENT = FIELDS.index("target_current_na")
F_COMPLIANCE = FIELDS.index("compliance_na")
F_PERIOD = FIELDS.index("sample_period_ms")
F_DWELL = FIELDS.index("dwell_ms")
F_OVERSAMPLE = FIELDS.index("oversample")
F_STOP_FRACTION = FIELDS.index("stop_fraction_pm")
F_L0_SETTLE = FIELDS.index("l0_settle_ms")
F_MAX_DURATION = FIELDS.index("max_duration_s")
F_HOST_GRACE = FIELDS.index("host_loss_grace_ms")
F_PL_INTERVAL = FIELDS.index("pl_interval_s")
F_LASER = FIELDS.index("laser")
F_RESUME_SEQ = FIELDS.index("resume_seq")
F_RESUME_T = FIELDS.index("resume_t_ms")
F_L0_PD = FIELDS.index("l0_pd_pa")
F_DARK_EVERY = FIELDS.index("dark_every_s")
F_DARK_MS = FIELDS.index("dark_ms")

OK = -1
NO_PROGRAM = (0,) * len(FIELDS)


class RunProgram:
    """The fields of one START_RUN, as attributes named like the schema fields."""

    def __init__(self, head):
        """head: the unpacked START_RUN head tuple, in schema order (all zeros: no program)."""
        self.cmd_id = head[0]
        self.run_key = head[F_RUN_KEY]
        self.channel = head[F_CHANNEL]
        self.mode = head[F_MODE]
        self.setpoint_mv = head[F_SETPOINT]
        self.stop_mv = head[F_STOP]
        self.step_mv = head[F_STEP]
        self.target_pd_pa = head[F_TARGET_PD]
        self.dark_pd_pa = head[F_DARK_PD]
        self.target_current_na = head[F_TARGET_CURRENT]
        self.compliance_na = head[F_COMPLIANCE]
        self.sample_period_ms = head[F_PERIOD]
        self.dwell_ms = head[F_DWELL]
        self.oversample = head[F_OVERSAMPLE]
        self.stop_fraction_pm = head[F_STOP_FRACTION]
        self.l0_settle_ms = head[F_L0_SETTLE]
        self.max_duration_s = head[F_MAX_DURATION]
        self.host_loss_grace_ms = head[F_HOST_GRACE]
        self.pl_interval_s = head[F_PL_INTERVAL]
        self.laser = head[F_LASER]
        self.resume_seq = head[F_RESUME_SEQ]
        self.resume_t_ms = head[F_RESUME_T]
        self.l0_pd_pa = head[F_L0_PD]
        self.dark_every_s = head[F_DARK_EVERY]
        self.dark_ms = head[F_DARK_MS]

    def ramps_to_target(self):
        return self.mode == schema.MODE_CONSTANT_VOLTAGE and self.target_pd_pa > 0


def _outside(value, low, high):
    return value < low or value > high


def check(program, limits):
    """Index of the first START_RUN field (in schema order) outside the board's limits, or OK.

    limits is a lumenfw.limits.Limits built from the board config.  The device checks
    even what the host has already checked: it is the last line of defence.
    """
    p = program
    mode = p.mode
    if p.run_key == 0:
        return F_RUN_KEY
    if p.channel >= limits.channels:
        return F_CHANNEL
    if mode not in limits.modes:
        return F_MODE
    if mode == schema.MODE_PHOTOSTABILITY and p.channel != limits.laser_channel:
        return F_MODE  # the laser and shutter serve one film position
    # A hold voltage, ramp ceiling or current ceiling must be above 0; a sweep may start at 0.
    holds = mode == schema.MODE_CONSTANT_VOLTAGE or mode == schema.MODE_CONSTANT_CURRENT
    if _outside(p.setpoint_mv, 1 if holds else 0, limits.max_setpoint_mv):
        return F_SETPOINT
    sweep = mode == schema.MODE_SWEEP
    stepped = sweep or p.ramps_to_target()
    if sweep and (_outside(p.stop_mv, 0, limits.max_setpoint_mv) or p.stop_mv == p.setpoint_mv):
        return F_STOP
    if stepped and _outside(p.step_mv, 1, limits.max_setpoint_mv):
        return F_STEP
    if sweep and abs(p.stop_mv - p.setpoint_mv) // p.step_mv >= limits.max_sweep_steps:
        return F_STEP
    if p.target_pd_pa > limits.max_pd_pa:
        return F_TARGET_PD
    if abs(p.dark_pd_pa) > limits.max_pd_pa:
        return F_DARK_PD
    current_mode = mode == schema.MODE_CONSTANT_CURRENT
    if current_mode and _outside(p.target_current_na, 1, limits.max_current_na):
        return F_TARGET_CURRENT
    if _outside(p.compliance_na, 0, limits.max_current_na):
        return F_COMPLIANCE
    if current_mode and p.compliance_na and p.compliance_na <= p.target_current_na:
        return F_COMPLIANCE
    if _outside(p.sample_period_ms, limits.min_sample_period_ms, limits.max_sample_period_ms):
        return F_PERIOD
    # A sweep step needs a sample of its own; a ramp step may be shorter than a period (the
    # target is then checked every few steps).
    min_dwell_ms = p.sample_period_ms if sweep else limits.min_sample_period_ms
    if stepped and _outside(p.dwell_ms, min_dwell_ms, limits.max_dwell_ms):
        return F_DWELL
    if _outside(p.oversample, 1, limits.max_oversample):
        return F_OVERSAMPLE
    if p.sample_period_ms < limits.min_period_ms(p.oversample):
        return F_PERIOD  # its samples would not fit the board's sampling budget
    if p.stop_fraction_pm > 1000:
        return F_STOP_FRACTION
    if p.l0_settle_ms > limits.max_l0_settle_ms:
        return F_L0_SETTLE
    if mode == schema.MODE_PHOTOSTABILITY and p.max_duration_s == 0:
        return F_MAX_DURATION
    if p.max_duration_s > limits.max_duration_s:
        return F_MAX_DURATION
    if p.host_loss_grace_ms and _outside(p.host_loss_grace_ms, limits.min_host_loss_grace_ms,
                                         limits.max_host_loss_grace_ms):
        return F_HOST_GRACE
    if mode == schema.MODE_PHOTOSTABILITY and _outside(p.pl_interval_s, 1, p.max_duration_s):
        return F_PL_INTERVAL
    if p.laser > 1 or (p.laser and not limits.has_laser):
        return F_LASER
    # A resumed run goes on counting: its seqs must not wrap (u32) before it can end, and it
    # cannot resume past its own end.
    duration_s = p.max_duration_s or limits.max_duration_s
    if p.resume_seq + duration_s * 1000 // p.sample_period_ms >= 0x100000000:
        return F_RESUME_SEQ
    if p.resume_t_ms // 1000 > duration_s:
        return F_RESUME_T
    if _outside(p.l0_pd_pa, 0, limits.max_pd_pa):
        return F_L0_PD
    if p.dark_every_s:
        # Dark pauses switch a voltage hold's output or a film's shutter; a current loop
        # would have to find its current anew after each.  A pause ends well before the
        # next is due, and holds at least one dark sample.
        if mode != schema.MODE_CONSTANT_VOLTAGE and mode != schema.MODE_PHOTOSTABILITY:
            return F_DARK_EVERY
        if p.dark_every_s * 1000 <= p.dark_ms:
            return F_DARK_EVERY
        if p.dark_ms < DARK_SETTLE_MS + p.sample_period_ms:
            return F_DARK_MS
    return OK
