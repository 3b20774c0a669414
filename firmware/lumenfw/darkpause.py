"""Dark pauses: the drive off (or the shutter closed) now and then, to follow the photodiode's
dark current as it drifts with temperature over a long run (docs/analysis.md, "Dark tracking").

A run with dark_every_s > 0 starts with a pause, then pauses again after every dark_every_s
of drive.  Samples of a pause from DARK_SETTLE_MS on are flagged FLAG_DARK; their mean is the
dark offset the L0 capture and the fraction stop use from then on.  The mode switches the
drive; this only keeps the schedule and the sums (small ints, no allocation).
"""

from lumenfw.runclock import Mark

# The first dark sample comes this long after the drive went off: the shutter's travel
# (50 ms) and the TIA's filter (10 Hz: 5 time constants) are over by then.
DARK_SETTLE_MS = 100

OFF = 0  # no dark tracking in this run
LIT = 1  # the drive is on; the next pause is due at the mark
DARK = 2  # the drive is off until the mark


class DarkPause:
    """The pause schedule of one run and the dark readings of the current pause."""

    def __init__(self):
        self._due = Mark()
        self._began = Mark()
        self.state = OFF
        self._every_s = 0
        self._dark_ms = 0
        self._sum_pa = 0
        self._count = 0
        self.dark_pd_pa = 0  # mean reading of the last finished pause

    def reset(self, every_s, dark_ms, dark_pd_pa):
        """A new run; dark_pd_pa is the host's offset until the first pause ends."""
        self._every_s = every_s
        self._dark_ms = dark_ms
        self.dark_pd_pa = dark_pd_pa
        self.state = OFF

    def tracking(self):
        return self._every_s > 0

    def go_dark(self, clock):
        """The drive has just gone off: dark until dark_ms after the pause was due (the
        schedule keeps to its marks, however late the pass that acts on them)."""
        if self.state != LIT:
            self._due.set_now(clock)  # the run's first pause is due now
        self.state = DARK
        self._began.set_now(clock)
        self._due.add_ms(self._dark_ms)
        self._sum_pa = 0
        self._count = 0

    def go_lit(self, clock):
        """The drive is on again: the pause's readings make the new dark offset, and the next
        pause is due after every_s more of drive."""
        if self._count:
            self.dark_pd_pa = self._sum_pa // self._count
        self.state = LIT
        self._due.add_s(self._every_s)

    def next_pause_from(self, clock):
        """The next pause every_s of drive from now (a ramp's time does not count)."""
        self._due.set_now(clock)
        self._due.add_s(self._every_s)

    def dark_ms_so_far(self, clock):
        """Milliseconds since the current (or last) pause began."""
        began = self._began
        return (clock.t_s - began.t_s) * 1000 + (clock.t_us - began.t_us) // 1000

    def due(self, clock):
        """The pause's end (DARK) or the next pause (LIT) has come."""
        return self.state != OFF and self._due.reached(clock)

    def due_in_us(self, clock, limit_us):
        if self.state == OFF:
            return limit_us
        return self._due.us_after(clock, limit_us)

    def is_dark(self):
        return self.state == DARK

    def add(self, pd_pa):
        """One dark sample's reading."""
        self._sum_pa += pd_pa
        self._count += 1
