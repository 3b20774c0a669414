"""Everything the device sends goes through here: one frame sequence, live sample batches."""

import struct

from protocol import schema
from protocol.writer import BATCH_HEAD, BATCH_HEAD_SIZE, BODY_OFFSET, FrameWriter, SampleBatcher

BATCH_MAX_AGE_MS = 100
# Resent samples go one per frame: a RESEND answers a damaged link, where a short frame is
# far likelier to arrive whole (at 1 % of bytes corrupted, ~61 % of 45-byte frames against
# ~7 % of full 8-sample ones), so each round of RESENDs recovers most of what it asks for.
RESEND_PER_FRAME = 1


class Outbox:
    """Owns the FrameWriter and the live SampleBatcher.

    The batcher packs samples straight into the writer's frame buffer, so every other
    frame must flush the pending batch first: use raw_for_control() (then send()) or
    send_body(), never writer.raw directly.
    """

    def __init__(self, write, link_diff):
        self.writer = FrameWriter(write)
        self._link_diff = link_diff
        self.batcher = SampleBatcher(self.writer)
        self._batch_started_ms = 0
        self._batch_clock = None  # the run clock of the pending batch's channel
        self._batch_t_s = 0  # run time of the pending batch's oldest sample
        self._batch_t_us = 0
        self._write = write
        self._delimiter = bytearray(1)

    def add_sample(self, now_ms, run_clock, run_key, channel, seq, t_s, t_us, setpoint_mv,
                   voltage_mv, current_na, pd_pa, temperature_cc, humidity_cpct, pd_range, flags):
        """Queue one live sample (fields in schema.SAMPLE_NAMES order) of the run whose clock
        is run_clock; the batch goes out when full (SampleBatcher), old, or when a sample of
        another run or channel comes (a batch is one run's)."""
        batcher = self.batcher
        batcher.add(run_key, channel, seq, t_s, t_us, setpoint_mv, voltage_mv, current_na, pd_pa,
                    temperature_cc, humidity_cpct, pd_range, flags)
        if batcher.count == 1:
            self._batch_clock = run_clock
            self._batch_started_ms = now_ms
            self._batch_t_s = t_s
            self._batch_t_us = t_us

    def flush_if_old(self, now_ms):
        """Send the pending batch once its oldest sample is BATCH_MAX_AGE_MS old in link time
        or in its run's time (the run clock add_sample named), whichever comes first.

        On the board the two clocks agree; under an accelerated simulator run time comes
        first, so a batch holds as many samples as it would on the board, not up to 8.
        """
        if not self.batcher.count:
            return
        run_clock = self._batch_clock
        if self._link_diff(now_ms, self._batch_started_ms) >= BATCH_MAX_AGE_MS or (
                run_clock is not None
                and self._run_age_us(run_clock) >= BATCH_MAX_AGE_MS * 1000):
            self.batcher.flush()

    def _run_age_us(self, run_clock):
        """Run time since the pending batch's oldest sample."""
        return ((run_clock.t_s - self._batch_t_s) * 1000000
                + run_clock.t_us - self._batch_t_us)

    def due_in_ms(self, now_ms, limit_ms):
        """Link ms until flush_if_old() would send the pending batch by its link age
        (limit_ms when none)."""
        if not self.batcher.count:
            return limit_ms
        due_ms = BATCH_MAX_AGE_MS - self._link_diff(now_ms, self._batch_started_ms)
        return due_ms if due_ms < limit_ms else limit_ms

    def run_due_in_us(self, limit_us):
        """Device us until flush_if_old() would send the pending batch by its run-time age
        (limit_us when none)."""
        run_clock = self._batch_clock
        if not self.batcher.count or run_clock is None:
            return limit_us
        due_us = BATCH_MAX_AGE_MS * 1000 - self._run_age_us(run_clock)
        if due_us < 0:
            return 0
        return due_us if due_us < limit_us else limit_us

    def flush(self):
        self.batcher.flush()

    def raw_for_control(self):
        """The frame buffer, free for a control frame body at BODY_OFFSET."""
        self.batcher.flush()
        return self.writer.raw

    def send(self, msg_id, body_len):
        """Send the body packed at BODY_OFFSET of raw_for_control()."""
        return self.writer.send(msg_id, body_len)

    def send_body(self, msg_id, body):
        """Send a ready body (allocates: replies, logs)."""
        self.batcher.flush()
        return self.writer.send_body(msg_id, body)

    def send_delimiter(self):
        """A lone 0x00: lets the host resynchronise its decoder (sent once at boot)."""
        self._write(self._delimiter, 1)

    def send_records(self, run_key, channel, ring, first_seq, last_seq):
        """Re-send held samples first_seq..last_seq (inclusive) as BATCH_RESENT batches of
        RESEND_PER_FRAME samples.

        Returns how many samples went out.
        """
        raw = self.raw_for_control()
        capacity = RESEND_PER_FRAME
        size = schema.SAMPLE_SIZE
        sent = 0
        count = 0
        seq = first_seq
        while seq <= last_seq:
            ring.copy_into(seq, raw, BODY_OFFSET + BATCH_HEAD_SIZE + count * size)
            count += 1
            sent += 1
            seq += 1
            if count == capacity or seq > last_seq:
                struct.pack_into(BATCH_HEAD, raw, BODY_OFFSET, run_key, channel,
                                 schema.BATCH_RESENT)
                self.writer.send(schema.SAMPLE_BATCH, BATCH_HEAD_SIZE + count * size)
                count = 0
        return sent
