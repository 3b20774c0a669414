"""Live fan-out of a run's samples and events to stream clients, bounded per client.

Producers publish from the event loop. A message is encoded once (as the server-sent event
it becomes) and each subscriber queues a reference to those bytes, so ingest never waits
for a client and a thousand clients cost one encoding. A client more than BEHIND_BYTES of
messages behind is cut off: its queue takes nothing more, it is told where its samples stop
(`resync`) and its stream closes, so it reconnects and fetches the gap from the samples
endpoint. What one slow client can make the service hold is BEHIND_BYTES.
"""

import asyncio
import json
import logging
from collections import defaultdict
from typing import Any, Callable

log = logging.getLogger(__name__)

BEHIND_BYTES = 1 << 20


def sse(kind: str, data: Any) -> bytes:
    """One server-sent event."""
    return ("event: %s\ndata: %s\n\n" % (kind, json.dumps(data, allow_nan=False))).encode()


class Subscription:
    """One client's queue on one run: (kind, encoded event) pairs."""

    def __init__(self, hub: "Hub", run_id: int):
        self.hub = hub
        self.run_id = run_id
        self.queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self.held_bytes = 0
        self.behind = asyncio.Event()  # set once the client fell BEHIND_BYTES behind
        self.resync: dict[str, Any] = {"seq": None, "t_s": None, "dropped": 0}

    def offer(self, kind: str, encoded: bytes, rows: list[list[Any]] | None) -> None:
        if not self.behind.is_set() and self.held_bytes + len(encoded) > BEHIND_BYTES:
            self.behind.set()
        if self.behind.is_set():
            self._note_dropped(rows)
            return
        self.held_bytes += len(encoded)
        self.queue.put_nowait((kind, encoded))

    async def get(self) -> tuple[str, bytes]:
        """The next queued event, when there is one."""
        kind, encoded = await self.queue.get()
        self.held_bytes -= len(encoded)
        return kind, encoded

    def take(self) -> tuple[str, bytes]:
        """The next queued event (the queue must not be empty)."""
        kind, encoded = self.queue.get_nowait()
        self.held_bytes -= len(encoded)
        return kind, encoded

    def _note_dropped(self, rows: list[list[Any]] | None) -> None:
        """Keep where the client's samples stop: the first sample it will not get."""
        if not rows:
            return
        resync = self.resync
        resync["dropped"] += len(rows)
        if resync["seq"] is None:
            resync["seq"], resync["t_s"] = rows[0][0], rows[0][1]

    def close(self) -> None:
        self.hub._remove(self)


class Hub:
    """Subscriptions per run id; publish() must be called on the event loop thread.

    "samples" messages are {"columns": [...], "rows": [[seq, t_s, ...], ...]}.
    """

    def __init__(self) -> None:
        self._subs: dict[int, set[Subscription]] = defaultdict(set)
        self._taps: list[Callable[[int, str, Any], None]] = []
        self.published = 0
        self.clients_cut = 0
        self.unencodable = 0

    def subscribe(self, run_id: int) -> Subscription:
        sub = Subscription(self, run_id)
        self._subs[run_id].add(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.run_id)
        if subs is not None and sub in subs:
            subs.discard(sub)
            if sub.behind.is_set():
                self.clients_cut += 1
            if not subs:
                del self._subs[sub.run_id]

    def add_tap(self, tap: Callable[[int, str, Any], None]) -> None:
        """tap(run_id, kind, data) is called with every message, on the event loop, before
        the clients get it: it must not block, and must not change data (the clients'
        message). One that raises is logged; ingest and the clients go on."""
        self._taps.append(tap)

    def remove_tap(self, tap: Callable[[int, str, Any], None]) -> None:
        if tap in self._taps:
            self._taps.remove(tap)

    def publish(self, run_id: int, kind: str, data: Any) -> None:
        self.published += 1
        for tap in self._taps:
            try:
                tap(run_id, kind, data)
            except Exception:
                log.exception("run %d: a tap failed on a live %s message", run_id, kind)
        subs = self._subs.get(run_id)
        if not subs:
            return
        try:
            encoded = sse(kind, data)
        except ValueError as exc:  # a non-finite value: the clients miss it, ingest goes on
            self.unencodable += 1
            log.warning("run %d: a live %s message could not be encoded (%s)", run_id, kind,
                        exc)
            return
        rows = data["rows"] if kind == "samples" else None
        for sub in list(subs):
            sub.offer(kind, encoded, rows)

    def stats(self) -> dict[str, int]:
        """Live stream clients now, those of them behind (about to be cut), and how many
        clients were cut since the service started."""
        subs = [sub for run_subs in self._subs.values() for sub in run_subs]
        return {"clients": len(subs), "behind": sum(sub.behind.is_set() for sub in subs),
                "cut": self.clients_cut}

    def subscriber_count(self, run_id: int | None = None) -> int:
        if run_id is None:
            return sum(len(s) for s in self._subs.values())
        return len(self._subs.get(run_id, ()))
