"""The simulated board: chips, GPIO, virtual clock and host link around a Bench, from LUMENRIG_SIM_*.

Runs inside the MicroPython unix process that runs the unchanged firmware (and on CPython
for tests).
"""

import json
import os
import select
import sys

from hil_sim import clock as clocks
from hil_sim import costs
from hil_sim.chips import CHIP_NAMES
from hil_sim.chips.ads1115 import SimADS1115
from hil_sim.chips.ina226 import SimINA226
from hil_sim.chips.mcp4725 import SimMCP4725
from hil_sim.chips.pca9554 import SimPCA9554
from hil_sim.chips.sht31 import SimSHT31
from hil_sim.chips.source import BenchSource
from hil_sim.chips.tca9548a import SimTCA9548A
from hil_sim.gpio import ControlFilePin, SimPin, SourcePin
from hil_sim.i2c import SimI2C
from lumenfw import board_config
from lumenfw.board import Board, StdioLink
from protocol import schema

STATE_PERIOD_MS = 5  # wall ms between state-file writes (and at every physics advance past it)
# Pacing of a dark rig (no output, no laser) at accel=max: its device time changes nothing
# (the room and the pixel stand still) and racing it would only burn a core while idle.
QUIET_ACCEL = 1000
WAIT_CHUNK_MS = 20  # an idle wait looks at the interlock file at least this often (wall)
_RESET_CAUSES = {"power_on": schema.RESET_POWER_ON, "soft": schema.RESET_SOFT,
                 "watchdog": schema.RESET_WATCHDOG}


class PtyLink(StdioLink):
    """The simulated board's end of its pty. A hang-up means the launcher that held the other
    end (the rig's cable and its host side) is gone for good, killed with the service that
    ran it: the board ends instead of spinning on a stream that can never speak again."""

    def read_into(self, buf):
        n = 0
        size = len(buf)
        one = self._one
        while n < size:
            event = 0
            for ready in self._poll.ipoll(0):
                event = ready[1]
            if event & _HANG_UP:
                raise SystemExit(3)
            if not event or not self._rx.readinto(one):
                break
            buf[n] = one[0]
            n += 1
        return n

    def wait(self, timeout_ms):
        for _, event in self._poll.ipoll(timeout_ms):
            if event & _HANG_UP:
                raise SystemExit(3)
            return True
        return False


_HANG_UP = select.POLLHUP | select.POLLERR


class SimBoard(Board):
    """A Board whose chips and pins sit on `bench` (hil_sim.physics.bench.Bench API).

    accel: device time runs at most this many times faster than wall time (a number > 0,
    or None: as fast as the CPU allows); it never decides what device time a thing happens
    at (hil_sim/clock.py).  link: an object with read_into(buf) and write(buf, n), and
    optionally wait(timeout_ms) (a StdioLink on stdin/stdout under the launcher; None = no
    host, writes are counted and dropped).  state_path: where the bench snapshot and the experiment time are kept so a
    restarted process continues the same DUT history.  chip_faults: {chip name: "missing" or
    "stuck"} (hil_sim.chips.CHIP_NAMES; the fault grammar's missing= and stuck=).  Tests
    reach the parts through .source, .dac, .ina, .ads, .sht, .clock.

    cards: the pixels (a Bench each, channel n = index n, `bench` the first) of a board with
    channel cards (docs/hardware.md): a TCA9548A on the main bus, and behind it on card n's
    own bus that pixel's MCP4725, INA226, ADS1115 and a PCA9554 for its relay, TIA gain and
    ALERT (SimCard, in .cards); the SHT31, laser and shutter stay on the main board with
    `bench`.  A card's relay closes only while the relay pin (the rig-wide enable) is high
    and its expander bit set.  The ina_alert pin is then the cards' INT line: low while any
    card's ALERT is asserted (the PCA9554 latches a change until its input port is read; this
    line follows the level).  The state file keeps every card's pixel ("cards": channels 1
    and up); chip_faults then name a card's chip as "ina226@2".
    """

    def __init__(self, bench, config=board_config, accel=1, frozen=False, link=None,
                 state_path=None, start_us=0, ticks_offset_us=0,
                 reset_cause=schema.RESET_POWER_ON, name="sim", board_id=0, interlock=None,
                 chip_faults=None, cards=None):
        if cards is not None:
            if not 1 <= len(cards) <= config.MAX_CHANNELS or cards[0] is not bench:
                raise ValueError("cards: 1 to %d benches, the first being `bench`"
                                 % config.MAX_CHANNELS)
        self.clock = clocks.VirtualClock(accel, start_us, ticks_offset_us)
        self.passes = 0
        self.name = name
        self.board_id = board_id  # (Board.__init__ sets it too; the state file needs it first)
        self.frozen = frozen
        self.bytes_dropped = 0
        self.watchdog_fed_ms = clocks.link_ms()
        self._link = link
        self._state_file = None
        self._state_len = 0
        self._state_ms = self.watchdog_fed_ms - STATE_PERIOD_MS
        self.source = None
        self._stops = None  # set by stop_at
        if state_path and not frozen:
            # Unbuffered: each write() is visible to the launcher at once, and nothing calls
            # flush(), which on the unix port is an fsync (a disk wait per write).
            self._state_file = open(state_path, "r+b" if _exists(state_path) else "w+b",  # noqa: SIM115 (kept open)
                                    buffering=0)
        self.source = BenchSource(bench, self.clock, frozen, self._on_advance)
        source = self.source
        # Pins come up low (the safe state); the bench is told so, as after any reset.
        source.set_output_relay(0)
        source.set_laser(0)
        source.set_shutter_drive(False)
        open_level = config.SHUTTER_OPEN_LEVEL
        relay = SimPin(0, self._drive_relay)
        laser = SimPin(0, self._drive_laser)
        shutter = SimPin(1 - open_level, lambda level: source.set_shutter_drive(level == open_level))
        tia_gain = SimPin(0)
        if interlock is None:
            interlock = SimPin(1)
        self._interlock_seen = interlock.value()  # its level when the last wait began
        self._interlock_wake = interlock  # the input itself: what wakes an idle (not a read
        # by the firmware, for whoever watches the firmware's reads of board.interlock)
        i2c = SimI2C(self.clock, config.I2C_FREQ_HZ)
        self.cards = None
        self._relay_enabled = 0  # the relay pin's level (a card's relay needs it high)
        if cards is None:
            self.dac = i2c.attach(config.ADDR_DAC, SimMCP4725(source, config.DAC_FULL_SCALE_MV))
            self.ina = i2c.attach(config.ADDR_INA226,
                                  SimINA226(source, self.clock, config.SHUNT_MOHM))
            self.ads = i2c.attach(config.ADDR_ADS1115, SimADS1115(
                source, self.clock, tia_gain, config.TIA_FEEDBACK_OHM, config.TIA_RAIL_MV,
                config.ADS_PD_CHANNEL))
            ina_alert = SourcePin(self.ina.alert_released)
        else:
            self.cards = [SimCard(self, n, source if n == 0 else
                                  BenchSource(card_bench, self.clock, frozen, self._on_advance),
                                  config) for n, card_bench in enumerate(cards)]
            i2c.attach_mux(config.ADDR_MUX, SimTCA9548A([card.bus for card in self.cards]))
            first = self.cards[0]
            self.dac, self.ina, self.ads = first.dac, first.ina, first.ads
            ina_alert = SourcePin(self._cards_alert_released)
        self.sht = i2c.attach(config.ADDR_SHT31, SimSHT31(source, self.clock))
        addresses = chip_addresses(config)
        for chip, fault in (chip_faults or {}).items():
            name, _, card = chip.partition("@")  # "ina226@2": card 2's, on its own bus
            bus = self.cards[int(card)].bus if card else i2c
            if fault == "missing":
                bus.fail(addresses[name])
            elif fault == "stuck":
                bus.stick(addresses[name])
            else:
                raise ValueError("chip fault %r: missing or stuck" % fault)
        Board.__init__(self, config, i2c, relay, laser, shutter, tia_gain, SimPin(0),
                       SourcePin(source.shutter_closed), interlock, reset_cause, board_id,
                       ina_alert=ina_alert, card_count=len(cards) if cards else 0)
        self._persist(True)

    # Clocks -----------------------------------------------------------------------------

    def ticks_us(self):
        return self.clock.ticks_us()

    def ticks_diff(self, a, b):
        return self.clock.ticks_diff(a, b)

    def ticks_add(self, ticks, delta_us):
        return self.clock.ticks_add(ticks, delta_us)

    def sleep_us(self, us):
        self.clock.sleep_us(us)

    def idle_us(self, us, link_ms=None):
        """The loop pass is over (its CPU time is charged); wait up to us of device time,
        returning early when the host has written or link_ms of wall time (the link's own
        deadlines) have passed (but neither within the board's WAKE_GUARD_US of the end:
        that pass is due anyway) or the interlock changed, and at the device time the
        INA226's ALERT asserts (SimINA226.alert_due_us: exact, at any accel).  Unpaced with
        the bench lit the wait ends at once at its device time: the next pass comes within
        microseconds of wall, before any link deadline could matter.

        Where an early wake lands in device time depends on the wall (as on a board); what
        the firmware does in such a pass cannot change a sample (the bench is a function of
        device time and inputs, and the chips report conversions at their own times).
        """
        clock = self.clock
        self.passes += 1
        clock.charge_us(costs.PASS_US)
        if us <= 0:
            return
        end_us = clock.now_us() + us
        alert_us = self._alert_due_us(clock.now_us(), end_us)
        if alert_us >= 0:
            end_us = alert_us  # the pin's edge ends the wait there, as its interrupt would
        guard_us = self.config.WAKE_GUARD_US
        if us > guard_us and (link_ms is not None and link_ms <= 0 or self._input_waiting(0)):
            return
        level = self._interlock_wake.value()
        if level != self._interlock_seen:  # it changed during the pass: the edge's interrupt
            self._interlock_seen = level  # is pending, so the wait ends before it begins
            return
        accel = clock.accel
        if accel is None:
            if not self._bench_dark():
                clock.advance_to(end_us)
                clock.unpaced()
                return
            accel = QUIET_ACCEL
        clock.catch_up(accel)
        link_until_ms = None if link_ms is None else clocks.link_ms() + link_ms
        while True:
            wait_us = clock.wall_until_us(end_us, accel)
            if wait_us <= 0:
                clock.advance_to(end_us)
                return
            chunk_ms = WAIT_CHUNK_MS
            if link_until_ms is not None:
                chunk_ms = max(0, min(chunk_ms, clocks.link_diff(link_until_ms,
                                                                 clocks.link_ms())))
            if wait_us < 1000:  # below poll's 1 ms grain: look, then sleep the rest exactly
                woke = self._input_waiting(0)
                if not woke:
                    clocks.sleep_wall_us(wait_us)
            else:
                woke = self._input_waiting(min(wait_us // 1000, chunk_ms))
            if link_until_ms is not None and clocks.link_diff(clocks.link_ms(),
                                                              link_until_ms) >= 0:
                woke = True  # a link deadline: a wake like the host's bytes
            now_level = self._interlock_wake.value()
            if now_level != level:  # a safety input: wake at once
                self._interlock_seen = now_level
                clock.advance_to(clock.paced_us(end_us, accel))
                return
            if woke:
                wake_us = clock.paced_us(end_us, accel)
                if end_us - wake_us > guard_us:
                    clock.advance_to(wake_us)
                    return
                # too close to the due pass: the host's bytes wait for it
                clocks.sleep_wall_us(max(0, clock.wall_until_us(end_us, accel)))
                clock.advance_to(end_us)
                return

    def _input_waiting(self, timeout_ms):
        """True when the host's bytes are waiting (after up to timeout_ms of wall time)."""
        link = self._link
        wait = getattr(link, "wait", None)
        if wait is not None:
            return wait(timeout_ms)
        if timeout_ms:
            clocks.sleep_wall_us(timeout_ms * 1000)
        return False

    def link_ms(self):
        return clocks.link_ms()

    def link_diff(self, a, b):
        return clocks.link_diff(a, b)

    # Host link and watchdog ---------------------------------------------------------------

    def read_into(self, buf):
        if self._link is None:
            return 0
        return self._link.read_into(buf)

    def write(self, buf, n):
        if self._link is None:
            self.bytes_dropped += n
            return
        self._link.write(buf, n)

    def feed_watchdog(self):
        """Records the feed time; it goes into the state file for whoever watches the rig."""
        self.watchdog_fed_ms = clocks.link_ms()
        self._persist(False)

    # State across a device reset ------------------------------------------------------------

    def save_state(self):
        """Write the state file now (it is otherwise written at most every STATE_PERIOD_MS)."""
        self._persist(True)

    def _on_advance(self, t_us):
        self._persist(False)

    def stop_at(self, stops_us, notify_path, release_path, lit_stops_us=()):
        """Halt the device clock at each of stops_us (device us) and lit_stops_us (lit
        time: device us with the relay or laser on, see Bench.lit_s) exactly: the state file
        is written, "stop T_US" or "lit T_US" goes to the launcher through the notify FIFO,
        and the board waits for a byte on the release FIFO (or is killed there: a reset at
        that time).  Lit stops are placed in device time whenever the bench lights up (and
        withdrawn when it goes dark): lit time then runs with device time."""
        self._stops = {"device": sorted(stops_us), "lit": sorted(lit_stops_us),
                       "names": {}, "notify": None, "release": None,
                       "paths": (notify_path, release_path)}
        self._place_stops()

    def _place_stops(self):
        """Give the clock every stop still ahead: device stops, and lit stops while lit."""
        stops = self._stops
        now_us = self.clock.now_us()
        names = {t: [b"stop %d" % t] for t in stops["device"] if t > now_us}
        if not self._bench_dark():
            lit_now_us = self.source.lit_us()
            for lit_us in stops["lit"]:
                if lit_us > lit_now_us:
                    names.setdefault(now_us + lit_us - lit_now_us, []).append(b"lit %d" % lit_us)
        stops["names"] = names
        self.clock.stop_at(list(names), self._on_stop)

    def _on_stop(self, t_us):
        stops = self._stops
        self._persist(True)
        if stops["notify"] is None:
            notify_path, release_path = stops["paths"]
            stops["notify"] = open(notify_path, "wb", buffering=0)  # noqa: SIM115 (kept open)
            stops["release"] = open(release_path, "rb", buffering=0)  # noqa: SIM115
        for name in stops["names"].pop(t_us, ()):
            stops["notify"].write(name + b"\n")
            stops["release"].read(1)
        self.clock.pace_restart()

    def _drive_relay(self, level):
        self._relay_enabled = level
        if self.cards is None:
            self.source.set_output_relay(level)
        else:
            for card in self.cards:
                card.apply_relay()
        self._lighting_changed()

    def _bench_dark(self):
        """Nothing lit on the whole board: no output on any card, the laser off."""
        if self.cards is None:
            return self.source.bench_dark()
        for card in self.cards:
            if not card.source.bench_dark():
                return False
        return True

    def _alert_due_us(self, now_us, end_us):
        """The device us of the first INA226 conversion in (now_us, end_us] that asserts an
        ALERT (on any card), or -1."""
        if self.cards is None:
            return self.ina.alert_due_us(now_us, end_us)
        first_us = -1
        for card in self.cards:
            due_us = card.ina.alert_due_us(now_us, end_us)
            if due_us >= 0 and (first_us < 0 or due_us < first_us):
                first_us = due_us
        return first_us

    def _cards_alert_released(self):
        """The cards' INT line: released (True) while no card's ALERT is asserted."""
        for card in self.cards:
            if not card.ina.alert_released():
                return False
        return True

    def _drive_laser(self, level):
        self.source.set_laser(level)
        self._lighting_changed()

    def _lighting_changed(self):
        if self._stops is not None and self._stops["lit"]:
            self._place_stops()

    def _persist(self, force):
        """Write {t_us, board_id, wdt_fed_ms, passes, bench} as one JSON line, padded over the
        previous one (passes: loop passes this boot).

        At most every STATE_PERIOD_MS of wall time; one write() of an unbuffered file kept
        open.
        """
        if self._state_file is None or self.source is None:
            return  # (the source's first advance comes before the board is built)
        now = clocks.link_ms()
        if not force and clocks.link_diff(now, self._state_ms) < STATE_PERIOD_MS:
            return
        self._state_ms = now
        source = self.source
        source.sync()
        state = {"t_us": source.time_us(), "board_id": self.board_id,
                 "wdt_fed_ms": self.watchdog_fed_ms, "passes": self.passes,
                 "bench": source.bench.snapshot()}
        if self.cards is not None:
            for card in self.cards[1:]:
                card.source.sync()
            state["cards"] = [card.source.bench.snapshot() for card in self.cards[1:]]
        text = json.dumps(state)
        pad = self._state_len - len(text)
        self._state_len = len(text)
        f = self._state_file
        f.seek(0)
        f.write((text + "\n" + " " * pad if pad > 0 else text + "\n").encode())


class SimCard:
    """One channel card of a SimBoard: its bus (behind the board's mux), its pixel's source
    and its chips. The expander's relay output and the board's relay pin together close the
    pixel's relay; its gain output sets the card's TIA feedback (tia_gain, a pin the ADS1115
    model reads); its ALERT input reads the card's INA226."""

    def __init__(self, board, channel, source, config):
        self.channel = channel
        self.source = source
        self.bus = SimI2C()  # (bus time is charged on the main bus the transfers go through)
        self.tia_gain = SimPin(0)
        self.dac = self.bus.attach(config.ADDR_DAC,
                                   SimMCP4725(source, config.DAC_FULL_SCALE_MV))
        self.ina = self.bus.attach(config.ADDR_INA226,
                                   SimINA226(source, board.clock, config.SHUNT_MOHM))
        self.ads = self.bus.attach(config.ADDR_ADS1115, SimADS1115(
            source, board.clock, self.tia_gain, config.TIA_FEEDBACK_OHM, config.TIA_RAIL_MV,
            config.ADS_PD_CHANNEL))
        self._board = board
        self._relay_bit = 0
        self._relay_on = 0
        self._fail_due = (None, None)
        self._chip_addresses = (config.ADDR_DAC, config.ADDR_INA226, config.ADDR_ADS1115)
        source.set_output_relay(0)  # (as every pin after a reset: the bench is told so)
        self.io = self.bus.attach(config.ADDR_CARD_IO, SimPCA9554(
            outputs={config.CARD_IO_RELAY: self._expander_relay,
                     config.CARD_IO_TIA_GAIN: self.tia_gain.value},
            inputs={config.CARD_IO_ALERT: self.ina.alert_released}))

    def fail_at(self, device_us=None, lit_us=None):
        """From device_us of device time, or lit_us of its pixel's lit time, the card's DAC,
        INA226 and ADS1115 stop answering (ENODEV, as unpowered chips); its expander still
        answers, so its relay can be opened: a failure of its channel alone."""
        self._fail_due = (device_us, lit_us)
        self.bus.before = self._fail_if_due

    def _fail_if_due(self):
        device_us, lit_us = self._fail_due
        if (device_us is not None and self._board.clock.now_us() >= device_us) or (
                lit_us is not None and self.source.lit_us() >= lit_us):
            self.bus.before = None
            for address in self._chip_addresses:
                self.bus.fail(address)

    def _expander_relay(self, level):
        self._relay_bit = level
        self.apply_relay()
        self._board._lighting_changed()

    def apply_relay(self):
        """The pixel's relay as the enable pin and the card's bit make it (an AND gate)."""
        on = 1 if self._relay_bit and self._board._relay_enabled else 0
        if on != self._relay_on:
            self._relay_on = on
            self.source.set_output_relay(on)


def chip_addresses(config):
    """{chip name: its I2C address} on a board of this config."""
    return dict(zip(CHIP_NAMES, (config.ADDR_INA226, config.ADDR_DAC, config.ADDR_ADS1115,
                                 config.ADDR_SHT31)))


def parse_chip_faults(text):
    """{chip: "missing" or "stuck"} from "missing=sht31,stuck=ina226" (the launcher's
    LUMENRIG_SIM_CHIP_FAULTS, already checked by hil_sim.faults)."""
    faults = {}
    for item in text.split(","):
        if item:
            fault, _, chip = item.partition("=")
            faults[chip] = fault
    return faults


def load_state(path):
    """The last state a SimBoard wrote to path, or None when there is none (or it is torn).
    Its "bench" is None once forget_pixel() took the pixel off the board."""
    if not path or not _exists(path):
        return None
    try:
        with open(path, "rb") as f:
            line = f.read().split(b"\n")[0]
        state = json.loads(line)
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or "t_us" not in state or "bench" not in state:
        return None
    return state


def forget_pixel(path, channel=0):
    """Take the pixel of a channel off the board whose state is at path: the board (its id
    and clock) and the other pixels stay, and the next boot mounts a fresh pixel of its
    preset there.  The board must be down."""
    state = load_state(path)
    if state is None:
        return
    if channel == 0:
        state["bench"] = None
    elif channel <= len(state.get("cards") or ()):
        state["cards"][channel - 1] = None
    with open(path, "w") as f:
        f.write(json.dumps(state) + "\n")


def build_from_env():
    """The board main.py runs on under the simulator, configured by the environment:

    LUMENRIG_SIM_PRESET (G1|G2|film, default G1), LUMENRIG_SIM_ACCEL (default 1; "max":
    unpaced),
    LUMENRIG_SIM_SEED (default 0), LUMENRIG_SIM_CHANNELS (a board of that many channel cards,
    a pixel of the preset on each; default 0, the one-channel board), LUMENRIG_SIM_SPREAD (the pixel's parameters varied from
    the preset's, hil_sim.presets.pixel; default 0), LUMENRIG_SIM_PD_A_PER_CD_M2 (photodiode amps per cd/m2;
    required for LED presets), LUMENRIG_SIM_STATE (state file: continue after a reset),
    LUMENRIG_SIM_RESET_CAUSE (power_on|soft|watchdog: overrides the guess from the state
    file), LUMENRIG_SIM_INTERLOCK (file holding "1" closed / "0" open, polled),
    LUMENRIG_SIM_FROZEN=1 (physics never advances: static registers),
    LUMENRIG_SIM_TICKS_OFFSET_US (start ticks_us this far along, to reach the wrap soon),
    LUMENRIG_SIM_SAMPLE_RING (samples the device keeps for RESEND instead of the board's
    SAMPLE_RING: a simulated rig at high accel takes in one wall second of a link cut what
    the board takes in minutes; the unix port has the RAM, the Pico keeps its 512),
    LUMENRIG_SIM_STOPS_US and LUMENRIG_SIM_LIT_STOPS_US (comma-separated device and lit
    us where the clock halts for the launcher: faults due at those times) with
    LUMENRIG_SIM_STOP_FIFOS ("notify,release" FIFO paths; see SimBoard.stop_at),
    LUMENRIG_SIM_PD_WARMUP_C (degC the photodiode warms above the room over lit time: its
    dark current drifts up; default 0), LUMENRIG_SIM_CHIP_FAULTS (missing=CHIP and
    stuck=CHIP items, comma-separated: the fault plan's chip faults), LUMENRIG_SIM_CARD_FAILS
    (CARD@US or CARD@lit:US items: SimCard.fail_at).
    The host link is this process's stdin/stdout.
    """
    from hil_sim.physics.bench import Bench

    preset = _env("LUMENRIG_SIM_PRESET", "G1")
    seed = int(_env("LUMENRIG_SIM_SEED", "0"))
    accel = _parse_accel(_env("LUMENRIG_SIM_ACCEL", "1"))
    pd_a_per_cd_m2 = float(_env("LUMENRIG_SIM_PD_A_PER_CD_M2", "0"))
    frozen = _env("LUMENRIG_SIM_FROZEN", "0") == "1"
    state_path = _env("LUMENRIG_SIM_STATE", "")
    ticks_offset_us = int(_env("LUMENRIG_SIM_TICKS_OFFSET_US", "0"))
    channels = int(_env("LUMENRIG_SIM_CHANNELS", "0"))
    benches = [Bench(preset, seed, pd_a_per_cd_m2,
                     pd_warmup_c=float(_env("LUMENRIG_SIM_PD_WARMUP_C", "0")), channel=n,
                     spread=float(_env("LUMENRIG_SIM_SPREAD", "0")))
               for n in range(max(channels, 1))]
    bench = benches[0]
    state = None if frozen else load_state(state_path)
    start_us = 0
    cause = schema.RESET_POWER_ON
    board_id = new_board_id()
    if state is not None:
        # (None: a fresh pixel, unaged, in the room's start)
        for card_bench, snapshot in zip(benches, [state["bench"]] + (state.get("cards") or [])):
            if snapshot is not None:
                card_bench.restore(snapshot)
        start_us = int(state["t_us"])
        board_id = int(state.get("board_id") or board_id)
        cause = schema.RESET_SOFT
    cause = _RESET_CAUSES.get(_env("LUMENRIG_SIM_RESET_CAUSE", ""), cause)
    interlock_path = _env("LUMENRIG_SIM_INTERLOCK", "")
    interlock = None
    if interlock_path:
        interlock = ControlFilePin(interlock_path, 1, clocks.link_ms, clocks.link_diff)
    name = "sim:" + preset
    config = board_config
    overrides = {}
    sample_ring = int(_env("LUMENRIG_SIM_SAMPLE_RING", "0"))
    if sample_ring:
        overrides["SAMPLE_RING"] = sample_ring
    if _env("LUMENRIG_SIM_LASER", "1") == "0":
        overrides["HAS_LASER"] = False
    if overrides:
        config = config_with(board_config, **overrides)
    board = SimBoard(
        bench, config=config, accel=accel, frozen=frozen, link=PtyLink(sys.stdin.buffer, sys.stdout.buffer),
        state_path=state_path, start_us=start_us,
        # ticks restart near 0 at every boot, as on the Pico, whatever the experiment time
        ticks_offset_us=ticks_offset_us - start_us,
        reset_cause=cause, name=name, board_id=board_id,
        interlock=interlock, chip_faults=parse_chip_faults(_env("LUMENRIG_SIM_CHIP_FAULTS", "")),
        cards=benches if channels else None)
    for item in _env("LUMENRIG_SIM_CARD_FAILS", "").split(","):
        if item:  # "CARD@US" or "CARD@lit:US" (hil_sim.faults.FaultPlan.card_text)
            card, _, at = item.partition("@")
            if at.startswith("lit:"):
                board.cards[int(card)].fail_at(lit_us=int(at[4:]))
            else:
                board.cards[int(card)].fail_at(device_us=int(at))
    stops = _env("LUMENRIG_SIM_STOPS_US", "")
    lit_stops = _env("LUMENRIG_SIM_LIT_STOPS_US", "")
    if stops or lit_stops:
        notify_path, release_path = _env("LUMENRIG_SIM_STOP_FIFOS", ",").split(",")
        board.stop_at([int(t) for t in stops.split(",") if t], notify_path, release_path,
                      [int(t) for t in lit_stops.split(",") if t])
    return board


class _Config:
    """A board config with some values replaced (MicroPython has no types.SimpleNamespace)."""


def config_with(module, **overrides):
    """A copy of the config module's upper-case names, with overrides applied."""
    config = _Config()
    for name in dir(module):
        if name.isupper():
            setattr(config, name, getattr(module, name))
    for name, value in overrides.items():
        setattr(config, name, value)
    return config


def new_board_id():
    """A fresh random u64 id: every simulated board is a board of its own (as a Pico's flash
    id is), whatever its preset and seed; its state file keeps it across resets."""
    return int.from_bytes(os.urandom(8), "big") or 1


def _parse_accel(text):
    if text == "max":
        return None
    value = float(text)
    if value == int(value):
        return int(value)
    return value


def _env(name, default):
    value = os.getenv(name)
    return value if value else default


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False

