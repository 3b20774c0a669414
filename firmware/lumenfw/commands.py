"""Host commands: each decoded command becomes one reply (ACK, NACK, STATUS or
SELF_TEST_RESULT)."""

from lumenfw.controller import ACK
from lumenfw.runprogram import RunProgram
from protocol import messages, schema


def ack(cmd_id, of_msg):
    return schema.ACK, messages.pack(schema.ACK, (cmd_id, of_msg))


def nack(cmd_id, of_msg, code, detail):
    return schema.NACK, messages.pack(schema.NACK, (cmd_id, of_msg, code, detail))


# Where each channel-addressed command carries its channel (its head's field index).
_CHANNEL_FIELD = {schema.START_RUN: 2, schema.STOP_RUN: 2, schema.SET_OUTPUT: 1,
                  schema.GET_STATUS: 1, schema.RESEND: 2, schema.SELF_TEST: 1}


class Commands:
    """Executes commands on the controller; the link owns sessions and the reply cache."""

    def __init__(self, ctrls, selftest=None, rig_ctrl=None):
        """ctrls: the channels' controllers, channel n at index n; rig_ctrl: the one the
        laser and shutter belong to (default channel 0); selftest: a lumenfw.selftest.SelfTest
        (None: SELF_TEST is an unknown message)."""
        self._ctrls = ctrls
        self._rig_ctrl = rig_ctrl if rig_ctrl is not None else ctrls[0]
        self._selftest = selftest

    def execute(self, msg_id, head):
        """(reply msg_id, reply body) for a command's unpacked head (cmd_id first): a
        channel's command goes to that channel's controller, SHUTTER to the laser's."""
        cmd_id = head[0]
        field = _CHANNEL_FIELD.get(msg_id)
        ctrl = self._rig_ctrl
        if field is not None:
            channel = head[field]
            if channel >= len(self._ctrls):
                return nack(cmd_id, msg_id, schema.NACK_OUT_OF_RANGE, field)  # no such channel
            ctrl = self._ctrls[channel]
        if msg_id == schema.START_RUN:
            code, detail = ctrl.start_run(RunProgram(head))
        elif msg_id == schema.STOP_RUN:
            code, detail = ctrl.stop_run(head[1])
        elif msg_id == schema.SET_OUTPUT:
            code, detail = ctrl.set_output(head[2], head[3])
        elif msg_id == schema.SHUTTER:
            code, detail = ctrl.set_shutter(head[1], head[2])
        elif msg_id == schema.GET_STATUS:
            return schema.STATUS, self.status_body(cmd_id, ctrl)
        elif msg_id == schema.RESEND:
            code, detail = self._resend(ctrl, head[1], head[2], head[3], head[4])
        elif msg_id == schema.RESEND_EVENTS:
            ctrl.events.resend_from(head[1])
            code, detail = ACK, 0
        elif msg_id == schema.SELF_TEST and self._selftest is not None:
            running = self._running()
            if running is not None:
                code, detail = schema.NACK_BUSY, running.run_key
            elif head[2] > schema.SELFTEST_FULL:
                code, detail = schema.NACK_OUT_OF_RANGE, 2
            else:  # idle, safe-stopped or faulted: a faulted board is what it is for
                return schema.SELF_TEST_RESULT, self._selftest.run(cmd_id, head[1], head[2])
        else:
            code, detail = schema.NACK_UNKNOWN_MESSAGE, msg_id
        if code == ACK:
            return ack(cmd_id, msg_id)
        return nack(cmd_id, msg_id, code, detail)

    def _running(self):
        """A controller whose run is going, or None."""
        for ctrl in self._ctrls:
            if ctrl.state == schema.STATE_RUNNING:
                return ctrl
        return None

    def _resend(self, ctrl, run_key, channel, from_seq, to_seq):
        """Send what the channel's ring holds of from_seq..to_seq; NACK_NOT_IN_RING if part
        is gone."""
        ring = ctrl.ring
        if run_key != ring.run_key:
            return schema.NACK_BAD_RUN_KEY, ring.run_key
        if to_seq < from_seq:
            return schema.NACK_OUT_OF_RANGE, 4
        oldest = ring.oldest_seq()
        first = max(oldest, from_seq)
        last = min(ring.next_seq - 1, to_seq)
        if first <= last:
            ctrl.outbox.send_records(run_key, channel, ring, first, last)
        if from_seq < oldest:
            return schema.NACK_NOT_IN_RING, oldest
        return ACK, 0

    def status_body(self, cmd_id, ctrl=None):
        """STATUS of one channel (default: the rig's)."""
        if ctrl is None:
            ctrl = self._rig_ctrl
        sampler = ctrl.sampler
        ambient = ctrl.ambient
        return messages.pack(schema.STATUS, (
            cmd_id, ctrl.channel, ctrl.state, ctrl.mode, ctrl.run_key, ctrl.next_seq, ctrl.ring.oldest_seq(),
            ctrl.outputs.setpoint_mv, sampler.voltage_mv, sampler.current_na, sampler.pd_pa,
            ctrl.luminance.l0_pd_pa, ambient.temperature_cc, ambient.humidity_cpct,
            ctrl.device_flags(), ctrl.stop_reason, ctrl.fault_code, ctrl.uptime.t_s))
