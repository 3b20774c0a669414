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
    """Everything the firmware runs, wired by injection from a board object.

    Building it touches no I2C device; boot() does (DAC to 0, INA226 setup), so a dead
    bus at power-up is a FAULT reported over the link, not a crash.
    """

    def __init__(self, board):
        safe_outputs(board)
        self.board = board
        parts = build_parts(board)
        self.parts = parts
        self.outbox = Outbox(board.write, board.link_diff)
        self.events = EventLog(self.outbox, parts.event_ring)
        self.outputs = Outputs(board, parts.dac, self._emit)
        self.shutter = ShutterWatch(board.shutter_closed if parts.limits.has_shutter_switch
                                    else None, parts.limits.shutter_timeout_ms,
                                    board.ticks_diff, self._emit)
        self.sampler = Sampler(parts.ina, parts.ina_address, parts.photodiode, parts.pd_address,
                               parts.sht, parts.sht_address, board.ticks_us,
                               board.ticks_diff, board.sleep_us)
        self.ring = SampleRing(parts.sample_ring)
        self.ctrl = Controller(board, self.outputs, self.shutter, self.sampler, self.ring,
                               self.outbox, self.events, parts.limits)
        identity = Identity(board.board_id, board.reset_cause,
                            parts.limits.capabilities(parts.sht is not None,
                                                      parts.has_watchdog),
                            parts.limits.channel_can(self.ctrl.channel))
        self.link = Link(board, self.outbox, self.ctrl,
                         Commands(self.ctrl, SelfTest(board, parts, self.ctrl)), identity)
        self.safety = Safety(self.ctrl, self.link)
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
        self.ctrl.tick(board.ticks_us(), now_ms)
        self.outputs.safe()
        self.outbox.send_delimiter()
        self.ctrl.event(schema.EV_BOOT, board.reset_cause)
        self.link.heartbeat(now_ms)
        try:
            self._report_missing_chips()
            self.sampler.bus_address = self.parts.ina_address
            self.parts.setup()
        except Exception as exc:  # noqa: BLE001 - any failure: safe, report, keep serving
            self.fault(exc)

    def _report_missing_chips(self):
        """EV_I2C_ERROR for each chip the bus scan does not find (the INA226's own setup
        reports it)."""
        parts = self.parts
        answering = self.board.i2c.scan()
        for address, _bit in parts.chips:
            if address not in answering and address != parts.ina_address:
                self.ctrl.event(schema.EV_I2C_ERROR, address)

    def step(self):
        """One loop pass: clocks, safety, the run, link in, host loss, ambient, link out.

        The run's work comes before the host's commands, so that a sample due in this pass
        is read when the pass starts, whatever the host happened to send: what a command
        costs never moves a reading (and a command takes effect from the next pass)."""
        board = self.board
        board.feed_watchdog()
        now_us = board.ticks_us()
        now_ms = board.link_ms()
        ctrl = self.ctrl
        ctrl.tick(now_us, now_ms)
        safety = self.safety
        safety.check_outputs()
        ctrl.run_pass(now_us)
        self.link.poll(now_ms)
        safety.check_host(now_ms)
        state = ctrl.state  # (in a run the ambient sensor is served by the samples' passes)
        if state != schema.STATE_FAULT and state != schema.STATE_RUNNING:
            ctrl.service_ambient()
        self.link.service(now_ms)

    def sleep(self):
        """Wait until the next due event: on the device clock a sample, a mode step, a
        shutter, the climb's next step, at most IDLE_MAX_RUN_MS in a run (else IDLE_MAX_MS:
        an idle board's time does not leap); on the link clock a
        heartbeat, a batch aged in link time, a host deadline, at most IDLE_MAX_MS (the
        watchdog is fed every pass).  The board keeps the two apart: they are one clock on
        a Pico, not under an accelerated simulator.  It ends the wait early when the host
        writes, the interlock opens or the INA226's ALERT asserts.  A pending batch that
        would age out before the next due pass is sent now, and the ambient sensor rides on
        the passes (Sampler.service_ambient): neither asks for a pass of its own, and the
        link's work never gets one within WAKE_GUARD_US before the run's next (it waits for
        that pass, which it follows), so no sample is read late.  No allocation."""
        board = self.board
        ctrl = self.ctrl
        due_us = ctrl.due_in_us(self._idle_max_run_us if ctrl.state == schema.STATE_RUNNING
                                else self._idle_max_ms * 1000)
        if self.outbox.run_due_in_us(ctrl.clock, due_us) < due_us - self._wake_guard_us:
            self.outbox.flush()  # it would go out before the next due pass: now, not a pass
        board.idle_us(due_us, self.link.due_in_ms(board.link_ms(), self._idle_max_ms))

    def fault(self, exc):
        """Outputs safe, FAULT with events and the exception text as a LOG frame, then serve
        the link for this pass (whatever failed, the host can still ask and be answered)."""
        try:
            if self.ctrl.fault(exc):
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
