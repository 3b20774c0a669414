"""The device end of the host link: frames in, session and replies, heartbeats out."""

import struct

from lumenfw.replycache import ReplyCache
from protocol import messages, schema
from protocol.decoder import StreamDecoder
from protocol.writer import BODY_OFFSET

HEARTBEAT_MS = 500  # link (wall) time between heartbeats, host or no host
HOST_PRESENCE_MS = 1500  # silence after which EV_HOST_LOST is reported (3 host heartbeats)
RX_CHUNK = 256

_HEARTBEAT_FORMAT = schema.struct_format(schema.BY_ID[schema.HEARTBEAT][2])
_HEARTBEAT_SIZE = struct.calcsize(_HEARTBEAT_FORMAT)
_CHANNEL_FORMAT = schema.struct_format(schema.CHANNEL_FIELDS)
_CHANNEL_SIZE = struct.calcsize(_CHANNEL_FORMAT)
_NO_SESSION = -1


class Link:
    """Reads what the host sent (non-blocking, only decodes when bytes arrived), answers
    HELLO and commands, and sends heartbeats and aged sample batches.

    A command runs once per cmd_id within a session: a repeat of the same command gets
    the cached reply.
    Commands before a HELLO with our SCHEMA_HASH get NACK_NO_SESSION.
    """

    def __init__(self, board, outbox, ctrls, commands, identity, rig_ctrl=None):
        """ctrls: the channels' controllers, channel n at index n; rig_ctrl: the one that
        reports the rig (its flags and events: the laser's channel; default channel 0)."""
        self._board = board
        self._outbox = outbox
        self._ctrls = ctrls
        self._ctrl = rig_ctrl if rig_ctrl is not None else ctrls[0]
        self._commands = commands
        self._identity = identity
        self._rx = bytearray(RX_CHUNK)
        self.decoder = StreamDecoder()
        self.cache = ReplyCache()
        self.session_id = _NO_SESSION
        self.last_host_ms = board.link_ms()
        self.host_present = False
        self._last_heartbeat_ms = self.last_host_ms - HEARTBEAT_MS
        self.commands_executed = 0
        self.ignored_frames = 0
        self.failures = 0  # link work that raised while the device was reporting a fault
        self.last_failure = None

    # ---- host activity -------------------------------------------------------------------

    def silent_ms(self, now_ms):
        """Link milliseconds since the last valid frame from the host."""
        return self._board.link_diff(now_ms, self.last_host_ms)

    def declare_host_lost(self, now_ms):
        """Report the host gone (once per absence)."""
        if self.host_present:
            self.host_present = False
            self._ctrl.event(schema.EV_HOST_LOST, self.silent_ms(now_ms))

    # ---- per pass ------------------------------------------------------------------------

    def poll(self, now_ms):
        """Read what has arrived and handle every complete frame; cheap when nothing came."""
        n = self._board.read_into(self._rx)
        if not n:
            return
        for msg_id, _seq, body in self.decoder.feed(self._rx[0:n]):
            self._handle(now_ms, msg_id, body)

    def service(self, now_ms):
        """Aged batch out, heartbeat when due, host presence.  No allocation."""
        board = self._board
        self._outbox.flush_if_old(now_ms)
        if board.link_diff(now_ms, self._last_heartbeat_ms) >= HEARTBEAT_MS:
            self.heartbeat(now_ms)
        if self.host_present and self.silent_ms(now_ms) >= HOST_PRESENCE_MS:
            self.declare_host_lost(now_ms)

    def due_in_ms(self, now_ms, limit_ms):
        """Link ms until service() has work: the next heartbeat, a batch aged in link time, a
        host presence or host-loss deadline (at most limit_ms; 0 when due now).  A batch's
        age in run time is the outbox's run_due_in_us, on the device clock."""
        board = self._board
        due_ms = HEARTBEAT_MS - board.link_diff(now_ms, self._last_heartbeat_ms)
        if due_ms > limit_ms:
            due_ms = limit_ms
        due_ms = self._outbox.due_in_ms(now_ms, due_ms)
        if self.host_present:
            silent_ms = self.silent_ms(now_ms)
            presence_ms = HOST_PRESENCE_MS - silent_ms
            if presence_ms < due_ms:
                due_ms = presence_ms
            for ctrl in self._ctrls:
                grace_ms = ctrl.program.host_loss_grace_ms
                if (ctrl.state == schema.STATE_RUNNING and grace_ms
                        and grace_ms - silent_ms < due_ms):
                    due_ms = grace_ms - silent_ms
        return due_ms if due_ms > 0 else 0

    def heartbeat(self, now_ms):
        """Send a HEARTBEAT now; the next is due HEARTBEAT_MS later.

        Only differences of link times are kept (never a sum that grows), so nothing leaves
        the small-int range of a wrapping ticks_ms however long the device runs.
        """
        self._last_heartbeat_ms = now_ms
        ctrl = self._ctrl
        raw = self._outbox.raw_for_control()
        struct.pack_into(_HEARTBEAT_FORMAT, raw, BODY_OFFSET, ctrl.rig_flags(),
                         ctrl.events.next_event_seq)
        offset = BODY_OFFSET + _HEARTBEAT_SIZE
        can = self._identity.channel_can
        for each in self._ctrls:
            struct.pack_into(_CHANNEL_FORMAT, raw, offset, each.channel, can[each.channel],
                             each.state, each.mode, each.channel_flags(), each.run_key,
                             each.next_seq)
            offset += _CHANNEL_SIZE
        self._outbox.send(schema.HEARTBEAT, offset - BODY_OFFSET)

    def log(self, level, text):
        """A LOG frame (debug text, rarely: it allocates)."""
        data = text.encode()
        if len(data) > 200:
            data = data[:200]
        self._outbox.send_body(schema.LOG, messages.pack(schema.LOG, (level,), data))

    # ---- frames from the host ------------------------------------------------------------

    def _handle(self, now_ms, msg_id, body):
        self.last_host_ms = now_ms
        if not self.host_present:
            self.host_present = True
            self._ctrl.event(schema.EV_HOST_BACK, 0)
        if msg_id == schema.HELLO:
            self._hello(body)
        elif msg_id in schema.COMMANDS:
            self._command(msg_id, body)
        elif msg_id != schema.HEARTBEAT:
            self.ignored_frames += 1  # a device-to-host message: nothing to answer

    def _hello(self, body):
        head, _ = messages.unpack(schema.HELLO, body)
        session_id, schema_hash = head[0], head[1]
        if schema_hash != schema.SCHEMA_HASH:
            self.session_id = _NO_SESSION
            self.cache.clear()
        elif session_id != self.session_id:
            self.session_id = session_id
            self.cache.clear()
        ctrl = self._ctrl
        ident = self._identity
        self._outbox.send_body(schema.HELLO_ACK, messages.pack(schema.HELLO_ACK, (
            session_id, schema.SCHEMA_HASH, ident.fw_version[0], ident.fw_version[1],
            ident.fw_version[2], ident.reset_cause, ident.board_id, ident.capabilities,
            ctrl.events.next_event_seq), [(
                each.channel, ident.channel_can[each.channel], each.state, each.mode,
                each.channel_flags(), each.run_key, each.next_seq) for each in self._ctrls]))

    def _command(self, msg_id, body):
        head, _ = messages.unpack(msg_id, body)
        cmd_id = head[0]
        if self.session_id == _NO_SESSION:
            reply = (schema.NACK, messages.pack(
                schema.NACK, (cmd_id, msg_id, schema.NACK_NO_SESSION, 0)))
        else:
            reply = self.cache.get(cmd_id, msg_id)
            if reply is None:
                reply = self._commands.execute(msg_id, head)
                self.commands_executed += 1
                self.cache.put(cmd_id, msg_id, reply[0], reply[1])
        self._outbox.send_body(reply[0], reply[1])
