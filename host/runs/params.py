"""Run requests and their parameters, with the physical limits beside each field.

The API validates bodies with these models and the run procedures read them, so a limit
is written once. The firmware checks the same bounds again (defence in depth).
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


Grace = Annotated[float, Field(ge=0, le=86400), AfterValidator(_check_grace)]

# The device's first dark sample comes this long into a pause (firmware darkpause.py).
DARK_SETTLE_S = DARK_SETTLE_MS / 1000
DarkEvery = Annotated[int, Field(
    ge=0, le=65535, description="dark pause after every this many s of drive (whole s); "
                                "0 = no dark tracking")]
DarkSeconds = Annotated[float, Field(gt=0, le=65, description="length of each dark pause (s)")]


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
                                    description="hold this voltage (V)")
    target_l0_cd_m2: float | None = Field(
        None, gt=0, le=100000,
        description="find the voltage that gives this luminance, then hold it")
    current_a: float | None = Field(None, gt=0, le=MAX_COMPLIANCE_A,
                                    description="hold this current (A)")
    current_density_ma_cm2: float | None = Field(
        None, gt=0, le=100000,
        description="hold this current density (mA/cm2) on the calibration's pixel area")
    stop_fraction: float = Field(0.5, gt=0, lt=1, description="stop at this fraction of L0")
    max_duration_s: float = Field(7 * 24 * 3600.0, gt=0, le=MAX_DURATION_S)
    sample_period_s: float = Field(1.0, ge=MIN_SAMPLE_PERIOD_S, le=3600)
    compliance_a: float = Field(MAX_COMPLIANCE_A, gt=0, le=MAX_COMPLIANCE_A)
    host_loss_grace_s: Grace = Field(
        60.0, description="device stops safely after this long without the host; 0 = never")
    oversample: int = Field(4, ge=1, le=MAX_OVERSAMPLE)
    l0_settle_s: float = Field(0.1, ge=0, le=3600,
                               description="L0 is the first sample this long into the hold")
    ramp_step_v: float = Field(0.25, gt=0, le=5, description="target_l0 coarse ramp step (V)")
    ramp_dwell_s: float = Field(0.05, ge=MIN_SAMPLE_PERIOD_S, le=600,
                                description="target_l0 time per ramp step (s)")
    max_voltage_v: float = Field(MAX_VOLTAGE_V, gt=0, le=MAX_VOLTAGE_V,
                                 description="target_l0 ramp ceiling, or the compliance "
                                             "voltage under constant current (V)")
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

    duration_s: float = Field(7200.0, gt=0, le=MAX_DURATION_S)
    pl_interval_s: float = Field(300.0, ge=1, le=86400)
    sample_period_s: float = Field(10.0, ge=MIN_SAMPLE_PERIOD_S, le=3600)
    laser_power_mw_cm2: float = Field(50.0, gt=0, le=10000, description="recorded")
    wavelength_nm: float = Field(442.0, gt=200, lt=2000, description="recorded")
    host_loss_grace_s: Grace = 30.0
    oversample: int = Field(4, ge=1, le=MAX_OVERSAMPLE)
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

    start_v: float = Field(0.0, ge=0, le=MAX_VOLTAGE_V)
    stop_v: float = Field(14.0, gt=0, le=MAX_VOLTAGE_V)
    step_v: float = Field(0.2, ge=0.001, le=MAX_VOLTAGE_V)
    dwell_s: float = Field(0.5, ge=MIN_SAMPLE_PERIOD_S, le=600)
    sample_period_s: float | None = Field(None, ge=MIN_SAMPLE_PERIOD_S, le=600,
                                          description="default: dwell_s / 2, at least the board's minimum")
    compliance_a: float = Field(MAX_COMPLIANCE_A, gt=0, le=MAX_COMPLIANCE_A)
    host_loss_grace_s: Grace = 30.0
    oversample: int = Field(4, ge=1, le=MAX_OVERSAMPLE)
    spectrum: Spectrum | None = None

    @model_validator(mode="after")
    def _sweep_shape(self):
        if self.stop_v <= self.start_v:
            raise ValueError("stop_v must be above start_v")
        if (self.stop_v - self.start_v) / self.step_v > 2000:
            raise ValueError("more than 2000 sweep steps: raise step_v")
        if self.sample_period_s is not None and self.sample_period_s > self.dwell_s:
            raise ValueError("sample_period_s must not exceed dwell_s")
        return self
