"""The laser shutter: finite travel, and a closed switch that changes when travel completes."""


class Shutter:
    """Position 0 = closed, 1 = open, moving at 1/travel_s; the beam transmission equals it.

    The closed switch reports the last end position reached, so after a drive change it keeps
    its old state for the whole travel time.
    """

    # Attributes that carry the part across a device reset (Bench.snapshot).
    STATE = ("drive_open", "position", "closed")

    def __init__(self, travel_s):
        self.rate_per_s = 1.0 / travel_s
        self.drive_open = 0
        self.position = 0.0
        self.closed = 1

    def set_drive(self, open_):
        self.drive_open = 1 if open_ else 0

    def advance(self, dt_s):
        """Move by dt_s; return the beam transmission integrated over the step (s)."""
        p0 = self.position
        target = 1.0 if self.drive_open else 0.0
        if p0 == target:
            return p0 * dt_s
        travel_s = abs(target - p0) / self.rate_per_s
        if travel_s < dt_s:
            self.position = target
            self.closed = 1 - self.drive_open
            # Linear ramp to the end stop, then constant: trapezoid plus rectangle.
            return 0.5 * (p0 + target) * travel_s + target * (dt_s - travel_s)
        step = self.rate_per_s * dt_s
        p1 = min(p0 + step, 1.0) if self.drive_open else max(p0 - step, 0.0)
        self.position = p1
        if p1 == target:
            self.closed = 1 - self.drive_open
        return 0.5 * (p0 + p1) * dt_s
