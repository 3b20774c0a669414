"""The simulated bench: supply, DUT (LED pixel or film), shutter, laser, photodiode and room.

The simulated chips call it on every register read, inside the MicroPython unix process, so it
is pure Python with `math` only and keeps the common path (nothing changed but time) to a few
float operations.  See docs/internals.md, "Simulated rig".
"""

from hil_sim import presets
from hil_sim.physics.ambient import Ambient
from hil_sim.physics.film import Film
from hil_sim.physics.led import Led
from hil_sim.physics.photodiode import Photodiode
from hil_sim.physics.rng import Rng
from hil_sim.physics.shutter import Shutter
from hil_sim.physics.supply import Supply

_SNAPSHOT_VERSION = 2
# The state at the last input change, in Bench._committed's order (kept in snapshots so a
# restored bench steps from the same point, to the last bit).
_COMMIT_FIELDS = ("t_s", "output_v", "shutter_position", "shutter_closed", "t_eff_s",
                  "dose_s", "room_s")


class Bench:
    """One rig with one device under test; time in s of device (experiment) time.

    Inputs act from the bench's current time: call advance_to(now) before changing them.
    Outputs describe the current time.  Everything random comes from one seeded Rng, so the
    same preset, seed and call sequence give the same numbers on CPython and MicroPython.
    """

    def __init__(self, preset_name, seed, pd_amps_per_cd_m2, pd_warmup_c=0.0, channel=0,
                 spread=0.0):
        """channel and spread: the pixel on that channel of a substrate whose pixels vary by
        spread (hil_sim.presets.pixel; its noise from presets.pixel_seed); channel 0 with
        spread 0 is the preset's own pixel on the rig's own seed."""
        p = presets.pixel(preset_name, channel, spread, seed)
        seed = presets.pixel_seed(seed, channel)
        rig = presets.RIG
        self.preset_name = preset_name
        self.channel = channel
        self.kind = p["kind"]
        self._pd_amps_per_cd_m2 = float(pd_amps_per_cd_m2)
        self._led = Led(p) if self.kind == "led" else None
        self._area_m2 = p["area_m2"] if self._led else 0.0
        self._film = Film(p) if self.kind == "film" else None
        self._pl_amps = p["pl_photocurrent_a"] if self._film else 0.0
        self._supply = Supply(rig["supply_slew_v_per_ms"], rig["supply_current_limit_a"],
                              rig["supply_max_v"])
        self._shutter = Shutter(rig["shutter_travel_s"])
        self._pd = Photodiode(rig, p["relative_noise"], pd_warmup_c)
        self._rig = rig
        self._seed_with(seed)
        self._t_s = 0.0
        self._laser = 0
        self._t_eff_s = 0.0
        self._dose_s = 0.0
        self._room_s = 0.0
        self._commit()
        self._invalidate()

    def _seed_with(self, seed):
        self.seed = int(seed)
        self._rng = Rng(self.seed)
        self._ambient = Ambient(self._rig, self._rng)

    def _invalidate(self):
        # Caches, keyed on what they depend on; results live in attributes because tuples of
        # 3+ items are slow heap allocations on the MicroPython unix port.
        self._pt_key = None  # supply output voltage of the operating point below
        self._v_dut = 0.0
        self._j_diode = 0.0
        self._j_shunt = 0.0
        self._lum_fresh = 0.0
        self._rate = 0.0
        self._age_key = -1.0  # t_eff of the ageing factors below
        self._r = 1.0
        self._q = 1.0
        self._env_key = -1  # whole second of device time of the temperature and dark current
        self._temperature_c = 0.0
        self._dark_a = 0.0

    # Inputs -----------------------------------------------------------------------------

    def set_supply_setpoint_v(self, voltage_v):
        """Amplifier target, 0..20 V (clamped); the output slews to it while the relay is on."""
        supply = self._supply
        before = supply.setpoint_v
        supply.set_setpoint_v(voltage_v)
        if supply.setpoint_v != before:
            self._commit()

    def set_output_relay(self, on):
        if (1 if on else 0) != self._supply.relay:
            self._supply.set_relay(on)
            self._commit()

    def set_laser(self, on):
        if (1 if on else 0) != self._laser:
            self._laser = 1 if on else 0
            self._commit()

    def set_shutter_drive(self, open_):
        if (1 if open_ else 0) != self._shutter.drive_open:
            self._shutter.set_drive(open_)
            self._commit()

    # Time -------------------------------------------------------------------------------

    def time_s(self):
        return self._t_s

    def is_dark(self):
        """Relay and laser off: the pixel, the film and the room stand still."""
        return not self._supply.relay and not self._laser

    def lit_s(self):
        """Lit time: device seconds the relay or the laser has been on (the room's clock)."""
        return self._room_s

    def lit_us(self):
        """Lit time in whole device microseconds. Summed from absolute float times, lit_s
        carries rounding noise that depends on when the run began; this does not, so a
        reading exactly on a whole second gives that second in every run."""
        return int(self._room_s * 1_000_000 + 0.5)

    def output_settled_s(self):
        """Device time at which the supply output reaches its target if the inputs stay as
        they are (the last input change when it is there already).  From then on the DUT's
        current can only fall: the pixel's current at a fixed voltage falls as it ages
        (Led.aged_factors), which the simulated INA226's alert relies on."""
        supply = self._supply
        commit = self._committed
        target_v = supply.setpoint_v if supply.relay else 0.0
        return commit[0] + abs(target_v - commit[1]) / supply.slew_v_per_s

    def output_on(self):
        return self._supply.relay == 1

    def commit_time_s(self):
        """Device time of the last input change: advance_to may go back as far as this."""
        return self._committed[0]

    def advance_to(self, t_s):
        """Move to device time t_s: one step from the last input change, whatever came between.

        Every state is computed in one step from the state at the last input change (the
        commit), so the bench at t_s does not depend on which times were asked for before:
        a board that reads its chips more often (the host woke it) gets the same numbers.
        Any step size is exact for constant inputs (the ageing and PL are closed forms of the
        accumulated stress or dose); a supply ramp inside the step uses the trapezoid rule
        over the ramp.  t_s may go back as far as the last input change; earlier raises
        ValueError.  Room time runs only while the relay or the laser is on (a dark rig's
        idle time, which the host's timing decides, must not change a run's readings).
        """
        if t_s == self._t_s:
            return
        commit = self._committed
        dt = t_s - commit[0]
        if dt < 0.0:
            raise ValueError(f"advance_to({t_s!r}) is before the last input change at "
                             f"{commit[0]!r}")
        supply = self._supply
        shutter = self._shutter
        supply.output_v = commit[1]
        shutter.position = commit[2]
        shutter.closed = commit[3]
        self._t_eff_s = commit[4]
        self._dose_s = commit[5]
        self._room_s = commit[6] + dt if (supply.relay or self._laser) else commit[6]
        ramp_s = supply.advance(dt)
        if self._led is not None:
            if ramp_s > 0.0:
                self._update_point(supply.ramp_start_v)
                r0 = self._rate
                self._update_point(supply.output_v)
                self._t_eff_s += 0.5 * (r0 + self._rate) * ramp_s + self._rate * (dt - ramp_s)
            else:
                self._update_point(supply.output_v)
                if self._rate > 0.0:
                    self._t_eff_s += self._rate * dt
        lit_s = shutter.advance(dt)
        if self._laser and self._film is not None:
            self._dose_s += lit_s
        self._t_s = float(t_s)

    def _commit(self):
        """The state now is where every later step starts (an input acts from here on)."""
        shutter = self._shutter
        self._committed = (self._t_s, self._supply.output_v, shutter.position, shutter.closed,
                           self._t_eff_s, self._dose_s, self._room_s)

    # Outputs ----------------------------------------------------------------------------

    def dut_voltage_v(self):
        """Voltage across the DUT (the supply output, lowered by the current limit if it acts)."""
        self._update_point(self._supply.output_v)
        return self._v_dut

    def dut_current_a(self):
        self._update_point(self._supply.output_v)
        self._update_age()
        return (self._j_diode * self._q + self._j_shunt) * self._area_m2

    def luminance_cd_m2(self):
        """Ground truth: the pixel's luminance now (0 for the film, which has no EL)."""
        self._update_point(self._supply.output_v)
        self._update_age()
        return self._lum_fresh * self._r * self._q

    def t50_at_s(self, voltage_v):
        """Ground truth: the fresh pixel's T50 held at voltage_v, in device seconds (its stress
        runs at (L_fresh / l0_ref)^n reference seconds per second: Led.fresh_point)."""
        if self._led is None:
            raise ValueError(f"t50_at_s: preset {self.preset_name} is a film, it has no EL")
        return self._led.t50_at_s(voltage_v)

    def pl_fraction(self):
        """Ground truth: the film's PL relative to the pristine film, lit or not."""
        if self._film is None:
            raise ValueError(f"pl_fraction: preset {self.preset_name} is an LED, it has no PL model")
        return self._film.pl_fraction(self._dose_s)

    def photocurrent_a(self):
        """What the photodiode delivers now: signal + dark current + one draw of noise.

        LED: pd_amps_per_cd_m2 * luminance.  Film: the PL only reaches the photodiode while
        the laser is on, scaled by the shutter's transmission.  Each call draws new noise.
        """
        if self._led is not None:
            signal = self._pd_amps_per_cd_m2 * self.luminance_cd_m2()
        elif self._laser and self._shutter.position > 0.0:
            signal = (self._pl_amps * self._shutter.position
                      * self._film.pl_fraction(self._dose_s))
        else:
            signal = 0.0
        self._update_environment()
        return self._pd.reading_a(signal, self._dark_a, self._rng.gauss())

    def shutter_closed(self):
        """The closed switch: True from the end of a closing travel to the end of an opening."""
        return self._shutter.closed == 1

    def ambient_c(self):
        """Room temperature in degC (evaluated once per whole second of room time)."""
        self._update_environment()
        return self._temperature_c

    def ambient_rh(self):
        """Relative humidity in % (evaluated once per whole second of room time)."""
        return self._ambient.humidity_pct(self._room_second())

    # State across a device reset --------------------------------------------------------

    def snapshot(self):
        """Everything that makes this bench's future: a flat dict of plain numbers (JSON-safe)."""
        s = {"version": _SNAPSHOT_VERSION, "seed": self.seed, "t_s": self._t_s,
             "laser": self._laser, "t_eff_s": self._t_eff_s, "dose_s": self._dose_s,
             "room_s": self._room_s}
        for name, value in zip(_COMMIT_FIELDS, self._committed):
            s["commit_" + name] = value
        for prefix, part in self._parts():
            for name in part.STATE:
                s[prefix + name] = getattr(part, name)
        return s

    def restore(self, state):
        """Continue from a snapshot() of a bench of the same preset (inputs included).

        A board that models a reset drives its pins to their boot values afterwards.
        """
        if state.get("version") != _SNAPSHOT_VERSION:
            raise ValueError("snapshot version {!r}, expected {}".format(
                state.get("version"), _SNAPSHOT_VERSION))
        if int(state["seed"]) != self.seed:
            self._seed_with(state["seed"])
        self._t_s = float(state["t_s"])
        self._laser = int(state["laser"])
        self._t_eff_s = float(state["t_eff_s"])
        self._dose_s = float(state["dose_s"])
        self._room_s = float(state["room_s"])
        for prefix, part in self._parts():
            for name in part.STATE:
                setattr(part, name, state[prefix + name])
        self._committed = tuple(type(now)(state["commit_" + name])
                                for name, now in zip(_COMMIT_FIELDS, self._committed))
        self._invalidate()

    def _parts(self):
        return (("supply_", self._supply), ("shutter_", self._shutter), ("rng_", self._rng))

    # Internals --------------------------------------------------------------------------

    def _update_point(self, output_v):
        """Operating point of the DUT for this supply output, current limit included."""
        if output_v == self._pt_key:
            return
        led = self._led
        if led is None:
            self._v_dut = output_v
            self._pt_key = output_v
            return
        led.fresh_point(output_v)
        self._update_age()
        q = self._q
        v = output_v
        self._pt_key = output_v
        if (led.point_j_diode_a_m2 * q + led.point_j_shunt_a_m2) * self._area_m2 \
                > self._supply.current_limit_a:
            v = self._supply.limited_v(output_v, self._current_at(q))
            led.fresh_point(v)
            self._pt_key = None  # the limited voltage moves with the ageing: never cached
        self._v_dut = v
        self._j_diode = led.point_j_diode_a_m2
        self._j_shunt = led.point_j_shunt_a_m2
        self._lum_fresh = led.point_luminance_cd_m2
        self._rate = led.point_stress_rate

    def _current_at(self, q):
        led = self._led
        area = self._area_m2

        def current_a(voltage_v):
            led.fresh_point(voltage_v)
            return (led.point_j_diode_a_m2 * q + led.point_j_shunt_a_m2) * area
        return current_a

    def _update_age(self):
        if self._t_eff_s != self._age_key:
            self._age_key = self._t_eff_s
            if self._led is not None:
                self._r, self._q = self._led.aged_factors(self._t_eff_s)

    def _room_second(self):
        """Whole seconds of room time (from lit_us: the same second in every run)."""
        return self.lit_us() // 1_000_000

    def _update_environment(self):
        second = self._room_second()
        if second != self._env_key:
            self._env_key = second
            self._temperature_c = self._ambient.temperature_c(second)
            self._dark_a = self._pd.dark_a(self._temperature_c, second)
