"""What each run mode does to the outputs between and after samples.

A mode object is reused from run to run (no allocation at run start beyond the program).
The controller calls begin() once, on_pass() every loop pass, sample_flags() just
before a sample is packed and after_sample() just after; a mode ends a run only through
ctrl.stop(reason).
"""

from lumenfw.darkpause import DARK_SETTLE_MS
from lumenfw.luminance import CAPTURED, CROSSED
from lumenfw.runclock import Mark
from lumenfw.shutter import ARRIVED, FAULT
from protocol import schema

# Constant current: integer feedback on the supply setpoint.  Near the target the step is
# CC_GAIN_MV per 100 % current error: about the LED's n*kT/q-scaled slope in its exponential
# regime (loop gain ~1 there, smaller and still stable in the space-charge-limited regime).
CC_CONTROL_MS = 25  # one correction per this much experiment time (INA226: 8.8 ms/result)
CC_MAX_STEP_MV = 100  # largest correction, and the step while far below or above target
CC_GAIN_MV = 500
CC_DEADBAND_DIV = 100  # errors below 1 % of the target are left alone...
# ...but once the loop acts it goes on until the error is below 0.25 %: stopping at the edge
# of the deadband would hold the current about 1 % off on the side it came from (the pixel's
# current only falls as it ages), and the stress with it.  0.25 % is within one INA226 LSB of
# the reference current (125 nA of 36 uA), so the loop stops at the reading nearest target;
# at smaller currents half a reading step is the floor (cc_step_mv).
CC_SETTLE_DIV = 400
_CC_SAFE_PRODUCT = (1 << 30) // CC_GAIN_MV  # keep error * gain a small int on the RP2040


def cc_step_mv(target_na, current_na, deadband_div=CC_DEADBAND_DIV, reading_step_na=0):
    """Setpoint correction (mV) for one constant-current control step, 0 within
    1/deadband_div of the target or within half a reading step (the nearest reading there is:
    asking for more would hunt between two codes forever); integers only."""
    error_na = target_na - current_na
    if current_na * 2 < target_na:
        return CC_MAX_STEP_MV
    if current_na > target_na * 2:
        return -CC_MAX_STEP_MV
    magnitude_na = error_na if error_na >= 0 else -error_na
    if magnitude_na * deadband_div < target_na or magnitude_na * 2 <= reading_step_na:
        return 0
    if magnitude_na < _CC_SAFE_PRODUCT:
        step_mv = magnitude_na * CC_GAIN_MV // target_na
    else:
        step_mv = magnitude_na // (target_na // CC_GAIN_MV)
    if step_mv > CC_MAX_STEP_MV:
        step_mv = CC_MAX_STEP_MV
    elif step_mv == 0:
        step_mv = 1
    return step_mv if error_na > 0 else -step_mv


# Luminance target: a coarse ramp of step_mv every dwell_ms until the photodiode reaches the
# target, then bisection between the last step below and the first at or above it.  Each step
# ends with a sample (FLAG_RAMP), so every reading the ramp acts on is stored.
TARGET_TOLERANCE_DIV = 100  # within 1 % of the target (dark included) is close enough
FINE_MIN_STEP_MV = 5  # one MCP4725 step on the 20 V scale (4.9 mV): no finer setpoint exists


class Mode:
    """Default behaviour: nothing between samples, no extra flags, no stop of its own."""

    def begin(self, ctrl):
        pass

    def on_pass(self, ctrl):
        pass

    def on_shutter(self, ctrl, status):
        pass

    def sample_flags(self, ctrl):
        return 0

    def due_in_us(self, ctrl, limit_us):
        """Device us until on_pass() has work (at most limit_us)."""
        return limit_us

    def after_sample(self, ctrl):
        watch = ctrl.luminance.on_sample(ctrl.clock, ctrl.sampler.pd_pa)
        if watch == CAPTURED:
            ctrl.event(schema.EV_L0_CAPTURED, ctrl.luminance.l0_pd_pa)
        elif watch == CROSSED:
            ctrl.stop(schema.STOP_LUMINANCE_FRACTION)


def start_hold(ctrl):
    """The stress begins: the first sample l0_settle_ms from now (L0's, unless a resumed run
    carries its L0), then every period.  A resumed run waits the settle too: its output has
    just come on again, and a sample at once would read the supply and the photodiode before
    they follow (0 V, no current, dark)."""
    ctrl.luminance.start_hold(ctrl.clock)
    ctrl.start_sampling(ctrl.luminance.settle_ms, ctrl.program.sample_period_ms)


def go_dark(ctrl):
    """A dark pause begins (the mode has just switched the drive off): dark samples from
    DARK_SETTLE_MS on, until the pause is due to end."""
    ctrl.dark.go_dark(ctrl.clock)
    ctrl.event(schema.EV_DARK_BEGIN, ctrl.program.dark_ms)
    ctrl.start_sampling(DARK_SETTLE_MS, ctrl.program.sample_period_ms)


def end_dark(ctrl):
    """The pause is over (the mode switches the drive on again): its mean reading is the dark
    offset from now on."""
    dark = ctrl.dark
    dark.go_lit(ctrl.clock)
    ctrl.luminance.set_dark(dark.dark_pd_pa)
    ctrl.event(schema.EV_DARK_END, dark.dark_pd_pa)


class ConstantVoltage(Mode):
    """Hold setpoint_mv; or find the voltage that gives target_pd_pa (coarse ramp by step_mv
    every dwell_ms, then bisection; setpoint_mv is the ceiling) and hold that one."""

    def __init__(self):
        self.ramping = False
        self._driven = False  # the drive came on in this run (after its first dark pause)
        self.bracketed = False
        self.setpoint_mv = 0
        self._below_mv = 0  # highest setpoint read below the target, and its reading
        self._below_pa = 0
        self._above_mv = 0  # lowest setpoint read at or above it, and its reading
        self._above_pa = 0

    def begin(self, ctrl):
        """The drive comes on, after a first dark pause when the run tracks dark."""
        self.ramping = ctrl.program.ramps_to_target()
        self._driven = False
        if ctrl.dark.tracking():
            go_dark(ctrl)  # the output is off: start_run made the outputs safe
        else:
            self._drive(ctrl)

    def _drive(self, ctrl):
        program = ctrl.program
        self._driven = True
        if self.ramping:
            self.bracketed = False
            self._below_mv = 0
            self._below_pa = 0
            self.setpoint_mv = program.step_mv
            ctrl.drive(self.setpoint_mv)
            ctrl.start_sampling(program.dwell_ms, program.dwell_ms)
        else:
            self.setpoint_mv = program.setpoint_mv
            ctrl.drive(self.setpoint_mv)
            start_hold(ctrl)

    def due_in_us(self, ctrl, limit_us):
        dark = ctrl.dark
        if self.ramping and not dark.is_dark():
            return limit_us  # no pause while the ramp looks for the target
        return dark.due_in_us(ctrl.clock, limit_us)

    def on_pass(self, ctrl):
        """Dark pauses of the hold: the output off for dark_ms, then the held setpoint again
        (the hold's settle before the next sample, like the first time)."""
        dark = ctrl.dark
        if not dark.due(ctrl.clock):
            return
        if dark.is_dark():
            end_dark(ctrl)
            if not self._driven:  # the run's first pause: the ramp or the hold begins
                self._drive(ctrl)
            else:
                ctrl.drive(self.setpoint_mv)
                start_hold(ctrl)
        elif not self.ramping:
            ctrl.outputs.disable_output()
            go_dark(ctrl)

    def sample_flags(self, ctrl):
        if ctrl.dark.is_dark():
            return schema.FLAG_DARK
        return schema.FLAG_RAMP if self.ramping else 0

    def after_sample(self, ctrl):
        if ctrl.dark.is_dark():
            ctrl.dark.add(ctrl.sampler.pd_pa)
            return
        if self.ramping:
            self._ramp_step(ctrl)
            return
        Mode.after_sample(self, ctrl)

    def _ramp_step(self, ctrl):
        """Next setpoint from the sample just taken at the end of a step's dwell."""
        program = ctrl.program
        # The target counts the host's dark offset; a dark pause may have measured another.
        target_pa = program.target_pd_pa + ctrl.dark.dark_pd_pa - program.dark_pd_pa
        pd_pa = ctrl.sampler.pd_pa
        setpoint_mv = self.setpoint_mv
        if pd_pa < target_pa:
            self._below_mv = setpoint_mv
            self._below_pa = pd_pa
            if not self.bracketed:
                if setpoint_mv >= program.setpoint_mv:
                    ctrl.stop(schema.STOP_TARGET_UNREACHED)
                    return
                self._set(ctrl, min(setpoint_mv + program.step_mv, program.setpoint_mv))
                return
        else:
            self._above_mv = setpoint_mv
            self._above_pa = pd_pa
            self.bracketed = True
        miss_pa = pd_pa - target_pa if pd_pa >= target_pa else target_pa - pd_pa
        if miss_pa <= target_pa // TARGET_TOLERANCE_DIV:
            self._hold(ctrl)
        elif self._above_mv - self._below_mv <= FINE_MIN_STEP_MV:
            # No setpoint lies between: hold the one whose reading was nearer the target.
            if target_pa - self._below_pa < self._above_pa - target_pa:
                self._set(ctrl, self._below_mv)
            else:
                self._set(ctrl, self._above_mv)
            self._hold(ctrl)
        else:
            self._set(ctrl, (self._below_mv + self._above_mv) // 2)

    def _set(self, ctrl, setpoint_mv):
        if setpoint_mv != self.setpoint_mv:
            self.setpoint_mv = setpoint_mv
            ctrl.drive(setpoint_mv)

    def _hold(self, ctrl):
        self.ramping = False
        ctrl.event(schema.EV_TARGET_REACHED, self.setpoint_mv)
        if ctrl.dark.tracking():
            ctrl.dark.next_pause_from(ctrl.clock)  # pauses count from the hold, not the ramp
        start_hold(ctrl)


class ConstantCurrent(Mode):
    """Move the supply setpoint until the DUT current tracks target_current_na, never
    above setpoint_mv.  The setpoint integrates the error, so the loop has no offset; it acts
    on an error beyond CC_DEADBAND_DIV and then settles to within CC_SETTLE_DIV.  The hold
    (and the L0 settle) begins once the current first settles."""

    def __init__(self):
        self._control_due = Mark()
        self.setpoint_mv = 0
        self.approaching = False
        self._settling = False
        self._reading_step_na = 0

    def begin(self, ctrl):
        self.setpoint_mv = 0
        self.approaching = True
        self._settling = True
        self._reading_step_na = ctrl.board.config.INA226_CURRENT_LSB_NA
        ctrl.drive(0)
        self._control_due.set_now(ctrl.clock)
        ctrl.start_sampling(0, ctrl.program.sample_period_ms)

    def sample_flags(self, ctrl):
        return schema.FLAG_RAMP if self.approaching else 0

    def due_in_us(self, ctrl, limit_us):
        return self._control_due.us_after(ctrl.clock, limit_us)

    def on_pass(self, ctrl):
        if not self._control_due.reached(ctrl.clock):
            return
        self._control_due.set_now(ctrl.clock)
        self._control_due.add_ms(CC_CONTROL_MS)
        step_mv = cc_step_mv(ctrl.program.target_current_na, ctrl.sampler.read_current(),
                             CC_SETTLE_DIV if self._settling else CC_DEADBAND_DIV,
                             self._reading_step_na)
        self._settling = step_mv != 0
        if step_mv == 0:
            if self.approaching:
                self.approaching = False
                ctrl.event(schema.EV_TARGET_REACHED, self.setpoint_mv)
                start_hold(ctrl)
            return
        setpoint_mv = self.setpoint_mv + step_mv
        ceiling_mv = ctrl.program.setpoint_mv
        if setpoint_mv > ceiling_mv:
            setpoint_mv = ceiling_mv
        elif setpoint_mv < 0:
            setpoint_mv = 0
        if setpoint_mv != self.setpoint_mv:
            self.setpoint_mv = setpoint_mv
            ctrl.drive(setpoint_mv)


class Sweep(Mode):
    """setpoint_mv to stop_mv by step_mv (stop_mv is always the last step); each step
    holds for dwell_ms with a sample every sample_period_ms, the last one FLAG_STEP_END."""

    def __init__(self):
        self.step_index = 0
        self.steps = 0
        self.per_step = 1
        self.in_step = 0
        self.setpoint_mv = 0

    def _step_mv(self, ctrl, index):
        program = ctrl.program
        start_mv = program.setpoint_mv
        stop_mv = program.stop_mv
        if stop_mv >= start_mv:
            setpoint_mv = start_mv + index * program.step_mv
            return min(setpoint_mv, stop_mv)
        setpoint_mv = start_mv - index * program.step_mv
        return max(setpoint_mv, stop_mv)

    def begin(self, ctrl):
        program = ctrl.program
        span_mv = abs(program.stop_mv - program.setpoint_mv)
        self.steps = (span_mv + program.step_mv - 1) // program.step_mv + 1
        self.per_step = program.dwell_ms // program.sample_period_ms
        # A resumed sweep picks up at the step its next sample belongs to.
        self.step_index = program.resume_seq // self.per_step
        self.in_step = program.resume_seq % self.per_step
        if self.step_index >= self.steps:
            ctrl.stop(schema.STOP_COMPLETED)
            return
        self.setpoint_mv = self._step_mv(ctrl, self.step_index)
        ctrl.drive(self.setpoint_mv)
        ctrl.start_sampling(program.sample_period_ms, program.sample_period_ms)

    def sample_flags(self, ctrl):
        return schema.FLAG_STEP_END if self.in_step + 1 >= self.per_step else 0

    def after_sample(self, ctrl):
        self.in_step += 1
        if self.in_step < self.per_step:
            return
        self.in_step = 0
        self.step_index += 1
        if self.step_index >= self.steps:
            ctrl.stop(schema.STOP_COMPLETED)
            return
        self.setpoint_mv = self._step_mv(ctrl, self.step_index)
        ctrl.drive(self.setpoint_mv)


class Photostability(Mode):
    """Laser on and shutter open (confirmed by the switch), sample throughout, flag the
    sample at each multiple of pl_interval_s; the controller ends it at max_duration_s.
    With dark tracking the run starts with the shutter closed for a dark pause, and closes it
    for one after every dark_every_s of exposure; the PL schedule moves by each pause, so the
    points stay pl_interval_s of exposure apart."""

    def __init__(self):
        self._pl_due = Mark()
        self.opening = False
        self._exposed = False  # the shutter has opened once in this run

    def begin(self, ctrl):
        program = ctrl.program
        self._exposed = False
        if program.laser:
            ctrl.outputs.set_laser(True)
        if ctrl.dark.tracking():
            go_dark(ctrl)  # the shutter is closed: start_run made the outputs safe
        else:
            self._open(ctrl)

    def _open(self, ctrl):
        ctrl.stop_sampling()  # nothing is sampled while the shutter travels
        ctrl.open_shutter()
        self.opening = True

    def due_in_us(self, ctrl, limit_us):
        if self.opening:
            return limit_us  # the shutter's switch wakes the board
        return ctrl.dark.due_in_us(ctrl.clock, limit_us)

    def on_pass(self, ctrl):
        dark = ctrl.dark
        if self.opening or not dark.due(ctrl.clock):
            return
        if dark.is_dark():
            self._open(ctrl)
        else:
            ctrl.close_shutter()
            go_dark(ctrl)

    def on_shutter(self, ctrl, status):
        if status == FAULT:
            ctrl.stop(schema.STOP_SHUTTER_FAULT)
            return
        if not self.opening or status != ARRIVED:
            return
        self.opening = False
        clock = ctrl.clock
        if ctrl.dark.is_dark():
            shift_ms = ctrl.dark.dark_ms_so_far(clock)
            end_dark(ctrl)
            if self._exposed:
                self._pl_due.add_ms(shift_ms)  # the points stay on the exposure's grid
                ctrl.start_sampling(0, ctrl.program.sample_period_ms)
                return
        self._exposed = True
        interval_s = ctrl.program.pl_interval_s
        # The first PL point is the first sample at or after a multiple of the interval
        # (t = 0 on a fresh run; the next multiple on a resumed one); after a first dark
        # pause, the exposure's start.
        if ctrl.program.resume_seq:
            t_s = clock.t_s + (1 if clock.t_us else 0)
            self._pl_due.set((t_s + interval_s - 1) // interval_s * interval_s, 0)
        elif ctrl.dark.tracking():
            self._pl_due.set_now(clock)
        else:
            self._pl_due.set(0, 0)
        ctrl.luminance.start_hold(clock)
        ctrl.start_sampling(0, ctrl.program.sample_period_ms)

    def sample_flags(self, ctrl):
        if ctrl.dark.is_dark():
            return schema.FLAG_DARK
        if not self._pl_due.reached(ctrl.clock):
            return 0
        interval_s = ctrl.program.pl_interval_s
        while self._pl_due.reached(ctrl.clock):
            self._pl_due.add_s(interval_s)
        return schema.FLAG_PL_POINT

    def after_sample(self, ctrl):
        if ctrl.dark.is_dark():
            ctrl.dark.add(ctrl.sampler.pd_pa)
            return
        Mode.after_sample(self, ctrl)
