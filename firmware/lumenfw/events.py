"""Device events: numbered, sent at once, and kept in a ring of 32 for RESEND_EVENTS."""

import struct

from protocol import schema
from protocol.writer import BODY_OFFSET

EVENT_FORMAT = schema.struct_format(schema.BY_ID[schema.EVENT][2])
EVENT_SIZE = struct.calcsize(EVENT_FORMAT)
RING_EVENTS = 32


class EventLog:
    """Numbers events with a u16 event_seq, sends each as an EVENT frame, keeps the last 32."""

    def __init__(self, outbox, capacity=RING_EVENTS):
        self._outbox = outbox
        self.capacity = capacity
        self._ring = bytearray(capacity * EVENT_SIZE)
        self.next_event_seq = 0
        self._held = 0

    def emit(self, code, value, run_key, channel, t_s, t_us, state):
        """Record and send one event; returns its event_seq.  No allocation."""
        event_seq = self.next_event_seq
        struct.pack_into(EVENT_FORMAT, self._ring, (event_seq % self.capacity) * EVENT_SIZE,
                         event_seq, code, run_key, channel, t_s, t_us, value, state)
        self.next_event_seq = (event_seq + 1) & 0xFFFF
        if self._held < self.capacity:
            self._held += 1
        self._send(event_seq)
        return event_seq

    def _send(self, event_seq):
        raw = self._outbox.raw_for_control()
        start = (event_seq % self.capacity) * EVENT_SIZE
        ring = self._ring
        for i in range(EVENT_SIZE):
            raw[BODY_OFFSET + i] = ring[start + i]
        self._outbox.send(schema.EVENT, EVENT_SIZE)

    def oldest_event_seq(self):
        return (self.next_event_seq - self._held) & 0xFFFF

    def resend_from(self, from_event_seq):
        """Send again every held event at or after from_event_seq (u16 order); returns count."""
        sent = 0
        oldest = self.oldest_event_seq()
        for k in range(self._held):
            event_seq = (oldest + k) & 0xFFFF
            if ((event_seq - from_event_seq) & 0xFFFF) < 0x8000:
                self._send(event_seq)
                sent += 1
        return sent

    def held(self):
        """The held events as tuples, oldest first (allocates: tests and diagnostics)."""
        oldest = self.oldest_event_seq()
        return [struct.unpack_from(EVENT_FORMAT, self._ring,
                                   (((oldest + k) & 0xFFFF) % self.capacity) * EVENT_SIZE)
                for k in range(self._held)]
