"""A run's events in words with units: the device's integers (mV, nA, pA, ms, codes) decoded
with the run's own calibration. The one rendering the API hands the CLI and the dashboard."""

import math
from collections.abc import Callable
from functools import cached_property
from typing import Any

from host.runs.kinds import KINDS
from photometry.photodiode import PhotodiodeCalibration, luminance_per_amp
from protocol import names, schema

_NAMES = {  # (EVENT value's names, what the event says with one of them)
    schema.EV_STATE: (names.STATE_NAMES, "state: %s"),
    schema.EV_RUN_STARTED: (names.MODE_NAMES, "run started in %s mode"),
    schema.EV_RUN_STOPPED: (names.STOP_NAMES, "run stopped: %s"),
    schema.EV_SAFE_STOP: (names.STOP_NAMES, "safe stop: %s"),
    schema.EV_EXCEPTION: (names.FAULT_NAMES, "exception: %s fault"),
}
_BOOT_CAUSES = {schema.RESET_POWER_ON: "power on", schema.RESET_WATCHDOG: "watchdog",
                schema.RESET_SOFT: "soft reset"}


def _volts(mv: int) -> str:
    return "%.3f V" % (mv / 1e3)


def _amps(a: float) -> str:
    """With an SI prefix, three significant digits: 4 mA, 45.4 nA."""
    for scale, prefix in ((1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n")):
        if abs(a) >= scale:
            return "%.3g %sA" % (a / scale, prefix)
    return "%.3g pA" % (a / 1e-12)


def _seconds(ms: int) -> str:
    return "%.3g s" % (ms / 1e3)


class _Light:
    """What a photocurrent of this run is: luminance through its calibration (EL runs), else
    a current. The calibration is read at most once, and only when an event asks."""

    def __init__(self, run: dict[str, Any] | None):
        self._run = run or {}
        kind = KINDS.get(self._run.get("kind", ""))
        self.pl = kind is not None and kind.light == "pl"

    @cached_property
    def cd_m2_per_a(self) -> float | None:
        return _cd_m2_per_a(self._run)

    def l0(self, pd_pa: int) -> str:
        """EV_L0_CAPTURED's reading (pA above the device's dark offset) as L0."""
        if self.pl:
            return "PL0 captured: %s photocurrent" % _amps(pd_pa * 1e-12)
        if self.cd_m2_per_a is None:
            return "L0 captured: %s photocurrent (no calibration)" % _amps(pd_pa * 1e-12)
        return "L0 captured: %.4g cd/m²" % (pd_pa * 1e-12 * self.cd_m2_per_a)


def _cd_m2_per_a(run: dict[str, Any]) -> float | None:
    """cd/m² per A of the run's calibration; None without a usable one."""
    calibration = run.get("calibration")
    if not calibration:
        return None
    try:
        per_a = luminance_per_amp(PhotodiodeCalibration.model_validate(calibration))
    except ValueError:  # a calibration the photometry refuses (pydantic's errors are ValueErrors)
        return None
    return per_a if math.isfinite(per_a) else None


_SAY: dict[int, Callable[[int, _Light], str]] = {
    schema.EV_BOOT: lambda v, _: "device booted (%s)" % _BOOT_CAUSES.get(v, "cause %d" % v),
    schema.EV_INTERLOCK_OPEN: lambda v, _: "interlock opened: outputs off",
    schema.EV_INTERLOCK_CLOSED: lambda v, _: "interlock closed",
    schema.EV_COMPLIANCE: lambda v, _: "current %s reached the compliance limit" % _amps(v * 1e-9),
    schema.EV_HOST_LOST: lambda v, _: "host silent for %s" % _seconds(v),
    schema.EV_HOST_BACK: lambda v, _: "host back",
    schema.EV_SHUTTER_OPENED: lambda v, _: "shutter opened (in %d ms)" % v,
    schema.EV_SHUTTER_CLOSED: lambda v, _: "shutter closed (in %d ms)" % v,
    schema.EV_SHUTTER_FAULT: lambda v, _: "shutter stuck: not in place after %d ms" % v,
    schema.EV_L0_CAPTURED: lambda v, light: light.l0(v),
    schema.EV_TARGET_REACHED: lambda v, _: "target reached: holding %s" % _volts(v),
    schema.EV_I2C_ERROR: lambda v, _: "I2C error at address 0x%02x" % v,
    schema.EV_OUTPUT_ON: lambda v, _: "output on at %s" % _volts(v),
    schema.EV_OUTPUT_OFF: lambda v, _: "output off",
    schema.EV_LASER_ON: lambda v, _: "laser on",
    schema.EV_LASER_OFF: lambda v, _: "laser off",
    schema.EV_DARK_BEGIN: lambda v, _: "dark pause of %s begins" % _seconds(v),
    schema.EV_DARK_END: lambda v, _: "dark pause ends: dark reading %s" % _amps(v * 1e-12),
}


def _device_text(code: int, value: int, light: _Light) -> str | None:
    if code in _NAMES:
        names, said = _NAMES[code]
        name = names[value] if 0 <= value < len(names) else "code %d" % value
        return said % name.replace("_", " ")
    say = _SAY.get(code)
    return say(value, light) if say else None


def texts(events: list[dict[str, Any]], run: dict[str, Any] | None) -> list[str]:
    """Each event (Event.as_dict()) of `run` (Run.as_dict(), calibration included) in words:
    a device event from its code and value, anything else (the host's own events, a device
    event this host does not know) as its stored message."""
    light = _Light(run)
    out = []
    for event in events:
        value = (event.get("data") or {}).get("value")
        code = event.get("code")
        said = None
        if code is not None and isinstance(value, int):
            said = _device_text(code, value, light)
        out.append(said or event.get("message") or event.get("name") or "")
    return out
