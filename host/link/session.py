"""RigLink: one rig's port, handshake, heartbeats, commands, gap detection and reconnects.

Threading: one I/O thread owns the Connection (the only reader and writer of the port);
it decodes frames, answers pending commands, finds sample gaps (the run manager recovers
them) and sends heartbeats, retries and RESEND_EVENTS. Listeners run on a separate dispatch thread. Callers on
any thread (or an asyncio loop, through acommand) only queue commands and wait on futures.
"""

import asyncio
import concurrent.futures
import logging
import random
import threading
import time
from typing import Any, Self

from pydantic import ValidationError

from host.link import deliveries, wire
from host.link.commands import (
    CommandTable,
    DeviceReset,
    LinkClosed,
    LinkError,
    Pending,
    Reply,
    SchemaMismatch,
)
from host.link.connection import Connection, PortError
from host.link.gaps import EventGaps, SampleGaps, SeqRange
from host.link.snapshot import DeviceView
from host.link.stats import LinkStats
from protocol import messages, names, schema
from protocol.decoder import StreamDecoder

log = logging.getLogger(__name__)

HOST_VERSION = 1
HOUSEKEEPING_S = 0.01
HEARTBEAT_BODY = messages.pack(schema.HEARTBEAT, (0, 0))

# Link states, as snapshot()["link_state"] shows them.
STARTING = "starting"
CONNECTING = "connecting"
CONNECTED = "connected"
DISCONNECTED = "disconnected"
SCHEMA_MISMATCH = "schema_mismatch"
CLOSED = "closed"


# Messages that tell every channel's state in a record of its own.
_CHANNEL_TABLES = (schema.HELLO_ACK, schema.HEARTBEAT)


class _Failure(Exception):
    """This connection is unusable (silence, no handshake): close it and reconnect."""


class _Stop(Exception):
    """Stop for good (schema mismatch): no reconnect would help."""


class RigLink:
    """The host's link to one rig, reconnecting on its own until close().

    name: the rig's name in messages and deliveries. url: anything serial_for_url opens
    (/dev/ttyACM0, a pty path, socket://host:port, loop://). Times are wall seconds.
    """

    def __init__(self, name: str, url: str, *, heartbeat_period_s: float = 0.5,
                 command_timeout_s: float = 1.0, command_tries: int = 3,
                 hello_timeout_s: float = 1.0, hello_tries: int = 3,
                 silence_timeout_s: float = 3.0, backoff_initial_s: float = 0.1,
                 backoff_max_s: float = 5.0, resend_retry_s: float = 0.5,
                 tail_grace_s: float = 1.0, read_timeout_s: float = 0.02,
                 session_id: int | None = None, start: bool = True) -> None:
        self.name = name
        self.url = url
        self.heartbeat_period_s = heartbeat_period_s
        self.command_timeout_s = command_timeout_s
        self.command_tries = command_tries
        self.hello_timeout_s = hello_timeout_s
        self.hello_tries = hello_tries
        self.silence_timeout_s = silence_timeout_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.read_timeout_s = read_timeout_s
        # Kept across reconnects, so the rig's reply cache still recognises a retried cmd_id.
        self.session_id = random.getrandbits(32) if session_id is None else session_id

        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._connected = threading.Event()
        self._state = STARTING
        self._detail: str | None = None
        self._table = CommandTable()
        self._samples = SampleGaps()
        self._events = EventGaps(tail_grace_s=tail_grace_s, retry_after_s=resend_retry_s)
        self._view = DeviceView()
        self._stats = LinkStats()
        self._dispatch = deliveries.Dispatcher(name)
        self._dropped_async = 0

        # Owned by the I/O thread.
        self._conn: Connection | None = None
        self._decoder: StreamDecoder | None = None
        self._outbox: list[tuple[int, bytes, bool]] = []
        self._session = False
        self._sessions = 0
        self._boot_seen = False
        self._hello_at = 0.0
        self._housekeeping_at = 0.0
        self._urgent = False  # set from any thread: run housekeeping on the next pass
        self._hello_sent = 0
        self._heartbeat_at = 0.0
        self._event_resend_busy = False
        self._device_hash: int | None = None

        self._thread = threading.Thread(target=self._run, name=f"{name}-link", daemon=True)
        if start:
            self.start()

    # ----------------------------------------------------------------- public API

    def start(self) -> None:
        if not self._thread.is_alive() and not self._closing.is_set():
            self._thread.start()

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the I/O thread, close the port, fail pending commands with LinkClosed."""
        self._closing.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)
        self._dispatch.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def state(self) -> str:
        return self._state

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def board_id(self) -> int | None:
        """The board behind the port as the last handshake said (None before one)."""
        hello = self._view.hello
        return None if hello is None else hello.board_id

    @property
    def capabilities(self) -> int:
        """The board's schema.CAP_* bits as the last handshake said (0 before one)."""
        hello = self._view.hello
        return 0 if hello is None else hello.capabilities

    @property
    def channel_can(self) -> dict[int, int]:
        """{channel: its schema.CAN_* bits} as the last handshake said (empty before one)."""
        hello = self._view.hello
        return {} if hello is None else {c.channel: c.can for c in hello.records}

    def wait_connected(self, timeout_s: float) -> bool:
        """True once a handshake has succeeded (and the session is still up)."""
        return self._connected.wait(timeout_s)

    def add_listener(self, listener: deliveries.Listener) -> deliveries.Listener:
        """Call listener(delivery) on the dispatch thread for every delivery (deliveries.py)."""
        return self._dispatch.add(listener)

    def remove_listener(self, listener: deliveries.Listener) -> None:
        self._dispatch.remove(listener)

    def async_queue(self, maxsize: int = 0) -> "asyncio.Queue[Any]":
        """An asyncio.Queue of deliveries for the running loop (call it inside the loop).

        With maxsize > 0 a full queue drops deliveries and counts them in stats().
        """
        loop = asyncio.get_running_loop()
        target: asyncio.Queue[Any] = asyncio.Queue(maxsize)

        def full() -> None:
            self._dropped_async += 1

        self._dispatch.add(deliveries.asyncio_forwarder(loop, target, full))
        return target

    def submit(self, msg: int | str, *, timeout_s: float | None = None,
               tries: int | None = None, wait_s: float | None = None,
               **fields: int) -> "concurrent.futures.Future[Reply]":
        """Queue a command; the future resolves to its Reply or a LinkError. Never blocks.

        fields are the command's fields except cmd_id (pydantic checks them here).
        Each try waits timeout_s for the reply and is re-sent with the same cmd_id; wait_s
        bounds the wait for a connection before the first try.
        """
        model = wire.model_for(msg)
        if model.msg_id not in schema.COMMANDS:
            raise ValueError(f"{model.__name__} is not a command the host sends")
        future: concurrent.futures.Future[Reply] = concurrent.futures.Future()
        self._queue_command(model, fields, timeout_s, tries, wait_s, _resolver(future))
        return future

    def command(self, msg: int | str, *, timeout_s: float | None = None,
                tries: int | None = None, wait_s: float | None = None, **fields: int) -> Reply:
        """Send a command and wait for its Reply (ACK, NACK or STATUS; see Reply.error).

        Raises LinkDown (never connected in time), CommandTimeout (no reply after every
        try), SchemaMismatch, LinkClosed; a NACK is a Reply, not an exception.
        """
        future = self.submit(msg, timeout_s=timeout_s, tries=tries, wait_s=wait_s, **fields)
        return future.result()

    async def acommand(self, msg: int | str, *, timeout_s: float | None = None,
                       tries: int | None = None, wait_s: float | None = None,
                       **fields: int) -> Reply:
        """command() for asyncio: awaits the reply without blocking the event loop."""
        future = self.submit(msg, timeout_s=timeout_s, tries=tries, wait_s=wait_s, **fields)
        return await asyncio.wrap_future(future)

    def stats(self) -> dict[str, Any]:
        """Link counters for GET /api/rigs/{rig} (frames, errors, gaps, resends, ...)."""
        with self._lock:
            out = self._stats.as_dict(self._decoder, self._samples, self._events,
                                      time.monotonic())
        out["deliveries_dropped"] = self._dropped_async
        return out

    def snapshot(self) -> dict[str, Any]:
        """What the host knows of the rig now: link state, firmware, device state, flags."""
        with self._lock:
            out: dict[str, Any] = {
                "rig": self.name,
                "url": self.url,
                "link_state": self._state,
                "connected": self._connected.is_set(),
                "detail": self._detail,
                "schema_hash": f"{schema.SCHEMA_HASH:08x}",
                "device_schema_hash": (None if self._device_hash is None
                                       else f"{self._device_hash:08x}"),
            }
            out.update(self._view.as_dict(time.monotonic()))
        return out

    # ----------------------------------------------------------------- commands

    def _queue_command(self, model: type[wire.WireMessage], fields: dict[str, int],
                       timeout_s: float | None, tries: int | None, wait_s: float | None,
                       on_done: Any) -> None:
        if self._state == SCHEMA_MISMATCH:
            raise SchemaMismatch(self._detail)
        if self._closing.is_set():
            raise LinkClosed(f"{self.name}: the link is closed")
        timeout_s = self.command_timeout_s if timeout_s is None else timeout_s
        tries = self.command_tries if tries is None else tries
        wait_s = timeout_s * tries if wait_s is None else wait_s
        with self._lock:
            cmd_id = self._table.new_id()
            message = model(cmd_id=cmd_id, **fields)  # type: ignore[call-arg]
            self._table.add(Pending(
                cmd_id=cmd_id, msg_id=model.msg_id, name=schema.BY_ID[model.msg_id][1],
                body=wire.encode(message), fields=dict(fields), timeout_s=timeout_s,
                tries_max=max(1, tries), wait_s=wait_s, submitted_at=time.monotonic(),
                on_done=on_done))
            self._urgent = True

    def _transmit_due(self, now: float) -> None:
        for pending in self._table.due(now):
            if pending.tries:
                self._stats.add("retries")
            else:
                self._stats.add("commands_sent")
                pending.first_sent_at = now
                if pending.msg_id == schema.START_RUN:
                    self._samples.start(pending.fields["run_key"],
                                        pending.fields.get("resume_seq", 0))
            pending.tries += 1
            pending.last_sent_at = now
            self._outbox.append((pending.msg_id, pending.body, False))

    def _expire(self, now: float) -> None:
        for pending in self._table.expired(now):
            self._stats.add("commands_failed")
            pending.on_done(None, pending.failure(self.name, self._state))

    def _fail_all(self, error: LinkError) -> None:
        with self._lock:
            pending = self._table.all()
            for p in pending:
                self._table.pop(p.cmd_id)
        for p in pending:
            p.on_done(None, error)

    def _fail_unsure(self) -> None:
        """The rig came back from a reset: a command one of whose tries may have been
        carried out before it is failed (DeviceReset), not sent to the new boot, which would
        carry it out again; its caller settles what the board now holds."""
        with self._lock:
            unsure = self._table.take_unsure()
        for p in unsure:
            self._stats.add("commands_failed")
            p.on_done(None, DeviceReset(
                f"{self.name}: the rig reset while {p.name} (cmd_id {p.cmd_id}) was in "
                f"flight; it may have been carried out before the reset, so it was not sent "
                f"again"))

    def _on_reply(self, msg: Any) -> None:
        pending = self._table.get(msg.cmd_id)
        if msg.msg_id == schema.STATUS:
            self._view.saw_status(msg, time.monotonic())
            self._dispatch.put(deliveries.StatusSeen(self.name, msg))
        if pending is None:
            self._stats.add("late_replies")  # answer to an earlier try of a finished command
            return
        if msg.msg_id == schema.NACK and msg.code == schema.NACK_NO_SESSION:
            # The rig lost our session (it reset unseen): shake hands again; the command
            # goes out again with the same cmd_id once the new session is up, unless an
            # earlier try may have reached the board before its reset (_fail_unsure).
            pending.no_session_tries += 1
            self._begin_handshake(time.monotonic())
            return
        self._table.pop(msg.cmd_id)
        pending.on_done(Reply(pending.name, pending.msg_id, pending.cmd_id, msg, pending.tries,
                              pending.fields), None)

    # ----------------------------------------------------------------- resends

    def _schedule_resends(self, now: float) -> None:
        """Device events missing: RESEND_EVENTS, one request at a time (samples are the run
        manager's to ask for)."""
        self._events.poll(now)
        if not self._event_resend_busy:
            from_seq = self._events.next_request(now)
            if from_seq is not None:
                self._event_resend_busy = True
                self._stats.add("event_resend_requests")
                # One try: the gap bookkeeping decides when to ask again.
                self._queue_command(wire.model_for(schema.RESEND_EVENTS),
                                    {"from_event_seq": from_seq},
                                    max(2.0, self.command_timeout_s), 1, 0.0,
                                    self._event_resend_answered)

    def _event_resend_answered(self, reply: Reply | None, error: LinkError | None) -> None:
        with self._lock:
            self._event_resend_busy = False
            if reply is not None and reply.ok:
                lost = self._events.resend_done()
                if lost:
                    self._dispatch.put(deliveries.EventsLost(self.name, tuple(lost)))

    def _deliver_gaps(self, gaps: list[SeqRange]) -> None:
        for run_key, first, last in gaps:
            self._dispatch.put(deliveries.GapDetected(self.name, run_key, first, last))

    # ----------------------------------------------------------------- frames in

    def _handle(self, msg_id: int, body: bytes, now: float) -> None:
        try:
            if msg_id == schema.SAMPLE_BATCH:
                self._on_batch(body, now)
                return
            msg: Any = wire.decode(msg_id, body)
        except (messages.MessageError, ValidationError):
            self._stats.add("bad_bodies")
            return
        if msg_id in _CHANNEL_TABLES and wire.channel_record(msg) is None:
            self._stats.add("bad_bodies")  # every rig has a channel 0
            return
        if msg_id == schema.HELLO_ACK:
            self._on_hello_ack(msg, now)
        elif msg_id == schema.HEARTBEAT:
            self._on_heartbeat(msg, now)
        elif msg_id in schema.REPLIES:
            self._on_reply(msg)
        elif msg_id == schema.EVENT:
            self._on_event(msg, now)
        elif msg_id == schema.LOG:
            text = msg.data.decode("utf-8", "replace")
            self._dispatch.put(deliveries.LogLine(self.name, msg.level, text))

    def _on_batch(self, body: bytes, now: float) -> None:
        run_key, _channel, flags, records = wire.decode_sample_batch(body)
        resent = bool(flags & schema.BATCH_RESENT)
        fresh, gaps = self._samples.accept(run_key, records["seq"], resent)
        if gaps:
            self._deliver_gaps(gaps)
        if fresh is not None:
            records = records[fresh]
        if not len(records):
            return
        self._stats.add("samples_received", len(records))
        if resent:
            self._stats.add("samples_resent", len(records))
        self._view.saw_samples(records, now)
        self._dispatch.put(deliveries.SampleBatch(self.name, run_key, records, resent))

    def _on_hello_ack(self, msg: Any, now: float) -> None:
        self._device_hash = msg.schema_hash
        if msg.schema_hash != schema.SCHEMA_HASH:
            self._detail = (
                f"{self.name}: the rig's firmware speaks wire schema {msg.schema_hash:08x}, "
                f"this host speaks {schema.SCHEMA_HASH:08x}; flash firmware built from the "
                f"same protocol/schema.py (no commands were sent)")
            self._set_state(SCHEMA_MISMATCH)
            raise _Stop(self._detail)
        if self._session:
            return  # the answer to a repeated HELLO
        previous = self._view.hello
        reset = self._boot_seen or (previous is not None and (
            msg.reset_cause != previous.reset_cause or msg.board_id != previous.board_id
            or (self._events.expected is not None
                and (msg.next_event_seq - self._events.expected) & 0x8000)))
        if reset and not self._boot_seen:
            # Rebooted while we were away: its events since boot are in its ring.
            self._stats.add("device_resets")
            self._events.start(0)
        if self._events.expected is None:
            self._events.start(msg.next_event_seq)
        else:
            self._events.claim(msg.next_event_seq, now - self._events.tail_grace_s)
        self._boot_seen = False
        self._session = True
        self._sessions += 1
        if self._sessions > 1:
            self._stats.add("reconnects")
        self._view.saw_hello(msg)
        self._detail = None
        self._set_state(CONNECTED)
        self._connected.set()
        if reset and previous is not None:
            self._fail_unsure()
        self._table.rearm()
        self._urgent = True
        self._heartbeat_at = now - self.heartbeat_period_s
        self._dispatch.put(deliveries.Connected(self.name, msg, bool(reset and previous is not None)))

    def _on_heartbeat(self, msg: Any, now: float) -> None:
        self._view.saw_heartbeat(msg, now)
        self._events.claim(msg.next_event_seq, now)
        self._dispatch.put(deliveries.HeartbeatSeen(self.name, msg))

    def _on_event(self, msg: Any, now: float) -> None:
        if msg.code == schema.EV_BOOT:
            # The rig rebooted: its session and reply cache are gone.
            if self._sessions:
                self._stats.add("device_resets")
            self._boot_seen = True
            self._events.start(msg.event_seq)
            self._begin_handshake(now)
        recovered = msg.event_seq in self._events.missing
        if not self._events.accept(msg.event_seq):
            return
        self._stats.add("events_received")
        name = names.EVENT_NAMES.get(msg.code, f"event {msg.code}")
        self._dispatch.put(deliveries.DeviceEvent(self.name, msg.event_seq, msg.code, name, msg.run_key,
                                          msg.t_s, msg.t_us, msg.value, msg.state, recovered))

    # ----------------------------------------------------------------- I/O thread

    def _set_state(self, state: str) -> None:
        self._state = state

    def _begin_handshake(self, now: float) -> None:
        if self._session:
            self._session = False
            self._connected.clear()
            self._set_state(CONNECTING)
        self._hello_sent = 0
        self._send_hello(now)

    def _send_hello(self, now: float) -> None:
        body = messages.pack(schema.HELLO, (self.session_id, schema.SCHEMA_HASH, HOST_VERSION))
        self._outbox.append((schema.HELLO, body, True))
        self._hello_at = now
        self._hello_sent += 1

    def _housekeeping(self, now: float, last_rx: float) -> None:
        if not self._session:
            if now - self._hello_at >= self.hello_timeout_s:
                if self._hello_sent >= self.hello_tries:
                    raise _Failure(f"no HELLO_ACK after {self._hello_sent} HELLOs "
                                   f"{self.hello_timeout_s:.1f} s apart")
                self._send_hello(now)
        else:
            if now - self._heartbeat_at >= self.heartbeat_period_s:
                # On the period's grid, so loop latency does not stretch the period.
                self._heartbeat_at = max(self._heartbeat_at + self.heartbeat_period_s,
                                         now - self.heartbeat_period_s / 2)
                self._stats.add("heartbeats_sent")
                self._outbox.append((schema.HEARTBEAT, HEARTBEAT_BODY, False))
            self._schedule_resends(now)
            self._transmit_due(now)
        self._expire(now)
        if now - last_rx > self.silence_timeout_s:
            raise _Failure(f"no frame from the rig for {now - last_rx:.1f} s")

    def _flush(self) -> None:
        conn = self._conn
        assert conn is not None
        while self._outbox:
            msg_id, body, lead_zero = self._outbox.pop(0)
            n = conn.send(msg_id, body, lead_zero)
            self._stats.add("frames_sent")
            self._stats.add("bytes_sent", n)

    def _serve(self, conn: Connection) -> None:
        decoder = StreamDecoder()
        with self._lock:
            self._conn, self._decoder = conn, decoder
            self._outbox.clear()
            self._session = False
            self._hello_sent = 0
            self._send_hello(time.monotonic())
        self._flush()
        last_rx = time.monotonic()
        while not self._closing.is_set():
            data = conn.read_some()
            now = time.monotonic()
            with self._lock:
                if data:
                    frames = decoder.feed(data)
                    if frames:
                        last_rx = now
                        self._stats.last_frame_at = now
                    for msg_id, _seq, body in frames:
                        self._handle(msg_id, body, now)
                # Timers are checked every HOUSEKEEPING_S, not on every read: a fast stream
                # arrives in many small reads.
                if self._urgent or now - self._housekeeping_at >= HOUSEKEEPING_S:
                    self._urgent = False
                    self._housekeeping_at = now
                    self._housekeeping(now, last_rx)
            self._flush()

    def _pause(self, seconds: float) -> None:
        """Wait before reconnecting, still failing commands whose time is up."""
        end = time.monotonic() + seconds
        while not self._closing.is_set():
            now = time.monotonic()
            if now >= end:
                return
            with self._lock:
                self._expire(now)
            self._closing.wait(min(0.05, end - now))

    def _run(self) -> None:
        backoff = self.backoff_initial_s
        final: LinkError = LinkClosed(f"{self.name}: the link is closed")
        while not self._closing.is_set():
            with self._lock:
                self._set_state(CONNECTING)
            sessions_before = self._sessions
            reason = "closed"
            try:
                conn = Connection(self.url, read_timeout_s=self.read_timeout_s)
            except PortError as exc:
                reason = f"cannot open {self.url}: {exc}"
            else:
                try:
                    self._serve(conn)
                except _Stop as exc:
                    reason = str(exc)
                    final = SchemaMismatch(reason)
                except _Failure as exc:
                    reason = str(exc)
                except PortError as exc:
                    reason = f"port error: {exc}"
                finally:
                    conn.close()
                    with self._lock:
                        if self._decoder is not None:
                            self._stats.retire(self._decoder)
                        self._conn = self._decoder = None
            was_up = self._connected.is_set()
            with self._lock:
                self._session = False
                self._connected.clear()
                if self._state != SCHEMA_MISMATCH:
                    self._set_state(CLOSED if self._closing.is_set() else DISCONNECTED)
                    self._detail = None if self._closing.is_set() else reason
            if was_up or self._state == SCHEMA_MISMATCH:
                self._dispatch.put(deliveries.Disconnected(self.name, reason))
            if self._state == SCHEMA_MISMATCH:
                break
            if self._sessions > sessions_before:
                backoff = self.backoff_initial_s
            log.info("%s: link down (%s); retrying in %.1f s", self.name, reason, backoff)
            self._pause(backoff)
            backoff = min(backoff * 2, self.backoff_max_s)
        self._fail_all(final)


def _resolver(future: "concurrent.futures.Future[Reply]") -> Any:
    def done(reply: Reply | None, error: LinkError | None) -> None:
        try:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(reply)  # type: ignore[arg-type]
        except concurrent.futures.InvalidStateError:
            pass  # the caller cancelled it
    return done
