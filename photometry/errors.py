"""The one error photometry raises for a spectrum or calibration a person must fix."""


class PhotometryInputError(ValueError):
    """A spectrum or calibration luminance cannot be computed from; the message says what to fix."""
