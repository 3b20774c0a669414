"""The errors the analysis raises for input a person must fix."""

from photometry.errors import PhotometryInputError


class AnalysisInputError(ValueError):
    """Input data or calibration that cannot be analysed; the message says where and what to fix."""


# What a caller of the analysis catches: its own input errors and those of the photometry
# beneath it (a spectrum or photodiode calibration luminance cannot be computed from).
INPUT_ERRORS = (AnalysisInputError, PhotometryInputError)
