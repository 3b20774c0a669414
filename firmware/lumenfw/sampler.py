"""Reads the sensors into integer attributes: DUT V and I, photodiode, ambient T and RH."""

AMBIENT_PERIOD_US = 2000000  # start an SHT31 measurement at most this often
AMBIENT_WAIT_US = 20000  # and read it back no sooner than this (15 ms high repeatability)


class Sampler:
    """Latest readings in mV, nA, pA, centi-degC and centi-%RH; no allocation per read.

    bus_address names the I2C device being talked to, so an OSError escaping a read can
    be reported with the address that failed.
    """

    def __init__(self, ina, ina_address, photodiode, pd_address, sht, sht_address, ticks_us,
                 ticks_diff, sleep_us):
        self._ina = ina
        self._ina_address = ina_address
        self._pd = photodiode
        self._pd_address = pd_address
        self._sht = sht
        self.sht_address = sht_address
        self._ticks_us = ticks_us
        self._ticks_diff = ticks_diff
        self._sleep_us = sleep_us
        self.bus_address = 0
        self.voltage_mv = 0
        self.current_na = 0
        self.pd_pa = 0
        self.pd_range = 0
        self.pd_saturated = False
        self.temperature_cc = 0
        self.humidity_cpct = 0
        self.ambient_errors = 0
        self.ambient_failing = False
        self._ambient_pending = False
        self._ambient_mark = 0
        self._ambient_started = False

    def read_current(self):
        """DUT current only: the climb's look, constant current's loop, a trip's value."""
        self.bus_address = self._ina_address
        self.current_na = self._ina.read_current_na()
        return self.current_na

    def arm_alert(self, limit_na):
        """The INA226's ALERT at limit_na (and a latched one cleared)."""
        self.bus_address = self._ina_address
        self._ina.arm_alert(limit_na)

    def read_electrical(self):
        """DUT voltage and current (the INA226 averages in hardware)."""
        self.bus_address = self._ina_address
        self.voltage_mv = self._ina.read_bus_mv()
        self.current_na = self._ina.read_current_na()

    def read_light(self, oversample):
        """Photodiode current, auto-ranged, averaged over oversample conversions."""
        self.bus_address = self._pd_address
        pd = self._pd
        self.pd_pa = pd.read_pa(oversample)
        self.pd_range = pd.range_index
        self.pd_saturated = pd.saturated

    def restart(self):
        """A run begins: an ambient reading taken now and waited for, so even the run's
        first sample carries values measured at its start, never a reading from before it
        (whose age depends on how long the device idled), on a schedule that starts with
        it; then fresh conversions (the INA226 restarts its averaging on a config write).
        The INA226 goes last: a measurement in flight is waited out first for as long as
        the idle time left it, so its conversions would otherwise start at a time before
        the run clock that depends on when the host's START_RUN came. Returns True when
        the ambient reading begins a run of ambient failures."""
        failing = False
        if self._sht is not None:
            if self._ambient_pending:
                self._drop_reading_in_flight()
            self._ambient_started = False
            self._ambient_pending = False
            failing = self.service_ambient()  # starts the measurement
            if self._ambient_pending:
                self._sleep_us(AMBIENT_WAIT_US)  # once per run, before its clock starts
                failing = self.service_ambient()  # reads it
        self.bus_address = self._ina_address
        self._ina.restart()
        return failing

    def _drop_reading_in_flight(self):
        """Wait out and discard a measurement begun before the run: the SHT31 NACKs every
        command while it converts, so starting the run's own would fail, and how far along
        it is depends on how long the device idled."""
        left_us = AMBIENT_WAIT_US - self._ticks_diff(self._ticks_us(), self._ambient_mark)
        if left_us > 0:
            self._sleep_us(left_us)
        try:
            self._sht.read()
        except OSError:
            pass  # a reading nobody will use; the run's own start reports a dead sensor

    def pause_ambient(self):
        """Someone else talks to the SHT31 now (the self-test): a measurement in flight is
        waited out and dropped, and the schedule starts afresh on the next service."""
        if self._sht is None:
            return
        if self._ambient_pending:
            self._drop_reading_in_flight()
        self._ambient_pending = False
        self._ambient_started = False

    def service_ambient(self):
        """Read back a measurement begun at least AMBIENT_WAIT_US ago, and start one when
        AMBIENT_PERIOD_US has passed since the last start: the sensor rides on the loop's
        passes and never asks for one of its own (the SHT31 holds a single-shot result
        until it is read): in a run the samples' passes (Controller.service_ambient), so a
        sample's reading was begun one or two sample periods before it.

        Never waits for the sensor: the loop keeps running during its 15 ms conversion.
        Ambient values only annotate samples, so a failed reading (CRC error, or an OSError
        from the bus) keeps the previous values instead of faulting the device.  Returns True
        when a run of failures begins (the caller reports it once), else False.
        """
        if self._sht is None:
            return False
        # The clock is read here, not at the start of the pass: a sample may have taken
        # longer than the sensor's conversion in between.
        now_us = self._ticks_us()
        if self._ambient_pending:
            if self._ticks_diff(now_us, self._ambient_mark) < AMBIENT_WAIT_US:
                return False
            self._ambient_pending = False
            try:
                ok = self._sht.read()
            except OSError:
                ok = False
            if not ok:
                return self._ambient_failed()
            self.temperature_cc = self._sht.temperature_cc
            self.humidity_cpct = self._sht.humidity_cpct
            self.ambient_failing = False
        if (not self._ambient_started
                or self._ticks_diff(now_us, self._ambient_mark) >= AMBIENT_PERIOD_US):
            self._ambient_started = True
            try:
                self._sht.start()
                self._ambient_mark = self._ticks_us()
                self._ambient_pending = True
            except OSError:
                return self._ambient_failed()
        return False

    def _ambient_failed(self):
        """Count a failed reading or start; True when it begins a run of failures."""
        self.ambient_errors += 1
        first = not self.ambient_failing
        self.ambient_failing = True
        return first
