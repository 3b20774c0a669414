"""`lumenrig calibrate`'s few lines about a photodiode calibration: geometry, responsivity,
dark current, scale factor and reference spectrum, with their units."""

from typing import Any

from host.cli.words import num, si


def _span(wavelength_nm: list[float]) -> str:
    return "%d points, %s..%s nm" % (len(wavelength_nm), num(wavelength_nm[0], 4),
                                     num(wavelength_nm[-1], 4))


def _geometry(cal: dict[str, Any]) -> str:
    from photometry.photodiode import collected_fraction

    share = collected_fraction(cal["pd_radius_mm"], cal["pd_distance_mm"])
    return "radius %s mm, %s mm from the pixel on axis: %s %% of its light" % (
        num(cal["pd_radius_mm"]), num(cal["pd_distance_mm"]), num(100 * share))


def _responsivity(curve: dict[str, Any]) -> str:
    best = max(range(len(curve["a_per_w"])), key=curve["a_per_w"].__getitem__)
    return "%s, peak %s A/W at %s nm" % (_span(curve["wavelength_nm"]),
                                          num(curve["a_per_w"][best]),
                                          num(curve["wavelength_nm"][best], 4))


def _spectrum(cal: dict[str, Any]) -> str:
    """Points and span, the peak and FWHM as the analysis reads them, and the photodiode's
    responsivity there; only the first when the stored curves no longer validate."""
    from host.analysis.spectrum import fwhm_nm, peak_nm
    from photometry.photodiode import ResponsivityCurve
    from photometry.spectrum import Spectrum

    spectrum = cal.get("reference_spectrum")
    if spectrum is None:
        return "none: a run gives luminance only with a spectrum (docs/calibration.md)"
    text = _span(spectrum["wavelength_nm"])
    try:
        shape = Spectrum.model_validate(spectrum)
        responsivity = ResponsivityCurve.model_validate(cal["responsivity"])
    except ValueError:
        return text
    peak = peak_nm(shape)
    return "%s, peak %s nm, FWHM %s nm (responsivity there %s A/W)" % (
        text, num(peak, 4), num(fwhm_nm(shape)), num(float(responsivity.at(peak)[()])))


def summary_lines(cal: dict[str, Any]) -> list[str]:
    """The calibration as GET /api/calibrations/{id} holds it (its `calibration`), indented."""
    pairs = (("photodiode", _geometry(cal)),
             ("pixel area", "%s mm²" % num(cal["pixel_area_mm2"], 4)),
             ("responsivity", _responsivity(cal["responsivity"])),
             ("dark current", si(cal.get("dark_current_a", 0.0), "A")),
             ("scale factor", num(cal.get("scale_factor", 1.0), 4)),
             ("EL spectrum", _spectrum(cal)))
    width = max(len(label) for label, _ in pairs)
    return ["  %-*s  %s" % (width, label, value) for label, value in pairs]
