"""Run requests and their parameters, with the physical limits beside each field.

The API validates bodies with these models and the run procedures read them, so a limit
is written once. The firmware checks the same bounds again (defence in depth). A field's
description says what it is and its unit; the API's schema adds its bounds in words from
the same Field (host.api.openapi), so only a rule between fields is written out here.
"""

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from lumenfw import board_config
from lumenfw.darkpause import DARK_SETTLE_MS
from photometry.spectrum import Spectrum

# The board's limits, from its one config file; the firmware enforces them again.
MAX_VOLTAGE_V = board_config.MAX_SETPOINT_MV / 1000
MAX_COMPLIANCE_A = board_config.MAX_COMPLIANCE_NA * 1e-9
MIN_SAMPLE_PERIOD_S = board_config.MIN_SAMPLE_PERIOD_MS / 1000
MAX_OVERSAMPLE = board_config.MAX_OVERSAMPLE
MAX_DURATION_S = 30 * 24 * 3600.0


class RunParams(BaseModel):
    """What every run kind's parameters share: strict JSON, no unknown field."""

    # strict: JSON true is not 1.0 V and "10" is not a number; ints still pass as floats.
    model_config = ConfigDict(extra="forbid", strict=True)


def _check_grace(value: float) -> float:
    """The device takes 0 (the run goes on without the host) or at least one second."""
    if 0 < value < 1:
        raise ValueError("host_loss_grace_s must be 0 (never stop for a lost host) or >= 1 s")
    return value


Grace = Annotated[float, Field(ge=0, le=86400, description=(
    "the device stops safely after this long without the host, s; 0 = never (the run goes "
    "on without it), else at least 1")), AfterValidator(_check_grace)]
Oversample = Annotated[int, Field(ge=1, le=MAX_OVERSAMPLE,
                                  description="readings averaged into each sample")]
Compliance = Annotated[float, Field(gt=0, le=MAX_COMPLIANCE_A,
                                    description="the most current the supply gives, A")]

# The device's first dark sample comes this long into a pause (firmware darkpause.py).
DARK_SETTLE_S = DARK_SETTLE_MS / 1000
DarkEvery = Annotated[int, Field(
    ge=0, le=65535, description="drive time between dark pauses, s, whole seconds; 0 = no "
                                "dark tracking")]
DarkSeconds = Annotated[float, Field(gt=0, le=65, description=(
    "length of each dark pause, s; at least %g + sample_period_s and shorter than "
    "dark_every_s" % DARK_SETTLE_S))]
# A J-V-L sweep takes at most this many steps.
MAX_SWEEP_STEPS = 2000


def check_dark(params: Any) -> None:
    """A dark pause holds at least one dark sample and ends before the next is due."""
    if not params.dark_every_s:
        return
    if params.dark_s < DARK_SETTLE_S + params.sample_period_s:
        raise ValueError("dark_s must be at least %g s + sample_period_s, so a pause holds a "
                         "dark sample" % DARK_SETTLE_S)
    if params.dark_s >= params.dark_every_s:
        raise ValueError("dark_s must be shorter than dark_every_s")


class LifetimeParams(RunParams):
    """Operational lifetime under one held drive until luminance falls to stop_fraction of L0.

    The drive is exactly one of: a voltage, a luminance target (the voltage found for it is
    held), a current or a current density (constant current; max_voltage_v is then the
    compliance voltage the supply never exceeds).
    """

    voltage_v: float | None = Field(None, gt=0, le=MAX_VOLTAGE_V,
                                    description="drive: hold this voltage on the device, V")
    target_l0_cd_m2: float | None = Field(
        None, gt=0, le=100000,
        description="drive: find the voltage that gives this luminance, then hold it, cd/m2")
    current_a: float | None = Field(
        None, gt=0, le=MAX_COMPLIANCE_A,
        description="drive: hold this current through the device, A; below compliance_a")
    current_density_ma_cm2: float | None = Field(
        None, gt=0, le=100000,
        description="drive: hold this current density on the pixel area (the device's "
                    "area_mm2, else the calibration's), mA/cm2; its current below "
                    "compliance_a")
    stop_fraction: float = Field(0.5, gt=0, lt=1,
                                 description="stop when luminance falls to this fraction of L0")
    max_duration_s: float = Field(7 * 24 * 3600.0, gt=0, le=MAX_DURATION_S,
                                  description="stop after this long at the latest, s")
    sample_period_s: float = Field(1.0, ge=MIN_SAMPLE_PERIOD_S, le=3600,
                                   description="time between samples, s")
    compliance_a: Compliance = MAX_COMPLIANCE_A
    host_loss_grace_s: Grace = 60.0
    oversample: Oversample = 4
    l0_settle_s: float = Field(0.1, ge=0, le=3600,
                               description="L0 is the first sample this long into the hold, s")
    ramp_step_v: float = Field(0.25, gt=0, le=5,
                               description="coarse step of the target_l0_cd_m2 ramp, V")
    ramp_dwell_s: float = Field(0.05, ge=MIN_SAMPLE_PERIOD_S, le=600,
                                description="time per step of the target_l0_cd_m2 ramp, s")
    max_voltage_v: float = Field(MAX_VOLTAGE_V, gt=0, le=MAX_VOLTAGE_V,
                                 description="ceiling of the target_l0_cd_m2 ramp, or the "
                                             "compliance voltage under constant current, V")
    dark_every_s: DarkEvery = 0
    dark_s: DarkSeconds = 2.0

    @model_validator(mode="after")
    def _one_drive(self):
        given = [name for name in DRIVES if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of %s (got %s)" % (
                ", ".join(DRIVES), ", ".join(given) if given else "none"))
        if self.current_a is not None and self.current_a >= self.compliance_a:
            raise ValueError("current_a must be below compliance_a")
        if self.dark_every_s and (self.current_a is not None
                                  or self.current_density_ma_cm2 is not None):
            raise ValueError("dark tracking switches the output off now and then: not under "
                             "constant current (the loop would start anew after each pause); "
                             "give voltage_v or target_l0_cd_m2")
        check_dark(self)
        return self


DRIVES = ("voltage_v", "target_l0_cd_m2", "current_a", "current_density_ma_cm2")


class PhotostabilityParams(RunParams):
    """A film under a CW laser: PL points every pl_interval_s, monitoring in between."""

    duration_s: float = Field(7200.0, gt=0, le=MAX_DURATION_S,
                              description="length of the run, s")
    pl_interval_s: float = Field(300.0, ge=1, le=86400,
                                 description="time between PL points, s; not above duration_s")
    sample_period_s: float = Field(10.0, ge=MIN_SAMPLE_PERIOD_S, le=3600,
                                   description="time between samples, s; not above "
                                               "pl_interval_s")
    laser_power_mw_cm2: float = Field(50.0, gt=0, le=10000,
                                      description="the laser's power density on the film, "
                                                  "recorded (not set), mW/cm2")
    wavelength_nm: float = Field(442.0, gt=200, lt=2000,
                                 description="the laser's wavelength, recorded (not set), nm")
    host_loss_grace_s: Grace = 30.0
    oversample: Oversample = 4
    dark_every_s: DarkEvery = 0
    dark_s: DarkSeconds = 2.0

    @model_validator(mode="after")
    def _interval_fits(self):
        if self.pl_interval_s > self.duration_s:
            raise ValueError("pl_interval_s must not exceed duration_s")
        if self.sample_period_s > self.pl_interval_s:
            raise ValueError("sample_period_s must not exceed pl_interval_s")
        check_dark(self)
        return self


class JvlParams(RunParams):
    """Voltage sweep reading V, I and luminance per step; EL spectrum for EQE."""

    start_v: float = Field(0.0, ge=0, le=MAX_VOLTAGE_V,
                           description="the sweep's first voltage, V")
    stop_v: float = Field(14.0, gt=0, le=MAX_VOLTAGE_V,
                          description="the sweep's last voltage, V; above start_v")
    step_v: float = Field(0.2, ge=0.001, le=MAX_VOLTAGE_V,
                          description="the sweep's step, V; at most %d steps from start_v to "
                                      "stop_v" % MAX_SWEEP_STEPS)
    dwell_s: float = Field(0.5, ge=MIN_SAMPLE_PERIOD_S, le=600,
                           description="time at each step, s")
    sample_period_s: float | None = Field(
        None, ge=MIN_SAMPLE_PERIOD_S, le=600,
        description="time between samples, s; not above dwell_s; default dwell_s / 2, at "
                    "least %g" % MIN_SAMPLE_PERIOD_S)
    compliance_a: Compliance = MAX_COMPLIANCE_A
    host_loss_grace_s: Grace = 30.0
    oversample: Oversample = 4
    spectrum: Spectrum | None = Field(
        None, description="the device's EL spectrum, for EQE, peak and FWHM; default the "
                          "rig calibration's reference_spectrum")

    @model_validator(mode="after")
    def _sweep_shape(self):
        if self.stop_v <= self.start_v:
            raise ValueError("stop_v must be above start_v")
        if (self.stop_v - self.start_v) / self.step_v > MAX_SWEEP_STEPS:
            raise ValueError("more than %d sweep steps: raise step_v" % MAX_SWEEP_STEPS)
        if self.sample_period_s is not None and self.sample_period_s > self.dwell_s:
            raise ValueError("sample_period_s must not exceed dwell_s")
        return self
