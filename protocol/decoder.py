"""Streaming decoder: arbitrary chunks of bytes in, whole frames out, never an exception.

Bad bytes cost at most the frame they hit: each drop is counted by kind and the decoder
resynchronises at the next 0x00 delimiter.
"""

from protocol import frame, schema

STAT_NAMES = (
    "frames", "bytes", "crc_errors", "framing_errors", "oversize", "unknown_id",
    "schema_mismatch", "length_errors", "empty",
)


class StreamDecoder:
    """Feed bytes, collect (msg_id, seq, body) tuples; counters in .stats."""

    def __init__(self, max_wire=schema.MAX_WIRE):
        self.max_wire = max_wire
        self._pending = bytearray()
        self._discarding = False  # inside an oversize frame: skip to the next delimiter
        self.stats: dict = {}
        for name in STAT_NAMES:
            self.stats[name] = 0

    def feed(self, data):
        """Decode every frame completed by data; returns a list of (msg_id, seq, body)."""
        out: list = []
        stats = self.stats
        stats["bytes"] += len(data)
        start = 0
        n = len(data)
        while start < n:
            end = data.find(b"\x00", start)
            if end < 0:
                self._append(data, start, n)
                break
            if self._discarding:
                self._discarding = False
                self._pending = bytearray()
            elif self._pending:
                self._append(data, start, end)
                if not self._discarding:
                    self._emit(bytes(self._pending), out)
                self._discarding = False
                self._pending = bytearray()
            else:
                if end - start > self.max_wire:
                    stats["oversize"] += 1
                else:
                    self._emit(data[start:end], out)
            start = end + 1
        return out

    def _append(self, data, start, end):
        if self._discarding:
            return
        if len(self._pending) + (end - start) > self.max_wire:
            self.stats["oversize"] += 1
            self._discarding = True
            self._pending = bytearray()
            return
        self._pending += data[start:end]

    def _emit(self, block, out):
        stats = self.stats
        if not block:
            stats["empty"] += 1
            return
        status, msg_id, seq, body = frame.parse(block)
        if status == frame.OK:
            stats["frames"] += 1
            out.append((msg_id, seq, body))
        elif status == frame.ERR_CRC:
            stats["crc_errors"] += 1
        elif status == frame.ERR_FRAMING:
            stats["framing_errors"] += 1
        elif status == frame.ERR_OVERSIZE:
            stats["oversize"] += 1
        elif status == frame.ERR_UNKNOWN_ID:
            stats["unknown_id"] += 1
        elif status == frame.ERR_SCHEMA:
            stats["schema_mismatch"] += 1
        else:
            stats["length_errors"] += 1
