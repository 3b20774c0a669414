"""What a link hands to its listeners, and the thread that hands it over.

Listeners run on the link's dispatch thread, never on the thread that reads the port, so
a slow listener (a database write) delays deliveries but never the serial reader.
"""

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from host.link import wire

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Connected:
    """A handshake succeeded. device_reset: the rig rebooted since the last session."""

    rig: str
    hello: wire.WireMessage  # HelloAck
    device_reset: bool


@dataclass(frozen=True)
class Disconnected:
    rig: str
    reason: str


@dataclass(frozen=True)
class SampleBatch:
    """New samples of a run (duplicates already removed), raw integers in wire.SAMPLE_DTYPE."""

    rig: str
    run_key: int
    records: np.ndarray
    resent: bool  # the rig sent them again after a RESEND


@dataclass(frozen=True)
class DeviceEvent:
    """One EVENT; recovered: it arrived through RESEND_EVENTS after a gap."""

    rig: str
    event_seq: int
    code: int
    name: str
    run_key: int
    t_s: int
    t_us: int
    value: int
    state: int
    recovered: bool


@dataclass(frozen=True)
class HeartbeatSeen:
    rig: str
    heartbeat: wire.WireMessage  # Heartbeat


@dataclass(frozen=True)
class StatusSeen:
    rig: str
    status: wire.WireMessage  # Status


@dataclass(frozen=True)
class GapDetected:
    """Samples [from_seq, to_seq] of run_key did not arrive (the run manager asks for them)."""

    rig: str
    run_key: int
    from_seq: int
    to_seq: int


@dataclass(frozen=True)
class EventsLost:
    rig: str
    event_seqs: tuple[int, ...]


@dataclass(frozen=True)
class LogLine:
    rig: str
    level: int
    text: str


Delivery = (Connected | Disconnected | SampleBatch | DeviceEvent | HeartbeatSeen | StatusSeen
            | GapDetected | EventsLost | LogLine)
Listener = Callable[[Any], None]


class Dispatcher:
    """A queue and a thread that calls every listener with every delivery, in order."""

    def __init__(self, name: str) -> None:
        self._queue: queue.Queue[Any] = queue.Queue()
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"{name}-dispatch", daemon=True)
        self._thread.start()

    def add(self, listener: Listener) -> Listener:
        with self._lock:
            self._listeners.append(listener)
        return listener

    def remove(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def put(self, item: Any) -> None:
        self._queue.put(item)

    def close(self, timeout_s: float = 2.0) -> None:
        """Deliver what is queued, then stop the thread."""
        self._queue.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            with self._lock:
                listeners = list(self._listeners)
            for listener in listeners:
                try:
                    listener(item)
                except Exception:
                    log.exception("link listener %r failed on %s", listener, type(item).__name__)


def asyncio_forwarder(loop: asyncio.AbstractEventLoop, target: "asyncio.Queue[Any]",
                      on_full: Callable[[], None]) -> Listener:
    """A listener that puts each delivery into an asyncio queue owned by loop."""

    def put(item: Any) -> None:
        try:
            target.put_nowait(item)
        except asyncio.QueueFull:
            on_full()

    def forward(item: Any) -> None:
        try:
            loop.call_soon_threadsafe(put, item)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            pass

    return forward
