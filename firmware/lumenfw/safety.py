"""Safety checks run on every loop pass: interlock, compliance (the INA226's ALERT), host loss."""

from protocol import schema


class Safety:
    """Watches the interlock loop, the DUT current and the host; acts through the controller.

    Each check makes the outputs safe before it reports anything.
    """

    def __init__(self, ctrl, link):
        self._ctrl = ctrl
        self._link = link
        ctrl.interlock_closed = ctrl.interlock_ok()

    def check_outputs(self):
        """Interlock, and the INA226's ALERT while the output is on (pins: no I2C unless one
        tripped)."""
        ctrl = self._ctrl
        self._check_interlock(ctrl)
        if ctrl.outputs.output_on:
            self._check_compliance(ctrl)

    def check_host(self, now_ms):
        """A running run whose host has been silent for its grace is stopped."""
        ctrl = self._ctrl
        if ctrl.state == schema.STATE_RUNNING:
            grace_ms = ctrl.program.host_loss_grace_ms
            if grace_ms and self._link.silent_ms(now_ms) >= grace_ms:
                ctrl.make_safe()
                self._link.declare_host_lost(now_ms)
                ctrl.stop(schema.STOP_HOST_LOST)

    def _check_interlock(self, ctrl):
        closed = ctrl.interlock_ok()
        if closed:
            if not ctrl.interlock_closed:
                ctrl.interlock_closed = True
                ctrl.event(schema.EV_INTERLOCK_CLOSED, 0)
            return
        if not ctrl.interlock_closed:
            if ctrl.outputs.any_on():  # nothing may be switched on while the loop is open
                ctrl.make_safe()
            return
        was_on = ctrl.outputs.any_on()
        ctrl.make_safe()
        ctrl.interlock_closed = False
        ctrl.event(schema.EV_INTERLOCK_OPEN, 0)
        if ctrl.state == schema.STATE_RUNNING or was_on:
            ctrl.stop(schema.STOP_INTERLOCK)

    def _check_compliance(self, ctrl):
        """A latched ALERT says a result reached the compliance; the event carries the
        current read now."""
        if ctrl.board.ina_alert.value():
            return
        ctrl.make_safe()
        ctrl.trip_compliance(ctrl.sampler.read_current())
