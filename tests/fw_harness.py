"""Test helpers for the firmware: capture what the device writes and decode it into messages."""

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

    def write(self, buf, n):
        self.data += bytes(buf[:n])

    def drain(self):
        """Decode everything written since the last drain; returns the new messages."""
        new = []
        for msg_id, _seq, body in self._decoder.feed(bytes(self.data)):
            head, tail = messages.unpack(msg_id, body)
            new.append((msg_id, head, tail))
        self.data = bytearray()
        self.messages += new
        return new


START_RUN_DEFAULTS = {
    "cmd_id": 1, "run_id": 42, "mode": 1, "setpoint_mv": 5000, "stop_mv": 0, "step_mv": 0,
    "target_pd_pa": 0, "dark_pd_pa": 0, "target_current_na": 0, "compliance_na": 10000000,
    "sample_period_ms": 100, "dwell_ms": 0, "oversample": 4, "stop_fraction_pm": 500,
    "l0_settle_ms": 1000, "max_duration_s": 3600, "host_loss_grace_ms": 0, "pl_interval_s": 0,
    "laser": 0, "resume_seq": 0, "resume_t_ms": 0, "l0_pd_pa": 0,
}


def start_run_head(**fields):
    """A START_RUN head tuple in schema order: a valid constant-voltage run unless changed."""
    values = dict(START_RUN_DEFAULTS, **fields)
    names = messages.field_names(schema.START_RUN)
    unknown = set(values) - set(names)
    if unknown:
        raise KeyError("not START_RUN fields: %s" % sorted(unknown))
    return tuple(values[name] for name in names)
