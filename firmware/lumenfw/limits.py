"""What this board lets a run ask for, from the board config: the device's own range check."""

from lumenfw import budget
from protocol import schema


class Limits:
    """Bounds for START_RUN, SET_OUTPUT and SHUTTER, in the schema's integer units."""

    def __init__(self, max_setpoint_mv, max_current_na, max_pd_pa, has_laser=True,
                 has_shutter_switch=True, min_sample_period_ms=10,
                 max_sample_period_ms=3600000, max_dwell_ms=600000, max_oversample=16,
                 max_l0_settle_ms=3600000, max_duration_s=30 * 24 * 3600,
                 min_host_loss_grace_ms=1000, max_host_loss_grace_ms=86400000,
                 max_sweep_steps=2001, shutter_timeout_ms=500, channels=1, laser_channel=0,
                 i2c_freq_hz=400_000, pd_rate_sps=860):
        self.max_setpoint_mv = max_setpoint_mv
        self.max_current_na = max_current_na
        self.max_pd_pa = max_pd_pa
        self.has_laser = has_laser
        self.has_shutter_switch = has_shutter_switch
        self.min_sample_period_ms = min_sample_period_ms
        self.max_sample_period_ms = max_sample_period_ms
        self.max_dwell_ms = max_dwell_ms
        self.max_oversample = max_oversample
        self.max_l0_settle_ms = max_l0_settle_ms
        self.max_duration_s = max_duration_s
        # Below two host heartbeats a healthy link could trip it.
        self.min_host_loss_grace_ms = min_host_loss_grace_ms
        self.max_host_loss_grace_ms = max_host_loss_grace_ms
        self.max_sweep_steps = max_sweep_steps
        self.shutter_timeout_ms = shutter_timeout_ms
        self.channels = channels
        self.i2c_freq_hz = i2c_freq_hz  # the sampling budget's inputs (lumenfw/budget.py)
        self.pd_rate_sps = pd_rate_sps
        self.laser_channel = laser_channel  # the film position the laser and shutter serve
        modes = [schema.MODE_CONSTANT_VOLTAGE, schema.MODE_CONSTANT_CURRENT, schema.MODE_SWEEP]
        if has_laser or has_shutter_switch:
            modes.append(schema.MODE_PHOTOSTABILITY)
        self.modes = tuple(modes)

    def min_period_ms(self, oversample):
        """The shortest sample period the sampling budget allows at this oversampling."""
        return budget.min_period_ms(oversample, self.channels, self.i2c_freq_hz,
                                    self.pd_rate_sps)

    def channel_can(self, channel):
        """CAN_* bits of one channel (HELLO_ACK and HEARTBEAT channel records)."""
        can = schema.CAN_DRIVE | schema.CAN_PHOTODIODE
        if channel == self.laser_channel and schema.MODE_PHOTOSTABILITY in self.modes:
            can |= schema.CAN_LASER
        return can

    def capabilities(self, has_ambient, has_watchdog):
        """HELLO_ACK capability bits."""
        caps = schema.CAP_CONSTANT_VOLTAGE | schema.CAP_CONSTANT_CURRENT | schema.CAP_SWEEP
        if schema.MODE_PHOTOSTABILITY in self.modes:
            caps |= schema.CAP_PHOTOSTABILITY
        if self.has_laser:
            caps |= schema.CAP_LASER
        if self.has_shutter_switch:
            caps |= schema.CAP_SHUTTER_SWITCH
        if has_ambient:
            caps |= schema.CAP_AMBIENT
        if has_watchdog:
            caps |= schema.CAP_WATCHDOG
        return caps
