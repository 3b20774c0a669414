"""What the simulated chips read and drive: the bench, kept up to date with the virtual clock."""


class BenchSource:
    """Advances the bench to the clock's time before every reading or input change.

    `epoch` changes whenever the bench moves, so chips can keep a register value (and so
    allocate nothing) while it stays the same.  frozen=True never advances the bench: every
    reading is the one at construction (or after the last input change), which makes the
    chips' registers static for allocation measurements of the firmware.
    on_advance(t_us) runs after each advance (the board persists its state there).
    Chips that convert on their own time grid register a latch (before_input_change): it
    runs before every input change, so a conversion that ended before the change is taken
    from the bench as it was, whether or not the firmware had read it yet.
    """

    def __init__(self, bench, clock, frozen=False, on_advance=None):
        self.bench = bench
        self.clock = clock
        self.frozen = frozen
        self.epoch = 0
        self.inputs = 0  # counts input changes (relay, setpoint, laser, shutter drive)
        self._on_advance = on_advance
        self._latches = []
        self._t_us = -1
        self.voltage_v = 0.0  # read_electrical()'s pair (and the frozen readings)
        self.current_a = 0.0
        self._photocurrent_a = 0.0
        self._closed = True
        self._ambient_c = 0.0
        self._ambient_rh = 0.0
        self.sync()
        if frozen:
            self._freeze()

    def before_input_change(self, latch):
        """Call latch() (no arguments) before every input change, the bench synced to now."""
        self._latches.append(latch)

    def time_us(self):
        return self._t_us

    def bench_dark(self):
        """True while the relay and the laser are off: nothing on the bench changes then."""
        return self.bench.is_dark()

    def lit_us(self):
        """The bench's lit time now, in whole device microseconds."""
        self.sync()
        return self.bench.lit_us()

    def sync(self):
        """Bring the bench to the clock's now (no-op when frozen or when time has not moved)."""
        if self.frozen:
            return
        t_us = self.clock.now_us()
        if t_us != self._t_us:
            self._t_us = t_us
            self.bench.advance_to(t_us / 1_000_000)
            self.epoch += 1
            if self._on_advance is not None:
                self._on_advance(t_us)

    def _freeze(self):
        bench = self.bench
        self.voltage_v = bench.dut_voltage_v()
        self.current_a = bench.dut_current_a()
        self._photocurrent_a = bench.photocurrent_a()
        self._closed = bench.shutter_closed()
        self._ambient_c = bench.ambient_c()
        self._ambient_rh = bench.ambient_rh()
        self.epoch += 1

    # Readings ---------------------------------------------------------------------------

    def read_electrical(self):
        """DUT voltage and current at one instant, into .voltage_v and .current_a: one
        advance for the pair (the INA226 reads both on every pass of the firmware)."""
        if self.frozen:
            return
        self.sync()
        bench = self.bench
        self.voltage_v = bench.dut_voltage_v()
        self.current_a = bench.dut_current_a()

    def read_electrical_at(self, t_us):
        """read_electrical() as of device time t_us (not later than now; no earlier than the
        bench's last input change, where it is taken instead): a conversion that ended
        before the firmware asked for it."""
        if self.frozen:
            return
        self.sync()
        bench = self.bench
        t_s = t_us / 1_000_000
        floor_s = bench.commit_time_s()
        bench.advance_to(t_s if t_s > floor_s else floor_s)
        self.voltage_v = bench.dut_voltage_v()
        self.current_a = bench.dut_current_a()
        bench.advance_to(self._t_us / 1_000_000)

    def current_a_ahead(self, t_us):
        """The DUT current at device time t_us, now or later, the inputs staying as they are;
        the bench is left at now (a look ahead for a chip that must say when it will trip)."""
        if self.frozen:
            return self.current_a
        self.sync()
        bench = self.bench
        bench.advance_to(t_us / 1_000_000)
        current_a = bench.dut_current_a()
        bench.advance_to(self._t_us / 1_000_000)
        return current_a

    def current_can_rise_until_us(self):
        """Device us until which the DUT current may still rise with the inputs as they are
        (the supply's slew); -1 while the output is off (no current at all)."""
        bench = self.bench
        if not bench.output_on():
            return -1
        return int(bench.output_settled_s() * 1_000_000) + 1

    def dut_voltage_v(self):
        if self.frozen:
            return self.voltage_v
        self.sync()
        return self.bench.dut_voltage_v()

    def dut_current_a(self):
        if self.frozen:
            return self.current_a
        self.sync()
        return self.bench.dut_current_a()

    def photocurrent_a(self):
        if self.frozen:
            return self._photocurrent_a
        self.sync()
        return self.bench.photocurrent_a()

    def shutter_closed(self):
        if self.frozen:
            return self._closed
        self.sync()
        return self.bench.shutter_closed()

    def ambient_c(self):
        if self.frozen:
            return self._ambient_c
        self.sync()
        return self.bench.ambient_c()

    def ambient_rh(self):
        if self.frozen:
            return self._ambient_rh
        self.sync()
        return self.bench.ambient_rh()

    # Inputs (applied from now; frozen: the readings are refreshed once, time stays put) --

    def _input_changing(self):
        self.sync()
        self.inputs += 1
        for latch in self._latches:
            latch()

    def _input_changed(self):
        if self.frozen:
            self._freeze()

    def set_supply_setpoint_v(self, voltage_v):
        self._input_changing()
        self.bench.set_supply_setpoint_v(voltage_v)
        self._input_changed()

    def set_output_relay(self, on):
        self._input_changing()
        self.bench.set_output_relay(on)
        self._input_changed()

    def set_laser(self, on):
        self._input_changing()
        self.bench.set_laser(on)
        self._input_changed()

    def set_shutter_drive(self, open_):
        self._input_changing()
        self.bench.set_shutter_drive(open_)
        self._input_changed()
