"""Ring of the most recent samples of the current run, packed, for answering RESEND."""

import struct

from protocol import schema


class SampleRing:
    """capacity packed SAMPLE records in one preallocated bytearray, slot = seq % capacity.

    Samples of a run arrive with consecutive seqs from first_seq (0, or where a resumed
    run picks up), so the ring holds exactly oldest_seq() .. next_seq - 1.  put()
    allocates nothing.
    """

    def __init__(self, capacity):
        self.capacity = capacity
        self.buf = bytearray(capacity * schema.SAMPLE_SIZE)
        self.run_key = 0
        self.first_seq = 0
        self.next_seq = 0

    def reset(self, run_key, first_seq=0):
        """Forget everything: a run starts, its first sample will be first_seq."""
        self.run_key = run_key
        self.first_seq = first_seq
        self.next_seq = first_seq

    def put(self, seq, t_s, t_us, setpoint_mv, voltage_mv, current_na, pd_pa,
            temperature_cc, humidity_cpct, pd_range, flags):
        """Store the sample with seq == next_seq (the caller numbers samples in order); the
        fields come in schema.SAMPLE_NAMES order."""
        struct.pack_into(schema.SAMPLE_FORMAT, self.buf,
                         (seq % self.capacity) * schema.SAMPLE_SIZE, seq, t_s, t_us,
                         setpoint_mv, voltage_mv, current_na, pd_pa, temperature_cc,
                         humidity_cpct, pd_range, flags)
        self.next_seq = seq + 1

    def oldest_seq(self):
        """The oldest seq still held (== next_seq when the ring is empty)."""
        oldest = self.next_seq - self.capacity
        return max(self.first_seq, oldest)

    def holds(self, seq):
        return self.oldest_seq() <= seq < self.next_seq

    def copy_into(self, seq, dst, offset):
        """Copy the packed record of a held seq into dst at offset (byte loop, no slicing)."""
        src = self.buf
        size = schema.SAMPLE_SIZE
        start = (seq % self.capacity) * size
        for i in range(size):
            dst[offset + i] = src[start + i]

    def record(self, seq):
        """The unpacked record of a held seq (allocates: for tests and diagnostics)."""
        return struct.unpack_from(schema.SAMPLE_FORMAT, self.buf,
                                  (seq % self.capacity) * schema.SAMPLE_SIZE)
