"""What the run manager raises: a request it cannot carry out, samples the store cannot take."""


class RunError(Exception):
    """A run request that cannot be carried out; status is the HTTP status to answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class SampleNotStorable(Exception):
    """Samples of a run that the store cannot take: a value out of range, a database down."""
