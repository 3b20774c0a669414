"""The one error the analysis raises for input a person must fix."""


class AnalysisInputError(ValueError):
    """Input data or calibration that cannot be analysed; the message says where and what to fix."""
