"""Run parameters (physical units) to the START_RUN fields the firmware executes (integers).

Each kind gives the fields of its own program (host.runs.kinds binds them); the fields every
program shares, and those of a resume, are written here once.
"""

import math
from typing import Any

from host.runs.params import MIN_SAMPLE_PERIOD_S, JvlParams, LifetimeParams, PhotostabilityParams
from host.runs.units import Converter
from protocol import schema


class BeyondTheRig(ValueError):
    """Parameters that are valid on their own but ask more than this rig can give (a 422:
    the request must change, not the rig's calibration)."""


_ZERO = {name: 0 for name, *_ in schema.BY_ID[schema.START_RUN][2] if name != "cmd_id"}


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def _mv(volts: float) -> int:
    return int(round(volts * 1000))


def _na(amps: float) -> int:
    return int(round(amps * 1e9))


def common_fields(params: Any, run_key: int, dark_pd_pa: int) -> dict[str, int]:
    """Every START_RUN field, zero but for what all programs share (resume fields zero)."""
    return dict(_ZERO, run_key=run_key, dark_pd_pa=dark_pd_pa, oversample=params.oversample,
                host_loss_grace_ms=_ms(params.host_loss_grace_s))


def dark_fields(params: Any) -> dict[str, int]:
    """Dark tracking's START_RUN fields (both zero when it is off)."""
    if not params.dark_every_s:
        return {}
    return {"dark_every_s": params.dark_every_s, "dark_ms": _ms(params.dark_s)}


def lifetime_program(p: LifetimeParams, converter: Converter) -> dict[str, int]:
    """A held voltage, a ramp to a luminance target then that voltage held, or a held current
    (never above max_voltage_v)."""
    fields = dict(mode=schema.MODE_CONSTANT_VOLTAGE, compliance_na=_na(p.compliance_a),
                  sample_period_ms=_ms(p.sample_period_s),
                  stop_fraction_pm=int(round(p.stop_fraction * 1000)),
                  l0_settle_ms=_ms(p.l0_settle_s),
                  max_duration_s=int(math.ceil(p.max_duration_s)), **dark_fields(p))
    if p.target_l0_cd_m2 is not None:
        fields.update(setpoint_mv=_mv(p.max_voltage_v), step_mv=_mv(p.ramp_step_v),
                      dwell_ms=_ms(p.ramp_dwell_s),
                      target_pd_pa=converter.target_pd_pa(p.target_l0_cd_m2))
    elif p.voltage_v is not None:
        fields.update(setpoint_mv=_mv(p.voltage_v))
    else:
        current_a = p.current_a
        if current_a is None:
            assert p.current_density_ma_cm2 is not None  # the params model requires a drive
            current_a = converter.current_a(p.current_density_ma_cm2)
            if current_a >= p.compliance_a:
                raise BeyondTheRig("current_density_ma_cm2 = %g on the %g mm2 pixel is %.4g A, "
                                 "not below compliance_a (%g A)" % (
                                     p.current_density_ma_cm2, converter.pixel_area_mm2,
                                     current_a, p.compliance_a))
        fields.update(mode=schema.MODE_CONSTANT_CURRENT, setpoint_mv=_mv(p.max_voltage_v),
                      target_current_na=_na(current_a))
    return fields


def photostability_program(q: PhotostabilityParams, converter: Converter) -> dict[str, int]:
    """Laser on for the duration; a PL point every pl_interval_s."""
    return dict(mode=schema.MODE_PHOTOSTABILITY, laser=1,
                sample_period_ms=_ms(q.sample_period_s),
                max_duration_s=int(math.ceil(q.duration_s)),
                pl_interval_s=int(round(q.pl_interval_s)), **dark_fields(q))


def jvl_program(j: JvlParams, converter: Converter) -> dict[str, int]:
    """A voltage sweep, sampled within each step's dwell."""
    period_s = j.sample_period_s
    if period_s is None:
        period_s = max(j.dwell_s / 2, MIN_SAMPLE_PERIOD_S)
    return dict(mode=schema.MODE_SWEEP, setpoint_mv=_mv(j.start_v), stop_mv=_mv(j.stop_v),
                step_mv=_mv(j.step_v), dwell_ms=_ms(j.dwell_s),
                sample_period_ms=_ms(period_s), compliance_na=_na(j.compliance_a))


def resume_fields(fields: dict[str, int], *, next_seq: int, resume_t_s: float, l0_pd_pa: int,
                  hold_setpoint_mv: int | None) -> dict[str, int]:
    """START_RUN fields continuing a run after a device reset (docs/internals.md).

    A sweep needs nothing more: the device finds its step from resume_seq.
    """
    out = dict(fields, resume_seq=next_seq, resume_t_ms=_ms(resume_t_s), l0_pd_pa=l0_pd_pa)
    if out["mode"] == schema.MODE_CONSTANT_VOLTAGE and out["target_pd_pa"] and hold_setpoint_mv:
        out.update(setpoint_mv=hold_setpoint_mv, target_pd_pa=0, step_mv=0, dwell_ms=0)
    return out
