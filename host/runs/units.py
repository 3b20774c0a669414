"""Raw device records (integers) to the stored physical columns of a run.

The firmware sends mV, nA, pA and centi-units; here they become V, A, cd/m2 and %, with
the rig's photodiode calibration. Columns a run kind has no use for are NaN (null): an EL
run (the photodiode reads the device's own light) has luminance, a PL run (a film under the
laser) has PL and the shutter's state.
"""

import numpy as np

from photometry.photodiode import PhotodiodeCalibration, luminance_per_amp
from protocol import schema

LIGHTS = ("el", "pl")


class Converter:
    """Per-run conversion, with the calibration's luminance-per-amp computed once."""

    def __init__(self, light: str, calibration: PhotodiodeCalibration | None):
        if light not in LIGHTS:
            raise ValueError("light must be one of %s, not %r" % (LIGHTS, light))
        self.pl = light == "pl"
        self.dark_a = calibration.dark_current_a if calibration else 0.0
        self.pixel_area_mm2 = calibration.pixel_area_mm2 if calibration else None
        self.cd_m2_per_a = None
        if not self.pl and calibration is not None:
            self.cd_m2_per_a = luminance_per_amp(calibration)  # scale factor included

    def columns(self, records: np.ndarray) -> dict[str, np.ndarray]:
        """Stored columns of a batch of SAMPLE records (structured array)."""
        n = len(records)
        pd_a = records["pd_pa"].astype(np.float64) * 1e-12
        signal_a = pd_a - self.dark_a
        nan = np.full(n, np.nan)
        flags = records["flags"].astype(np.int64)
        if self.cd_m2_per_a is not None:
            luminance = signal_a * self.cd_m2_per_a
        else:
            luminance = nan
        return {
            "seq": records["seq"].astype(np.int64),
            "t_s": records["t_s"].astype(np.float64) + records["t_us"].astype(np.float64) * 1e-6,
            "setpoint_v": records["setpoint_mv"].astype(np.float64) * 1e-3,
            "voltage_v": records["voltage_mv"].astype(np.float64) * 1e-3,
            "current_a": records["current_na"].astype(np.float64) * 1e-9,
            "pd_a": pd_a,
            "luminance_cd_m2": luminance,
            "pl": signal_a if self.pl else nan,
            "temperature_c": records["temperature_cc"].astype(np.float64) * 1e-2,
            "humidity_pct": records["humidity_cpct"].astype(np.float64) * 1e-2,
            "shutter_open": ((flags & schema.FLAG_SHUTTER_OPEN) != 0).astype(np.float64)
            if self.pl else nan,
            "pd_range": records["pd_range"].astype(np.int64),
            "flags": flags,
        }

    def target_pd_pa(self, luminance_cd_m2: float) -> int:
        """Photodiode reading (pA, dark included) the device ramps to for a luminance target."""
        if self.cd_m2_per_a is None:
            raise ValueError("this rig has no photodiode calibration for luminance")
        return round((luminance_cd_m2 / self.cd_m2_per_a + self.dark_a) * 1e12)

    def current_a(self, current_density_ma_cm2: float) -> float:
        """The current that gives a current density on the calibration's pixel area."""
        if self.pixel_area_mm2 is None:
            raise ValueError("this rig has no photodiode calibration: no pixel area for "
                             "current_density_ma_cm2 (give current_a)")
        return current_density_ma_cm2 * 1e-3 * self.pixel_area_mm2 * 1e-2
