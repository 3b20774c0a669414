"""The firmware assembled around one board: boot, one loop pass, and the loop that never dies."""

from lumenfw.board import safe_outputs
from lumenfw.commands import Commands
from lumenfw.controller import Controller
from lumenfw.events import EventLog
from lumenfw.identity import Identity
from lumenfw.link import Link
from lumenfw.outbox import Outbox
from lumenfw.outputs import Outputs
from lumenfw.parts import build_parts
from lumenfw.ring import SampleRing
from lumenfw.safety import Safety
from lumenfw.sampler import Sampler
from lumenfw.selftest import SelfTest
from lumenfw.shutter import ShutterWatch
from protocol import schema

LOG_ERROR = 3


class Device:
    """Everything the firmware runs, wired by injection from a board object: a controller
    per channel (one on the one-channel board, one per card with cards), side by side on
    one loop, sharing the link, the event log and the rig's safety.

    Building it touches no I2C device; boot() does (DAC to 0, INA226 setup), so a dead
    bus at power-up is a FAULT reported over the link, not a crash.
    """

    def __init__(self, board):
        safe_outputs(board)
        self.board = board
        parts = build_parts(board)
        self.parts = parts
        limits = parts.limits
        self.outbox = Outbox(board.write, board.link_diff)
        self.events = EventLog(self.outbox, parts.event_ring)
        enable = None
        if parts.cards is not None:
            from lumenfw.cards import CardEnable

            enable = CardEnable(board.relay)
        laser_channel = limits.laser_channel
        ctrls = []
        ambient = None  # the first channel's sampler reads the rig's SHT31 for all
        for channel, front in enumerate(parts.fronts):
            lasing = channel == laser_channel
            outputs = Outputs(board, front, None, drives_laser=lasing, enable=enable)
            shutter = ShutterWatch(board.shutter_closed if lasing and limits.has_shutter_switch
                                   else None, limits.shutter_timeout_ms, board.ticks_diff,
                                   self._emit)
            sampler = Sampler(front.ina, front.ina_address, front.photodiode, front.pd_address,
                              parts.sht if ambient is None else None, parts.sht_address,
                              board.ticks_us, board.ticks_diff, board.sleep_us)
            if ambient is None:
                ambient = sampler
            ctrl = Controller(board, outputs, shutter, sampler, SampleRing(parts.sample_ring),
                              self.outbox, self.events, limits, channel, ambient, front.alert)
            outputs.report_to(ctrl.event)
            ctrls.append(ctrl)
        self.ctrls = tuple(ctrls)
        # The rig's controller: the laser's channel, whose flags and events are the rig's.
        ctrl = self.ctrls[laser_channel if laser_channel < len(ctrls) else 0]
        self.ctrl = ctrl
        self.outputs, self.shutter, self.sampler, self.ring = (ctrl.outputs, ctrl.shutter,
                                                               ctrl.sampler, ctrl.ring)
        identity = Identity(board.board_id, board.reset_cause,
                            limits.capabilities(parts.sht is not None, parts.has_watchdog),
                            tuple(limits.channel_can(n) for n in range(len(ctrls))))
        self.link = Link(board, self.outbox, self.ctrls,
                         Commands(self.ctrls, SelfTest(board, parts, self.ctrls, ctrl), ctrl), identity,
                         ctrl)
        self.safety = Safety(self.ctrls, self.link, ctrl)
        self._idle_max_ms = board.config.IDLE_MAX_MS
        self._idle_max_run_us = board.config.IDLE_MAX_RUN_MS * 1000
        self._wake_guard_us = board.config.WAKE_GUARD_US

    def _emit(self, code, value):
        self.ctrl.event(code, value)

    def boot(self):
        """Outputs safe (DAC included), then 0x00, EVENT boot, a first heartbeat; chips set up.

        A chip that does not answer its address is reported (EV_I2C_ERROR with the address)
        and the device comes up anyway: without the INA226 (set up here) in FAULT, without
        the SHT31 with empty ambient readings; the host's self-test names what is missing.
        A failure here leaves the device in FAULT with the outputs safe.
        """
        board = self.board
        now_ms = board.link_ms()
        now_us = board.ticks_us()
        for ctrl in self.ctrls:
            ctrl.tick(now_us, now_ms)
        self._all_safe()
        self.outbox.send_delimiter()
        self.ctrl.event(schema.EV_BOOT, board.reset_cause)
        self.link.heartbeat(now_ms)
        try:
            self._report_missing_chips()
            self.sampler.bus_address = self.parts.ina_address
            self.parts.setup(self._card_failed)
        except Exception as exc:  # noqa: BLE001 - any failure: safe, report, keep serving
            self.fault(exc)

    def _card_failed(self, channel, exc):
        """A card that cannot be set up at boot faults its channel alone (the self-test of
        that channel names the chip)."""
        self.ctrls[channel].fault(exc)

    def _all_safe(self):
        """Every channel's outputs safe: the board's relay pin first (with cards every card's
        enable), then each channel's relay and DAC, each tried whatever another's bus did."""
        self.board.relay.value(0)
        for ctrl in self.ctrls:
            ctrl.outputs.safe()


    def _report_missing_chips(self):
        """EV_I2C_ERROR for each chip the bus scan does not find (the INA226's own setup
        reports it)."""
        parts = self.parts
        answering = self.board.i2c.scan()
        for address, _bit in parts.chips:
            if address not in answering and address != parts.ina_address:
                self.ctrl.event(schema.EV_I2C_ERROR, address)

    def step(self):
        """One loop pass: clocks, safety, the runs, link in, host loss, ambient, link out.

        The runs' work comes before the host's commands, so that a sample due in this pass
        is read when the pass starts, whatever the host happened to send: what a command
        costs never moves a reading (and a command takes effect from the next pass).  On a
        board with cards a channel's failure (its card stops answering) faults that channel
        only; a card whose relay would not open stops them all."""
        board = self.board
        board.feed_watchdog()
        now_us = board.ticks_us()
        now_ms = board.link_ms()
        ctrls = self.ctrls
        for ctrl in ctrls:
            ctrl.tick(now_us, now_ms)
        safety = self.safety
        safety.check_outputs()
        if len(ctrls) == 1:
            self.ctrl.run_pass(now_us)
        else:
            self._run_channels(now_us)
        self.link.poll(now_ms)
        safety.check_host(now_ms)
        # (in a run the ambient sensor is served by the samples' passes)
        for ctrl in ctrls:
            if ctrl.state == schema.STATE_RUNNING:
                break
        else:
            if self.ctrl.state != schema.STATE_FAULT:
                self.ctrl.service_ambient()
        self.link.service(now_ms)

    def _run_channels(self, now_us):
        """Each channel's run for this pass, in channel order (the mux round-robin); an
        exception in one faults that channel and the others go on."""
        for ctrl in self.ctrls:
            try:
                ctrl.run_pass(now_us)
            except Exception as exc:  # noqa: BLE001 - one card's failure is its channel's
                ctrl.fault(exc)
            if ctrl.outputs.enable_cut():
                self._stop_all(schema.STOP_I2C_FAULT)
                return

    def _stop_all(self, reason):
        """Every channel safe and stopped (a channel already stopped stays as it is)."""
        self.board.relay.value(0)
        for ctrl in self.ctrls:
            if ctrl.state == schema.STATE_RUNNING or ctrl.outputs.any_on():
                ctrl.stop(reason)

    def sleep(self):
        """Wait until the next due event: on the device clock a sample, a mode step, a
        shutter, the climb's next step (of any channel), at most IDLE_MAX_RUN_MS in a run
        (else IDLE_MAX_MS: an idle board's time does not leap); on the link clock a
        heartbeat, a batch aged in link time, a host deadline, at most IDLE_MAX_MS (the
        watchdog is fed every pass).  The board keeps the two apart: they are one clock on
        a Pico, not under an accelerated simulator.  It ends the wait early when the host
        writes, the interlock opens or an ALERT asserts.  A pending batch that
        would age out before the next due pass is sent now, and the ambient sensor rides on
        the passes (Sampler.service_ambient): neither asks for a pass of its own, and the
        link's work never gets one within WAKE_GUARD_US before the run's next (it waits for
        that pass, which it follows), so no sample is read late.  No allocation."""
        board = self.board
        due_us = self._idle_max_ms * 1000
        for ctrl in self.ctrls:
            if ctrl.state == schema.STATE_RUNNING:
                due_us = self._idle_max_run_us
        for ctrl in self.ctrls:
            due_us = ctrl.due_in_us(due_us)
        if self.outbox.run_due_in_us(due_us) < due_us - self._wake_guard_us:
            self.outbox.flush()  # it would go out before the next due pass: now, not a pass
        board.idle_us(due_us, self.link.due_in_ms(board.link_ms(), self._idle_max_ms))

    def fault(self, exc):
        """Every channel's outputs safe, FAULT with events and the exception text as a LOG
        frame, then serve the link for this pass (whatever failed, the host can still ask
        and be answered)."""
        try:
            self.board.relay.value(0)
            reported = False
            for ctrl in self.ctrls:
                if ctrl.fault(exc):
                    reported = True
            if reported:
                self.link.log(LOG_ERROR, f"{type(exc).__name__}: {exc}")
            now_ms = self.board.link_ms()
            self.link.poll(now_ms)
            self.link.service(now_ms)
        except Exception as again:  # noqa: BLE001 - the link may be what failed
            self.link.failures += 1
            self.link.last_failure = again

    def step_safely(self):
        """One pass; an exception anywhere in it faults the device and the next pass goes on."""
        try:
            self.step()
        except Exception as exc:  # noqa: BLE001 - nothing may stop the loop
            self.fault(exc)

    def sleep_safely(self):
        """sleep(); a failure while waiting (the board's wake sources) faults the device as one
        in a pass does, and the next pass comes at once."""
        try:
            self.sleep()
        except Exception as exc:  # noqa: BLE001 - nothing may stop the loop
            self.fault(exc)

    def run_forever(self):
        """The main loop (a try block costs nothing per pass: no allocation)."""
        while True:
            self.step_safely()
            self.sleep_safely()
