"""Simulated GPIO: output pins that can drive the bench, and input pins read from it or set."""


class SimPin:
    """An output (or a test-settable input): value() reads, value(v) sets.

    on_change(level) runs when the level changes, e.g. to move the bench's relay.
    """

    def __init__(self, level=0, on_change=None):
        self._level = 1 if level else 0
        self._on_change = on_change

    def value(self, v=None):
        if v is None:
            return self._level
        level = 1 if v else 0
        if level != self._level:
            self._level = level
            if self._on_change is not None:
                self._on_change(level)
        return None

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class SourcePin:
    """An input whose level a function gives (e.g. the bench's shutter-closed switch)."""

    def __init__(self, read):
        self._read = read

    def value(self, v=None):
        if v is not None:
            raise OSError(1)  # EPERM: an input cannot be driven
        return 1 if self._read() else 0


class ControlFilePin:
    """An input another process sets by writing b"0" or b"1" at the start of a file.

    The file is reopened and read at most every period_ms of wall time, so a writer may
    replace it atomically (rename).  Each poll allocates a file object: a test measuring
    the firmware's allocations should run without one.  A missing or unreadable file leaves
    the level as it was.
    """

    def __init__(self, path, level, link_ms, link_diff, period_ms=20):
        self._path = path
        self._level = 1 if level else 0
        self._link_ms = link_ms
        self._link_diff = link_diff
        self._period_ms = period_ms
        self._checked_ms = link_ms()
        self._byte = bytearray(1)
        self._poll_file()

    def _poll_file(self):
        try:
            with open(self._path, "rb") as f:
                n = f.readinto(self._byte)
        except OSError:
            return
        if n == 1 and self._byte[0] in b"01":
            self._level = self._byte[0] - 48

    def set(self, level):
        self._level = 1 if level else 0

    def value(self, v=None):
        if v is not None:
            raise OSError(1)
        now = self._link_ms()
        if self._link_diff(now, self._checked_ms) >= self._period_ms:
            self._checked_ms = now
            self._poll_file()
        return self._level
