"""The device's run state machine: runs a program on its own, and every way out is stop()."""

from lumenfw import runprogram
from lumenfw.darkpause import DarkPause
from lumenfw.luminance import LuminanceWatch
from lumenfw.modes import ConstantCurrent, ConstantVoltage, Mode, Photostability, Sweep
from lumenfw.runclock import Mark, RunClock
from lumenfw.runprogram import RunProgram
from lumenfw.shutter import IDLE as SHUTTER_IDLE
from protocol import schema

ACK = 0  # (code, detail) results of the command methods: ACK or a schema.NACK_* code

_FAULT_STOPS = (schema.STOP_EXCEPTION, schema.STOP_I2C_FAULT)
_RIG_EVENTS = (schema.EV_BOOT, schema.EV_INTERLOCK_OPEN, schema.EV_INTERLOCK_CLOSED,
               schema.EV_HOST_LOST, schema.EV_HOST_BACK, schema.EV_SHUTTER_OPENED,
               schema.EV_SHUTTER_CLOSED, schema.EV_SHUTTER_FAULT, schema.EV_LASER_ON,
               schema.EV_LASER_OFF)
SHUTTER_POLL_US = 1000  # a moving shutter's switch is looked at this often


class Controller:
    """IDLE, RUNNING, SAFE_STOP or FAULT, plus the current (or last) run.

    run_key, mode and next_seq stay after a run ends, so the host can still fetch its tail
    and tell what kind of run the board holds.
    Events carry the run's key and run time while a run is active, else run_key 0 and the
    device uptime.
    """

    def __init__(self, board, outputs, shutter, sampler, ring, outbox, events, limits,
                 channel=0, ambient=None, alert=None):
        """channel: the pixel this controller drives; ambient: the Sampler that owns the
        SHT31 (a channel's own sampler reads none on a board with cards, but its samples
        carry the rig's ambient); alert: the channel's INA226 ALERT input (default the
        board's pin)."""
        self.board = board
        self.outputs = outputs
        self.shutter = shutter
        self.sampler = sampler
        self.ring = ring
        self.outbox = outbox
        self.events = events
        self.limits = limits
        self.channel = channel
        self.ambient = ambient if ambient is not None else sampler
        self.alert = alert if alert is not None else board.ina_alert
        self.clock = RunClock(board.ticks_diff)
        self.uptime = RunClock(board.ticks_diff)
        self.uptime.start(board.ticks_us())
        self.luminance = LuminanceWatch()
        self.dark = DarkPause()
        self.state = schema.STATE_IDLE
        self.mode = schema.MODE_NONE
        self.run_key = 0
        self.next_seq = 0
        self.program = RunProgram(runprogram.NO_PROGRAM)
        self.stop_reason = schema.STOP_NONE
        self.fault_code = schema.FAULT_NONE
        self.compliance_tripped = False
        self.interlock_closed = False  # as the safety check last read it
        self.interlock_was_on = False  # (the safety check's note while the loop opens)
        self.repeated_faults = 0
        self.now_ms = 0
        self._run_active = False  # events carry the run context while this is set
        self._sampling = False
        self._period_ms = 0
        self._first_after_ms = 0  # start_sampling's first_after_ms: again after a climb
        self._sample_due = Mark()
        self._mode = Mode()
        self._modes = (Mode(), ConstantVoltage(), ConstantCurrent(), Sweep(), Photostability())

    # ---- reporting ---------------------------------------------------------------------

    def event(self, code, value):
        """Send an EVENT stamped with the run (or uptime) clock and the current state; an
        event about the rig as a whole (boot, interlock, host, shutter, laser) names no
        channel."""
        if self._run_active:
            clock = self.clock
            run_key = self.run_key
        else:
            clock = self.uptime
            run_key = 0
        channel = schema.CHANNEL_RIG if code in _RIG_EVENTS else self.channel
        self.events.emit(code, value, run_key, channel, clock.t_s, clock.t_us, self.state)

    def set_state(self, state):
        if state != self.state:
            self.state = state
            self.event(schema.EV_STATE, state)

    def interlock_ok(self):
        return self.board.interlock.value() == 1

    def arm_alert(self):
        """The INA226's ALERT set to the compliance that now applies (a run's, or the board's
        maximum), any latched alert cleared: before an output may come on."""
        self.sampler.arm_alert(self.compliance_limit_na())

    def compliance_limit_na(self):
        """The run's compliance, or the board's maximum current outside runs (or for 0)."""
        program = self.program
        if self.state == schema.STATE_RUNNING and program.compliance_na:
            return program.compliance_na
        return self.limits.max_current_na

    def rig_flags(self):
        """HEARTBEAT's flags: laser as commanded, shutter switch, interlock (as the last
        safety check saw it, so a heartbeat can be given even when that input fails)."""
        flags = self.outputs.flags() & schema.FLAG_LASER_ON
        if not self.shutter.is_closed():
            flags |= schema.FLAG_SHUTTER_OPEN
        if self.interlock_closed:
            flags |= schema.FLAG_INTERLOCK_OK
        return flags

    def channel_flags(self):
        """A channel record's flags: output as commanded, compliance, photodiode saturated."""
        flags = self.outputs.flags() & schema.FLAG_OUTPUT_ON
        if self.compliance_tripped:
            flags |= schema.FLAG_COMPLIANCE
        if self.sampler.pd_saturated:
            flags |= schema.FLAG_PD_SATURATED
        return flags

    def device_flags(self):
        """STATUS and sample flags: the rig's and the channel's."""
        return self.rig_flags() | self.channel_flags()

    # ---- the one way to safety -----------------------------------------------------------

    def make_safe(self):
        """Outputs safe at once (relay, laser, shutter, DAC), then watch the shutter close."""
        shutter_was_open = self.outputs.shutter_open
        self.outputs.safe()
        if shutter_was_open:
            self.shutter.expect(False, self.board.ticks_us())

    def stop(self, reason):
        """Every exit from a run, and every safety action, comes through here.

        Outputs first; then the run's pending samples; then the events (EV_SAFE_STOP for
        safety reasons, EV_RUN_STOPPED if a run was active, EV_STATE).  Normal ends go to
        IDLE, safety stops to SAFE_STOP, exceptions and I2C failures to FAULT.
        """
        self.make_safe()
        was_running = self.state == schema.STATE_RUNNING
        self._sampling = False
        if was_running:
            self.outbox.flush()
        self.stop_reason = reason
        if reason in schema.SAFETY_STOPS:
            self.event(schema.EV_SAFE_STOP, reason)
        if was_running:
            self.event(schema.EV_RUN_STOPPED, reason)
        if reason in _FAULT_STOPS:
            self.set_state(schema.STATE_FAULT)
        elif reason in schema.SAFETY_STOPS:
            self.set_state(schema.STATE_SAFE_STOP)
        else:
            self.set_state(schema.STATE_IDLE)
        self._run_active = False
        self._mode = self._modes[0]  # (self.mode stays: it is the mode of the run held)

    def fault(self, exc):
        """An exception escaped the loop: outputs safe first, then report and go to FAULT.

        Returns True when it was reported, False for a repeat of the fault already
        reported (a failure that recurs every pass must not flood the link).  Never
        raises: if reporting fails too, the outputs are already safe.
        """
        self.outputs.safe()
        if isinstance(exc, OSError):
            code = schema.FAULT_I2C
        elif isinstance(exc, MemoryError):
            code = schema.FAULT_MEMORY
        else:
            code = schema.FAULT_SOFTWARE
        if self.state == schema.STATE_FAULT and code == self.fault_code:
            self.repeated_faults += 1
            return False
        try:
            self.fault_code = code
            self.event(schema.EV_EXCEPTION, code)
            if code == schema.FAULT_I2C:
                self.event(schema.EV_I2C_ERROR, self.sampler.bus_address)
                self.stop(schema.STOP_I2C_FAULT)
            else:
                self.stop(schema.STOP_EXCEPTION)
        except Exception:  # noqa: BLE001 - the outputs are safe; nothing more to do here
            self.outputs.safe()
            self.state = schema.STATE_FAULT
        return True

    # ---- commands (each returns (ACK or NACK code, detail)) ------------------------------

    def start_run(self, program):
        """Start a run, or refuse it; the same run_key again is ACKed without a restart."""
        if self.state == schema.STATE_FAULT:
            return schema.NACK_FAULTED, self.fault_code
        if self.outputs.enable_cut():
            return schema.NACK_FAULTED, schema.FAULT_I2C
        if self.state == schema.STATE_RUNNING:
            if program.run_key == self.run_key:
                return ACK, 0
            return schema.NACK_BUSY, self.run_key
        if program.run_key == self.run_key and self.run_key and not program.resume_seq:
            return ACK, 0  # that run already ran here: a late retry must not restart it
        field = runprogram.check(program, self.limits)
        if field != runprogram.OK:
            return schema.NACK_OUT_OF_RANGE, field
        if not self.interlock_ok():
            return schema.NACK_INTERLOCK_OPEN, 0
        self.make_safe()  # anything left on by hand is off before the run takes over
        self._begin(program)
        return ACK, 0

    def _begin(self, program):
        self.program = program
        self.run_key = program.run_key
        self.mode = program.mode
        self.next_seq = program.resume_seq
        self.ring.reset(program.run_key, program.resume_seq)
        if self.sampler.restart():
            self.event(schema.EV_I2C_ERROR, self.sampler.sht_address)
        self.clock.start(self.board.ticks_us())
        self.clock.t_s = program.resume_t_ms // 1000
        self.clock.t_us = program.resume_t_ms % 1000 * 1000
        self.luminance.reset(program.stop_fraction_pm, program.dark_pd_pa,
                             program.l0_settle_ms, program.l0_pd_pa)
        self.dark.reset(program.dark_every_s, program.dark_ms, program.dark_pd_pa)
        self.stop_reason = schema.STOP_NONE
        self.fault_code = schema.FAULT_NONE
        self.compliance_tripped = False
        self._sampling = False
        self._run_active = True
        self.set_state(schema.STATE_RUNNING)
        self.arm_alert()  # (the run's compliance: compliance_limit_na reads the state)
        self.event(schema.EV_RUN_STARTED, program.mode)
        self._mode = self._modes[program.mode]
        self._mode.begin(self)

    def stop_run(self, run_key):
        """Host abort of the running run (0 = whatever runs); otherwise clear to IDLE.  The
        channel was checked by the command (Commands.channel_refusal)."""
        if self.state == schema.STATE_RUNNING:
            if run_key and run_key != self.run_key:
                return schema.NACK_BAD_RUN_KEY, self.run_key
            self.stop(schema.STOP_HOST_ABORT)
            return ACK, 0
        self.make_safe()
        if self.state == schema.STATE_FAULT:
            self.fault_code = schema.FAULT_NONE  # acknowledged; STATUS.stop_reason still says why
            self.repeated_faults = 0
        self.set_state(schema.STATE_IDLE)
        return ACK, 0

    def _manual_refusal(self):
        if self.state == schema.STATE_RUNNING:
            return schema.NACK_BUSY, self.run_key
        if self.state == schema.STATE_FAULT or self.outputs.enable_cut():
            return schema.NACK_FAULTED, self.fault_code or schema.FAULT_I2C
        return None

    def set_output(self, setpoint_mv, enable):
        """Manual supply control outside runs (limited by the board's maximum current)."""
        refusal = self._manual_refusal()
        if refusal is not None:
            return refusal
        if setpoint_mv > self.limits.max_setpoint_mv:
            return schema.NACK_OUT_OF_RANGE, 2  # (SET_OUTPUT's field index)
        if enable > 1:
            return schema.NACK_OUT_OF_RANGE, 3
        if not enable:
            self.outputs.disable_output()
            return ACK, 0
        if not self.interlock_ok():
            return schema.NACK_INTERLOCK_OPEN, 0
        self.compliance_tripped = False
        if not self.outputs.output_on:
            self.arm_alert()
        self.drive(setpoint_mv)
        return ACK, 0

    def set_shutter(self, open_, laser):
        """Manual shutter and laser outside runs."""
        refusal = self._manual_refusal()
        if refusal is not None:
            return refusal
        if open_ > 1:
            return schema.NACK_OUT_OF_RANGE, 1
        if laser > 1 or (laser and not self.limits.has_laser):
            return schema.NACK_OUT_OF_RANGE, 2
        if (open_ or laser) and not self.interlock_ok():
            return schema.NACK_INTERLOCK_OPEN, 0
        self.outputs.set_laser(bool(laser))
        if open_:
            self.open_shutter()
        elif self.outputs.shutter_open:
            self.close_shutter()
        return ACK, 0

    def drive(self, setpoint_mv):
        """The output on at setpoint_mv (the relay closes if it is open).  Down (or the same)
        is at once; up climbs (lumenfw/climb.py): a step now, sized from the current now, and
        the next ones from the passes the climb asks for."""
        outputs = self.outputs
        climb = outputs.climb
        climb.target_mv = setpoint_mv
        if outputs.output_on and setpoint_mv <= outputs.setpoint_mv:
            climb.active = False
            if setpoint_mv != outputs.setpoint_mv:
                outputs.set_setpoint(setpoint_mv)
            return
        if not climb.active:  # (while a step is held, the next one heads for the new target)
            self._climb(self.board.ticks_us())

    def _climb(self, now_us):
        """One step of the climb: read the current, trip at the limit, else apply the next
        step and hold it, or end the climb at the target."""
        outputs = self.outputs
        climb = outputs.climb
        current_na = self.sampler.read_current() if outputs.output_on else 0
        limit_na = self.compliance_limit_na()
        if current_na >= limit_na:
            self.trip_compliance(current_na)
            return
        setpoint_mv = climb.next_mv(outputs.setpoint_mv, current_na, limit_na)
        if not outputs.output_on:
            outputs.enable_output(setpoint_mv, climb.target_mv)
        elif setpoint_mv != outputs.setpoint_mv:
            outputs.set_setpoint(setpoint_mv)
        if setpoint_mv < climb.target_mv:
            climb.hold(now_us, self.board.ticks_add)
        elif climb.active:  # a climb of several steps has arrived: the samples start again
            climb.active = False
            if self._sampling and self.state == schema.STATE_RUNNING:
                self.clock.advance(now_us)
                self._sample_due.set_now(self.clock)
                self._sample_due.add_ms(self._first_after_ms)

    def trip_compliance(self, current_na):
        """The DUT current reached the compliance: outputs safe, then report and stop."""
        self.make_safe()
        self.compliance_tripped = True
        self.event(schema.EV_COMPLIANCE, current_na)
        self.stop(schema.STOP_COMPLIANCE)

    def open_shutter(self):
        self.outputs.drive_shutter(True)
        self.shutter.expect(True, self.board.ticks_us())

    def close_shutter(self):
        self.outputs.drive_shutter(False)
        self.shutter.expect(False, self.board.ticks_us())

    # ---- the loop pass -------------------------------------------------------------------

    def service_ambient(self):
        """The SHT31's read-back and next start (Sampler.service_ambient), reporting a run
        of failures once.  In a run only the sample's pass calls it, after the sample: the
        readings then sit on the run's grid, never on a pass the host's bytes woke (whose
        time is the wall's), so the same seed gives the same ambient columns."""
        ambient = self.ambient
        if ambient.service_ambient():
            self.event(schema.EV_I2C_ERROR, ambient.sht_address)

    def tick(self, now_us, now_ms):
        """Advance the clocks; called first in every loop pass."""
        self.now_ms = now_ms
        self.uptime.advance(now_us)
        if self.state == schema.STATE_RUNNING:
            self.clock.advance(now_us)

    def start_sampling(self, first_after_ms, period_ms):
        """Samples from now + first_after_ms, then every period_ms (a new grid each call).
        While the setpoint climbs the grid waits, and starts afresh (first_after_ms on) when
        the target is reached: no sample reads a step the output is still on its way to."""
        self._sampling = True
        self._period_ms = period_ms
        self._first_after_ms = first_after_ms
        self._sample_due.set_now(self.clock)
        self._sample_due.add_ms(first_after_ms)

    def stop_sampling(self):
        """No samples until the next start_sampling (a shutter on its way)."""
        self._sampling = False

    def due_in_us(self, limit_us):
        """Device us until the device has work of its own (at most limit_us, 0 when due): the
        next sample, a mode's step, the run's end, a moving shutter's switch, the climb's
        next step.  The interlock and the compliance need no pass of their own: their pins
        end the board's wait (Board.idle_us).  In a run the samples and steps are on a grid
        of the run clock, so the passes a run makes, and when, never depend on the passes
        the link made in between."""
        now_us = self.board.ticks_us()
        wait_us = self.shutter.due_in_us(now_us, SHUTTER_POLL_US, limit_us)
        wait_us = self.outputs.climb.due_in_us(now_us, wait_us)
        if self.state != schema.STATE_RUNNING:
            return wait_us
        clock = self.clock
        clock.advance(now_us)
        max_s = self.program.max_duration_s
        if max_s:
            end_s = max_s - clock.t_s
            if end_s <= 0:
                return 0
            if end_s <= wait_us // 1000000:
                wait_us = end_s * 1000000 - clock.t_us
        if self._sampling and not self.outputs.climb.active:
            wait_us = self._sample_due.us_after(clock, wait_us)
        return self._mode.due_in_us(self, wait_us)

    def run_pass(self, now_us):
        """The run's work for one loop pass: the climb, duration limit, mode, shutter, sample
        if due."""
        if self.outputs.climb.is_due(now_us):
            self._climb(now_us)
        status = self.shutter.poll(now_us)
        if self.state != schema.STATE_RUNNING:
            return
        program = self.program
        if program.max_duration_s and self.clock.t_s >= program.max_duration_s:
            self.stop(schema.STOP_COMPLETED if self.mode == schema.MODE_PHOTOSTABILITY
                      else schema.STOP_MAX_DURATION)
            return
        mode = self._mode
        if status != SHUTTER_IDLE:
            mode.on_shutter(self, status)
            if self.state != schema.STATE_RUNNING:
                return
        mode.on_pass(self)
        if (self._sampling and self.state == schema.STATE_RUNNING
                and not self.outputs.climb.active and self._sample_due.reached(self.clock)):
            due = self._sample_due
            period_ms = self._period_ms
            while due.reached(self.clock):
                due.add_ms(period_ms)
            self.take_sample()

    def take_sample(self):
        """Read, number, store, queue, then let the mode and the stop conditions look.

        The hot path: integers and preallocated buffers only, nothing allocated.
        """
        sampler = self.sampler
        program = self.program
        clock = self.clock
        clock.advance(self.board.ticks_us())  # stamp the reading, not the start of the pass
        sampler.read_electrical()
        sampler.read_light(program.oversample)
        flags = (self.device_flags() | self._mode.sample_flags(self)
                 | self.luminance.sample_flag(clock))
        over = sampler.current_na >= self.compliance_limit_na()
        if over:
            flags |= schema.FLAG_COMPLIANCE
        seq = self.next_seq
        setpoint_mv = self.outputs.setpoint_mv
        # Both pack schema.SAMPLE_FORMAT, so the fields go in schema.SAMPLE_NAMES order.
        ambient = self.ambient
        self.ring.put(seq, clock.t_s, clock.t_us, setpoint_mv, sampler.voltage_mv,
                      sampler.current_na, sampler.pd_pa, ambient.temperature_cc,
                      ambient.humidity_cpct, sampler.pd_range, flags)
        self.outbox.add_sample(self.now_ms, clock, self.run_key, self.channel, seq, clock.t_s,
                               clock.t_us, setpoint_mv, sampler.voltage_mv, sampler.current_na,
                               sampler.pd_pa, ambient.temperature_cc, ambient.humidity_cpct,
                               sampler.pd_range, flags)
        self.next_seq = seq + 1
        self.service_ambient()
        if over and self.outputs.output_on:  # (the ALERT wire's backup: the sample saw it)
            self.trip_compliance(sampler.current_na)
            return
        self._mode.after_sample(self)
