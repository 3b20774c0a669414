"""Test helpers for the firmware: capture what the device writes and decode it into messages."""

import functools
import time

from protocol import messages, schema
from protocol.decoder import StreamDecoder

TICKS_PERIOD = 1 << 30  # the RP2040's ticks_us period (MicroPython's TICKS_PERIOD)


def ticks_diff(a, b):
    """MicroPython's time.ticks_diff for a 2**30 tick period."""
    half = TICKS_PERIOD // 2
    return ((a - b + half) & (TICKS_PERIOD - 1)) - half


class Wire:
    """A write(buf, n) target that keeps every byte, and decodes them on demand."""

    def __init__(self):
        self.data = bytearray()
        self._decoder = StreamDecoder()
        self.messages = []  # (msg_id, head, tail) in the order written
        self.bodies = []  # (msg_id, body) of the same frames, for the host's own decoding

    def write(self, buf, n):
        self.data += bytes(buf[:n])

    def drain(self):
        """Decode everything written since the last drain; returns the new messages."""
        new = []
        for msg_id, _seq, body in self._decoder.feed(bytes(self.data)):
            head, tail = messages.unpack(msg_id, body)
            new.append((msg_id, head, tail))
            self.bodies.append((msg_id, body))
        self.data = bytearray()
        self.messages += new
        return new


_EVENT_VALUE = messages.field_names(schema.EVENT).index("value")
_EVENT_STATE = messages.field_names(schema.EVENT).index("state")

START_RUN_DEFAULTS = {
    "cmd_id": 1, "run_key": 42, "channel": 0, "mode": 1, "setpoint_mv": 5000, "stop_mv": 0, "step_mv": 0,
    "target_pd_pa": 0, "dark_pd_pa": 0, "target_current_na": 0, "compliance_na": 2000000,
    "sample_period_ms": 100, "dwell_ms": 0, "oversample": 4, "stop_fraction_pm": 500,
    "l0_settle_ms": 100, "max_duration_s": 3600, "host_loss_grace_ms": 0, "pl_interval_s": 0,
    "laser": 0, "resume_seq": 0, "resume_t_ms": 0, "l0_pd_pa": 0, "dark_every_s": 0,
    "dark_ms": 0,
}


def start_run_head(**fields):
    """A START_RUN head tuple in schema order: a valid constant-voltage run unless changed."""
    values = dict(START_RUN_DEFAULTS, **fields)
    names = messages.field_names(schema.START_RUN)
    unknown = set(values) - set(names)
    if unknown:
        raise KeyError(f"not START_RUN fields: {sorted(unknown)}")
    return tuple(values[name] for name in names)


class BufferLink:
    """The host end of a SimBoard's link inside the test process: bytes in, bytes out."""

    def __init__(self):
        self.to_device = bytearray()
        self.wire = Wire()
        self.on_write = None  # called before each write (a test can look at the pins then)

    def read_into(self, buf):
        n = min(len(buf), len(self.to_device))
        buf[:n] = self.to_device[:n]
        del self.to_device[:n]
        return n

    def write(self, buf, n):
        if self.on_write is not None:
            self.on_write()
        self.wire.write(buf, n)

    def wait(self, timeout_ms):
        """True when the test has queued bytes for the device (else waits timeout_ms)."""
        if not self.to_device and timeout_ms:
            time.sleep(timeout_ms / 1000)
        return bool(self.to_device)


@functools.cache
def pd_amps_per_cd_m2(preset):
    """The simulated photodiode's response to the preset's light (optics, computed once)."""
    from hil_sim.optics import pd_amps_per_cd_m2 as compute

    return compute(preset)


class Bed:
    """The real firmware (lumenfw.device.Device) on a SimBoard around the real Bench physics.

    Host frames go in through .send(); every frame the device writes is decoded into
    .messages.  Time: experiment time runs accel x wall time; link time is wall time.
    """

    def __init__(self, preset="G1", accel=1000, seed=1, frozen=False, interlock=None,
                 before_device=None, channels=0, spread=0.0, **board_options):
        """before_device(board) runs between building the board and building the firmware;
        channels: a board of that many channel cards, a pixel of the preset on each (spread:
        how they vary, hil_sim.presets.pixel; .benches, channel n at index n); 0: the
        one-channel board; board_options go to SimBoard (e.g. ticks_offset_us)."""
        from hil_sim.board import SimBoard
        from hil_sim.physics.bench import Bench
        from lumenfw.device import Device

        pd = pd_amps_per_cd_m2(preset)
        self.benches = [Bench(preset, seed, pd, channel=n, spread=spread)
                        for n in range(max(channels, 1))]
        self.bench = self.benches[0]
        self.link = BufferLink()
        self.board = SimBoard(self.bench, accel=accel, frozen=frozen, link=self.link,
                              interlock=interlock, cards=self.benches if channels else None,
                              **board_options)
        self.dac_writes = []  # (device us, code) of every DAC write, for climb_s()
        self._dac_mark = 0
        self._watch_dac()
        if before_device is not None:
            before_device(self.board)
        self.device = Device(self.board)
        self.ctrl = self.device.ctrl
        self.cmd_id = 0
        self.session_id = 0x5EED
        self.device.boot()

    def _watch_dac(self):
        dac = self.board.dac
        write = dac.write
        clock = self.board.clock

        def logged_write(buf):
            write(buf)
            self.dac_writes.append((clock.now_us(), dac.code))
        dac.write = logged_write

    def climb_s(self):
        """Device seconds from the first step of the last START_RUN's first climb (its first
        DAC write above 0) to the first write of the last code above 0 it got: how long the
        setpoint climbed (lumenfw/climb.py) before the output held its target."""
        writes = [w for w in self.dac_writes[self._dac_mark:] if w[1]]
        final_code = writes[-1][1]
        arrived_us = next(t for t, code in writes if code == final_code)
        return (arrived_us - writes[0][0]) / 1e6

    # ---- wire ----------------------------------------------------------------------------

    @property
    def messages(self):
        self.link.wire.drain()
        return self.link.wire.messages

    def bodies(self, msg_id):
        """The undecoded bodies of every frame of one kind so far."""
        self.link.wire.drain()
        return [body for mid, body in self.link.wire.bodies if mid == msg_id]

    def send(self, msg_id, values, tail=None):
        from protocol import frame

        self.link.to_device += frame.build(msg_id, 0, messages.pack(msg_id, values, tail))

    def of(self, msg_id, since=0):
        """Heads of the messages of one kind, from index since."""
        return [head for mid, head, _ in self.messages[since:] if mid == msg_id]

    def events(self, since=0):
        """(code, value, state, run_key) of every EVENT from index since."""
        return [(h[1], h[_EVENT_VALUE], h[_EVENT_STATE], h[2])
                for h in self.of(schema.EVENT, since)]

    def event_codes(self, since=0):
        return [e[0] for e in self.events(since)]

    def samples(self, run_key=None, resent=False):
        """Every sample record of SAMPLE_BATCH frames (live ones unless resent), as a dict
        by schema field name."""
        out = []
        for mid, head, tail in self.messages:
            if mid != schema.SAMPLE_BATCH or bool(head[2] & schema.BATCH_RESENT) != resent:
                continue
            if run_key is None or head[0] == run_key:
                out.extend(dict(zip(schema.SAMPLE_NAMES, record)) for record in tail)
        return out

    # ---- time ----------------------------------------------------------------------------

    def step(self, passes=1):
        for _ in range(passes):
            self.device.step_safely()
            self.device.sleep_safely()

    def run_until(self, predicate, timeout_s=30.0, what="condition"):
        """Run loop passes until predicate() is true; fail after timeout_s of wall time."""
        import time

        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout_s:.1f} s waiting for {what}")
            self.step()

    # ---- host side -----------------------------------------------------------------------

    def hello(self, schema_hash=schema.SCHEMA_HASH, session_id=None):
        """Handshake; returns the HELLO_ACK head."""
        return self.hello_ack(schema_hash, session_id)[0]

    def hello_ack(self, schema_hash=schema.SCHEMA_HASH, session_id=None):
        """Handshake; returns the HELLO_ACK's head and channel records, each as a dict."""
        if session_id is not None:
            self.session_id = session_id
        since = len(self.messages)
        self.send(schema.HELLO, (self.session_id, schema_hash, 1))
        self.run_until(lambda: self.of(schema.HELLO_ACK, since), what="HELLO_ACK")
        head, tail = next((h, t) for m, h, t in self.messages[since:] if m == schema.HELLO_ACK)
        names = [f[0] for f in schema.CHANNEL_FIELDS]
        return head, [dict(zip(names, record)) for record in tail]

    def command(self, msg_id, values=(), cmd_id=None, timeout_s=30.0):
        """Send a command (values after cmd_id; a fresh cmd_id unless given) and run until
        its reply; returns (reply msg_id, reply head)."""
        if cmd_id is None:
            self.cmd_id += 1
            cmd_id = self.cmd_id
        return self.command_head(msg_id, (cmd_id,) + tuple(values), timeout_s)

    def command_head(self, msg_id, head, timeout_s=30.0):
        """Send a whole command head (cmd_id first) and run until its reply."""
        cmd_id = head[0]
        since = len(self.messages)
        self.send(msg_id, head)

        def reply():
            for mid, h, _ in self.messages[since:]:
                if mid in schema.REPLIES and h[0] == cmd_id:
                    return mid, h
            return None

        self.run_until(lambda: reply() is not None, timeout_s, f"reply to cmd {cmd_id}")
        return reply()

    def start_run(self, **fields):
        """START_RUN with start_run_head defaults; returns (reply msg_id, head)."""
        self.cmd_id += 1
        self._dac_mark = len(self.dac_writes)
        return self.command_head(schema.START_RUN, start_run_head(cmd_id=self.cmd_id, **fields))

    def status(self):
        """The STATUS head as a dict."""
        mid, head = self.command(schema.GET_STATUS, (0,))
        assert mid == schema.STATUS
        return dict(zip(messages.field_names(schema.STATUS), head))
