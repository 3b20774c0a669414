"""Link figures measured through a byte-paced channel: our frames against JSON lines at 115200 baud.

A pty ignores the baud rate, so the channel here is two raw ptys joined by a relay thread
that forwards at most 11520 bytes/s (115200 baud, 8N1: ten bit times per byte) and reads
only what it may forward: a fast writer blocks in write(), as on a real UART, and nothing
is dropped. The device side writes real frames (protocol.writer FrameWriter + SampleBatcher,
through the firmware's own Outbox, with a HEARTBEAT every 500 ms that flushes the pending
batch as the firmware's does) or JSON lines of the same fields
(with a heartbeat line every 500 ms); the host side decodes them (StreamDecoder /
json.loads) and counts samples for a fixed window. Then the relay drains unpaced and every
sample written must have arrived once, in order, with no decoder error.
"""

from __future__ import annotations

import json
import os
import select
import threading
import time
import tty
from collections.abc import Callable
from typing import Any, Self

from bench.bench_codec import BYTES_PER_S, _samples
from host.link import wire
from lumenfw.outbox import Outbox
from protocol import messages, schema
from protocol.decoder import StreamDecoder

HEARTBEAT_PERIOD_S = 0.5  # the firmware's, in link (wall) time
CHUNK_BYTES = 64  # the relay forwards in chunks of this many bytes (a UART FIFO's worth)
BURST_S = 0.05  # after being descheduled the relay may catch up this much, never more


def _raw_pty() -> tuple[int, int]:
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class PacedChannel:
    """Device side -> pty -> relay (at most bytes_per_s) -> pty -> host side.

    Write on `device_fd`, read on `host_fd`. `forwarded` counts relayed bytes. After
    unpace() the relay forwards as fast as it can (to drain what is buffered).
    """

    def __init__(self, bytes_per_s: float):
        self.bytes_per_s = bytes_per_s
        self._in_master, self.device_fd = _raw_pty()
        self._out_master, self.host_fd = _raw_pty()
        self.forwarded = 0
        self.paced = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._relay, name="paced-relay", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for fd in (self.device_fd, self.host_fd, self._in_master, self._out_master):
            os.close(fd)

    def unpace(self) -> None:
        self.paced = False

    def _relay(self) -> None:
        poller = select.poll()
        poller.register(self._in_master, select.POLLIN)
        burst = max(CHUNK_BYTES, self.bytes_per_s * BURST_S)
        credit, last = 0.0, time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            credit = min(burst, credit + (now - last) * self.bytes_per_s)
            last = now
            if self.paced and credit < CHUNK_BYTES:
                time.sleep((CHUNK_BYTES - credit) / self.bytes_per_s)
                continue
            if not poller.poll(5):
                continue
            want = int(credit) if self.paced else 65536
            data = os.read(self._in_master, want)
            _write_all(self._out_master, data)
            self.forwarded += len(data)
            if self.paced:
                credit -= len(data)


class Receiver:
    """Host side: reads the channel in a thread, decodes, keeps every sample's seq."""

    def __init__(self, fd: int, decode: Callable[[bytes], list[int]]):
        self.fd = fd
        self.decode = decode
        self.seqs: list[int] = []
        self.bytes = 0
        self.first_byte_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="receiver", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        while not self._stop.is_set():
            if not poller.poll(20):
                continue
            data = os.read(self.fd, 65536)
            if self.first_byte_at is None:
                self.first_byte_at = time.monotonic()
            self.bytes += len(data)
            self.seqs.extend(self.decode(data))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def frame_decoder() -> tuple[Callable[[bytes], list[int]], dict[str, int]]:
    decoder = StreamDecoder()

    def decode(data: bytes) -> list[int]:
        seqs = []
        for msg_id, _seq, body in decoder.feed(data):
            if msg_id == schema.SAMPLE_BATCH:
                seqs.extend(wire.decode_sample_batch(body)[3]["seq"].tolist())
        return seqs

    return decode, decoder.stats


def jsonl_decoder() -> tuple[Callable[[bytes], list[int]], dict[str, int]]:
    pending = bytearray()
    stats = {"bad_lines": 0}

    def decode(data: bytes) -> list[int]:
        pending.extend(data)
        *lines, rest = pending.split(b"\n")
        pending[:] = rest
        seqs = []
        for line in lines:
            try:
                item = json.loads(line)
            except ValueError:
                stats["bad_lines"] += 1
                continue
            if "seq" in item:
                seqs.append(item["seq"])
        return seqs

    return decode, stats


class Producer:
    """Device side: writes samples (and heartbeats) as fast as the channel takes them."""

    def __init__(self, fd: int, samples: list[tuple[int, ...]], protocol: str):
        self.fd = fd
        self.samples = samples
        self.protocol = protocol
        self.written = 0  # samples handed to the channel (frames: once their batch is sent)
        self.exhausted = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="producer", daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        if self.protocol == "frames":
            self._frames()
        else:
            self._jsonl()

    def _frames(self) -> None:
        outbox = Outbox(lambda buf, n: _write_all(self.fd, memoryview(buf)[:n]),
                        lambda a, b: a - b)
        heartbeat_at = time.monotonic()
        added = 0
        for sample in self.samples:
            if self._stop.is_set():
                break
            now = time.monotonic()
            if now >= heartbeat_at:
                heartbeat_at += HEARTBEAT_PERIOD_S
                outbox.send_body(schema.HEARTBEAT, messages.pack(
                    schema.HEARTBEAT, (9, 3), [(0, schema.CAN_DRIVE, schema.STATE_RUNNING,
                                                schema.MODE_CONSTANT_VOLTAGE, 0, 1, sample[0])]))
                self.written = added
            outbox.add_sample(int(now * 1000), None, 1, 0, *sample)
            added += 1
            if outbox.batcher.count == 0:
                self.written = added
        else:
            self.exhausted = True
        outbox.flush()
        self.written = added

    def _jsonl(self) -> None:
        heartbeat_at = time.monotonic()
        for sample in self.samples:
            if self._stop.is_set():
                return
            if time.monotonic() >= heartbeat_at:
                heartbeat_at += HEARTBEAT_PERIOD_S
                _write_all(self.fd, json.dumps(
                    {"state": 1, "flags": 9, "run_key": 1, "next_seq": sample[0],
                     "next_event_seq": 3}, separators=(",", ":")).encode() + b"\n")
            line = json.dumps(dict(zip(schema.SAMPLE_NAMES, sample)), separators=(",", ":"))
            _write_all(self.fd, line.encode() + b"\n")
            self.written += 1
        self.exhausted = True

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


def measure(protocol: str, window_s: float, n_samples: int = 20_000,
            bytes_per_s: float = BYTES_PER_S) -> dict[str, float]:
    """Samples/s and useful bytes per wire byte over window_s of a saturated paced channel;
    raises AssertionError if any sample is lost, duplicated, reordered or mis-decoded."""
    if protocol == "frames":
        decode, decoder_stats = frame_decoder()
    else:
        decode, decoder_stats = jsonl_decoder()
    samples = _samples(n_samples)
    with PacedChannel(bytes_per_s) as channel:
        receiver = Receiver(channel.host_fd, decode)
        producer = Producer(channel.device_fd, samples, protocol)
        deadline = time.monotonic() + 10
        while receiver.first_byte_at is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert receiver.first_byte_at is not None, "nothing came through the channel"
        time.sleep(max(0.0, receiver.first_byte_at + window_s - time.monotonic()))
        got, wire_bytes = len(receiver.seqs), receiver.bytes
        elapsed_s = time.monotonic() - receiver.first_byte_at
        producer.stop()
        channel.unpace()
        deadline = time.monotonic() + 10
        while len(receiver.seqs) < producer.written and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # anything beyond what was written would show up now
        receiver.stop()
    assert not producer.exhausted, "the producer ran out of samples: raise n_samples"
    assert receiver.seqs == list(range(producer.written)), (
        f"lost, repeated or reordered samples: {producer.written} written, "
        f"{len(receiver.seqs)} received")
    errors = {k: v for k, v in decoder_stats.items() if k not in ("frames", "bytes", "empty") and v}
    assert not errors, errors
    return {"samples_per_s": got / elapsed_s,
            "payload_ratio": got * schema.SAMPLE_SIZE / wire_bytes,
            "channel_bytes_per_s": wire_bytes / elapsed_s, "samples_checked": producer.written}


def run(window_s: float = 3.0) -> dict[str, dict[str, Any]]:
    ours = measure("frames", window_s)
    jsonl = measure("jsonl", window_s)
    return {
        "link_payload_ratio": {"value": ours["payload_ratio"], "unit": "sample B / wire B",
                               "goal": ">= 0.90"},
        "link_samples_per_s_at_115200": {"value": ours["samples_per_s"], "unit": "samples/s"},
        "link_jsonl_samples_per_s_at_115200": {"value": jsonl["samples_per_s"],
                                               "unit": "samples/s"},
        "link_vs_jsonl_ratio": {"value": ours["samples_per_s"] / jsonl["samples_per_s"],
                                "unit": "x", "goal": ">= 4"},
        "link_channel_bytes_per_s": {"value": ours["channel_bytes_per_s"],
                                     "unit": f"B/s (paced at {BYTES_PER_S:.0f})"},
        "link_samples_checked": {"value": ours["samples_checked"] + jsonl["samples_checked"],
                                 "unit": "samples, none lost"},
    }


if __name__ == "__main__":
    for key, figure in run().items():
        print(f"{key:36s} {figure['value']:12.4g} {figure['unit']}")
