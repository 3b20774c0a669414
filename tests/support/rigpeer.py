"""A scripted rig peer on a real TCP socket (the link opens it as socket://), and its checks.

The peer speaks protocol/ frames and answers only what a test tells it to, so the link's
own logic (framing, retry, gap bookkeeping, reconnect) can be driven exactly. What the
real firmware does is proven by tests/host/link/test_link_firmware.py against hil_sim.
"""

import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from host.link import wire
from protocol import frame, messages, schema
from protocol.decoder import StreamDecoder
from tests.support.waiting import wait_for

SAMPLE_ZEROS = dict.fromkeys(schema.SAMPLE_NAMES, 0)


def hello_ack_fields(**overrides: int) -> dict[str, int]:
    fields = {
        "session_id": 0, "schema_hash": schema.SCHEMA_HASH, "fw_major": 1, "fw_minor": 2,
        "fw_patch": 3, "reset_cause": schema.RESET_POWER_ON, "board_id": 0xE6614103E7452D2F,
        "capabilities": (schema.CAP_CONSTANT_VOLTAGE | schema.CAP_CONSTANT_CURRENT
                         | schema.CAP_SWEEP | schema.CAP_PHOTOSTABILITY | schema.CAP_LASER),
        "state": schema.STATE_IDLE, "mode": schema.MODE_NONE, "run_key": 0, "next_seq": 0,
        "next_event_seq": 0,
    }
    fields.update(overrides)
    return fields


_CHANNEL_KEYS = ("state", "mode", "run_key", "next_seq")
CAN_ALL = schema.CAN_DRIVE | schema.CAN_PHOTODIODE | schema.CAN_LASER


def channel_record(channel: int = 0, **fields: int) -> dict[str, int]:
    """One channel's record of a HELLO_ACK or HEARTBEAT: idle and holding nothing unless
    fields say otherwise."""
    record = {"channel": channel, "can": CAN_ALL, "state": 0, "mode": 0, "flags": 0,
              "run_key": 0, "next_seq": 0}
    record.update(fields)
    return record


def with_channel_record(fields: dict[str, Any], mode: int = 0,
                        records: list[dict[str, int]] | None = None) -> dict[str, Any]:
    """HELLO_ACK or HEARTBEAT fields with the one channel's state, mode, run_key and
    next_seq (given flat, as tests set them) moved into channel 0's record; records: every
    channel's record instead (a board of several channels), the flat ones then left out."""
    out = dict(fields)
    flat = {key: out.pop(key) for key in _CHANNEL_KEYS if key in out}
    out["records"] = ([dict(record) for record in records] if records is not None
                      else [channel_record(0, **{"mode": mode, **flat})])
    return out


def batch_body(run_key: int, seqs: list[int], resent: bool = False, channel: int = 0) -> bytes:
    records = [tuple(dict(SAMPLE_ZEROS, seq=s, voltage_mv=3000 + s).values()) for s in seqs]
    return messages.pack(schema.SAMPLE_BATCH,
                         (run_key, channel, schema.BATCH_RESENT if resent else 0), records)


class RigPeer:
    """Listens on 127.0.0.1; every frame the host sends lands in .received as models.

    auto_hello answers each HELLO with HELLO_ACK(**hello); heartbeat_period_s > 0 sends
    HEARTBEATs (so the link's silence timeout never trips while a test thinks). records:
    every channel's record (channel_record) for a board of several channels, told by both
    HELLO_ACK and HEARTBEAT; a test changes them in place as the board's channels change.
    """

    def __init__(self, auto_hello: bool = True, heartbeat_period_s: float = 0.2,
                 records: list[dict[str, int]] | None = None, **hello: int) -> None:
        self.hello = hello_ack_fields(**hello)
        self.records = records
        self.auto_hello = auto_hello
        self.heartbeat_period_s = heartbeat_period_s
        self.heartbeat = {"state": 0, "flags": 0, "run_key": 0, "next_seq": 0, "next_event_seq": 0}
        self.handlers: list[Callable[[Any], bool]] = []
        self.received: queue.Queue[Any] = queue.Queue()
        self.log: list[Any] = []
        self.log_times: list[float] = []  # monotonic arrival time of each log entry
        self.raw = bytearray()
        self.connections = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"socket://127.0.0.1:{self._server.getsockname()[1]}"
        self._sock: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._seq = 0
        self._stop = threading.Event()
        threading.Thread(target=self._accept_loop, daemon=True).start()
        threading.Thread(target=self._heartbeat_loop, daemon=True).start()

    # -- sending ------------------------------------------------------------------------
    def send(self, msg: int | str, **fields: Any) -> None:
        model = wire.model_for(msg)
        self.send_body(model.msg_id, wire.encode(model(**fields)))

    def send_body(self, msg_id: int, body: bytes) -> None:
        with self._send_lock:
            data = frame.build(msg_id, self._seq, body)
            self._seq += 1
        self.send_raw(data)

    def send_raw(self, data: bytes) -> None:
        sock = wait_for(lambda: self._sock, what="the link to connect")
        with self._send_lock:
            sock.sendall(data)

    def batch(self, run_key: int, seqs: list[int], resent: bool = False) -> None:
        self.send_body(schema.SAMPLE_BATCH, batch_body(run_key, seqs, resent))

    def serve_resends(self, held: range = range(10_000)) -> None:
        """Answer RESEND like the firmware: resent batches of what it holds, then ACK, or
        NACK_NOT_IN_RING naming the oldest it holds when part of the range is gone."""

        def answer(m: Any) -> bool:
            if m.msg_id != schema.RESEND:
                return False
            want = [s for s in range(m.from_seq, m.to_seq + 1) if s in held]
            for i in range(0, len(want), 8):
                self.batch(m.run_key, want[i:i + 8], resent=True)
            if m.from_seq < held.start:
                self.nack(m, schema.NACK_NOT_IN_RING, held.start)
            else:
                self.ack(m)
            return True

        self.handlers.append(answer)

    def answer_from_heartbeat(self, m: Any) -> bool:
        """A handler's share: GET_STATUS answered with the heartbeat's state, run_key and
        next_seq, RESEND refused as a board holding only the heartbeat's run; True if m was
        one of them."""
        if m.msg_id == schema.GET_STATUS:
            fields = dict.fromkeys(messages.field_names(schema.STATUS), 0)
            fields.update(cmd_id=m.cmd_id, state=self.heartbeat["state"],
                          run_key=self.heartbeat["run_key"], next_seq=self.heartbeat["next_seq"])
            self.send("STATUS", **fields)
            return True
        if m.msg_id == schema.RESEND:
            self.nack(m, schema.NACK_BAD_RUN_KEY, self.heartbeat["run_key"])
            return True
        return False

    def ack(self, command: Any) -> None:
        self.send("ACK", cmd_id=command.cmd_id, of_msg=command.msg_id)

    def nack(self, command: Any, code: int, detail: int = 0) -> None:
        self.send("NACK", cmd_id=command.cmd_id, of_msg=command.msg_id, code=code, detail=detail)

    def drop_connection(self) -> None:
        """Close the host's connection, as when a USB cable is pulled."""
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self._stop.set()
        try:
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self._server.close()
        self.drop_connection()

    # -- receiving ----------------------------------------------------------------------
    def expect(self, msg: int | str, timeout_s: float = 30.0) -> Any:
        """The next frame of that kind the host sent (others are skipped but kept in log)."""
        want = wire.model_for(msg).msg_id
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the host sent no {wire.model_for(msg).__name__}")
            try:
                item = self.received.get(timeout=left)
            except queue.Empty:
                continue
            if item.msg_id == want:
                return item

    def sent_by_host(self, msg: int | str) -> list[Any]:
        want = wire.model_for(msg).msg_id
        return [m for m in list(self.log) if m.msg_id == want]

    def times_of(self, msg: int | str) -> list[float]:
        """Arrival times of every frame of that kind."""
        want = wire.model_for(msg).msg_id
        return [t for m, t in zip(list(self.log), list(self.log_times)) if m.msg_id == want]

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _addr = self._server.accept()
            except OSError:
                return
            self.connections += 1
            self._sock = sock
            self._read_loop(sock)

    def _read_loop(self, sock: socket.socket) -> None:
        decoder = StreamDecoder()
        while True:
            try:
                data = sock.recv(4096)
            except OSError:
                return
            if not data:
                if self._sock is sock:
                    self._sock = None
                return
            self.raw += data
            for msg_id, _seq, body in decoder.feed(data):
                model = wire.decode(msg_id, body)
                self.log_times.append(time.monotonic())
                self.log.append(model)
                if msg_id == schema.HELLO and self.auto_hello:
                    self.send("HELLO_ACK", **with_channel_record(
                        dict(self.hello, session_id=model.session_id), records=self.records))
                if not any(handler(model) for handler in list(self.handlers)):
                    self.received.put(model)

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_period_s or 0.2):
            if self.heartbeat_period_s and self._sock is not None:
                try:
                    self.send("HEARTBEAT", **with_channel_record(
                        self.heartbeat, self.hello.get("mode", 0), self.records))
                except OSError:
                    pass


class Collector:
    """A link listener that keeps every delivery, for tests to wait on."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._lock = threading.Lock()

    def __call__(self, item: Any) -> None:
        with self._lock:
            self.items.append(item)

    def of(self, kind: type) -> list[Any]:
        with self._lock:
            return [i for i in self.items if isinstance(i, kind)]

    def seqs(self, run_key: int) -> list[int]:
        """Every delivered sample seq of run_key, in delivery order (duplicates would show)."""
        from host.link import SampleBatch
        return [int(s) for b in self.of(SampleBatch) if b.run_key == run_key
                for s in b.records["seq"]]


@contextmanager
def connected_link(peer: RigPeer, got: Collector, **options: Any) -> Iterator[Any]:
    """A RigLink to the peer with got listening from before it starts (so got sees the first
    Connected too), connected, closed afterwards."""
    from host.link import RigLink
    with RigLink("rig1", peer.url, start=False, **options) as link:
        link.add_listener(got)
        link.start()
        assert link.wait_connected(5.0)
        yield link
