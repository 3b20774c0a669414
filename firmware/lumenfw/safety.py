"""Safety checks run on every loop pass: interlock, compliance (each channel's ALERT), host loss."""

from protocol import schema


class Safety:
    """Watches the interlock loop, each channel's DUT current and the host; acts through the
    controllers.  The interlock is the rig's: it stops every channel.  A compliance trip is
    its channel's alone.  A host-loss stop is each run's, after its own grace.

    Each check makes the outputs safe before it reports anything.
    """

    def __init__(self, ctrls, link, rig_ctrl=None):
        """ctrls: the channels' controllers; rig_ctrl: the one that reports rig events
        (default channel 0)."""
        self._ctrls = ctrls
        self._rig = rig_ctrl if rig_ctrl is not None else ctrls[0]
        self._link = link
        closed = self._rig.interlock_ok()
        for ctrl in ctrls:
            ctrl.interlock_closed = closed

    def check_outputs(self):
        """Interlock, and the ALERT of each channel whose output is on (pins, and a card's
        expander only once the board's alert line says one changed)."""
        self._check_interlock()
        for ctrl in self._ctrls:
            if ctrl.outputs.output_on:
                break
        else:
            return  # no output on: no ALERT to look at
        if self._rig.board.ina_alert.value():
            return  # no ALERT asserted anywhere
        for ctrl in self._ctrls:
            if ctrl.outputs.output_on and not ctrl.alert.value():
                ctrl.make_safe()
                ctrl.trip_compliance(ctrl.sampler.read_current())

    def check_host(self, now_ms):
        """A running run whose host has been silent for its grace is stopped."""
        link = self._link
        for ctrl in self._ctrls:
            if ctrl.state == schema.STATE_RUNNING:
                grace_ms = ctrl.program.host_loss_grace_ms
                if grace_ms and link.silent_ms(now_ms) >= grace_ms:
                    ctrl.make_safe()
                    link.declare_host_lost(now_ms)
                    ctrl.stop(schema.STOP_HOST_LOST)

    def _check_interlock(self):
        rig = self._rig
        ctrls = self._ctrls
        closed = rig.interlock_ok()
        if closed:
            if not rig.interlock_closed:
                for ctrl in ctrls:
                    ctrl.interlock_closed = True
                rig.event(schema.EV_INTERLOCK_CLOSED, 0)
            return
        if not rig.interlock_closed:
            for ctrl in ctrls:
                if ctrl.outputs.any_on():  # nothing may be switched on while the loop is open
                    ctrl.make_safe()
            return
        rig.board.relay.value(0)  # (a pin: with cards every card's enable, at once)
        for ctrl in ctrls:
            ctrl.interlock_was_on = ctrl.outputs.any_on()
            ctrl.make_safe()
            ctrl.interlock_closed = False
        rig.event(schema.EV_INTERLOCK_OPEN, 0)
        for ctrl in ctrls:
            if ctrl.state == schema.STATE_RUNNING or ctrl.interlock_was_on:
                ctrl.stop(schema.STOP_INTERLOCK)
