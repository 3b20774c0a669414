"""Allocation-free frame writer for the firmware's streaming path.

The caller packs a body straight into `raw` at BODY_OFFSET (struct.pack_into), then
calls send(): header, CRC and COBS all work in preallocated buffers, and the wire
bytes go out through write(buf, n) without slicing.
"""

import struct

from protocol import schema
from protocol.cobs import encode_into
from protocol.crc import crc16_table

BODY_OFFSET = schema.HEADER_SIZE
BATCH_HEAD = schema.struct_format(schema.BY_ID[schema.SAMPLE_BATCH][2])
BATCH_HEAD_SIZE = struct.calcsize(BATCH_HEAD)


class FrameWriter:
    """Owns the outgoing frame sequence counter and the two frame buffers."""

    def __init__(self, write):
        # write(buf, n) sends buf[0:n]; on MicroPython stream.write(buf, n) does this.
        self._write = write
        self.raw = bytearray(schema.MAX_RAW)
        self.wire = bytearray(schema.MAX_WIRE)
        self.seq = 0
        self.frames_sent = 0
        self.bytes_sent = 0

    def send(self, msg_id, body_len):
        """Frame raw[BODY_OFFSET:BODY_OFFSET+body_len] as msg_id and write it."""
        raw = self.raw
        seq = self.seq
        raw[0] = schema.PROTOCOL_VERSION
        raw[1] = msg_id
        raw[2] = seq & 0xFF
        raw[3] = (seq >> 8) & 0xFF
        end = BODY_OFFSET + body_len
        crc = crc16_table(raw, 0, end)
        raw[end] = crc & 0xFF
        raw[end + 1] = crc >> 8
        wire = self.wire
        wire[0] = 0
        n = encode_into(raw, end + 2, wire, 1)
        self.seq = (seq + 1) & 0xFFFF
        self.frames_sent += 1
        self.bytes_sent += n
        self._write(wire, n)
        return n

    def send_body(self, msg_id, body):
        """Send a ready body (allocates: for replies and events, not for samples)."""
        n = len(body)
        self.raw[BODY_OFFSET : BODY_OFFSET + n] = body
        return self.send(msg_id, n)


class SampleBatcher:
    """Packs samples into a SAMPLE_BATCH body in place and sends it when full."""

    def __init__(self, writer, capacity=schema.MAX_SAMPLES_PER_BATCH):
        self.writer = writer
        self.capacity = capacity
        self.count = 0
        self.run_key = 0
        self.channel = 0

    def add(self, run_key, channel, seq, t_s, t_us, setpoint_mv, voltage_mv, current_na, pd_pa,
            temperature_cc, humidity_cpct, pd_range, flags):
        """Append one sample (fields in schema.SAMPLE_NAMES order); sends the batch when it
        is full. No allocation."""
        if self.count and (run_key != self.run_key or channel != self.channel):
            self.flush()
        self.run_key = run_key
        self.channel = channel
        offset = BODY_OFFSET + BATCH_HEAD_SIZE + self.count * schema.SAMPLE_SIZE
        struct.pack_into(schema.SAMPLE_FORMAT, self.writer.raw, offset, seq, t_s, t_us,
                         setpoint_mv, voltage_mv, current_na, pd_pa, temperature_cc,
                         humidity_cpct, pd_range, flags)
        self.count += 1
        if self.count >= self.capacity:
            self.flush()

    def flush(self, batch_flags=0):
        """Send what is pending, if anything."""
        if not self.count:
            return
        struct.pack_into(BATCH_HEAD, self.writer.raw, BODY_OFFSET, self.run_key, self.channel,
                         batch_flags)
        self.writer.send(schema.SAMPLE_BATCH, BATCH_HEAD_SIZE + self.count * schema.SAMPLE_SIZE)
        self.count = 0
