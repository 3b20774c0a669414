"""Live fan-out of a run's samples and events to stream clients, bounded per client.

Producers publish from the event loop; each subscriber has its own bounded queue. A client
too slow to keep up loses live messages, never blocks ingest, and is told it lagged so it
can fetch the history again (GET /samples) and carry on from the live tail.
"""

import asyncio
from collections import defaultdict
from typing import Any

QUEUE_SIZE = 1024


class Subscription:
    """One client's queue on one run."""

    def __init__(self, hub: "Hub", run_id: int):
        self.hub = hub
        self.run_id = run_id
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.lagged = False
        self.dropped = 0

    def offer(self, kind: str, data: Any) -> None:
        if self.queue.full():
            self.lagged = True
            self.dropped += 1
            return
        if self.lagged:
            self.lagged = False
            if self.queue.qsize() < QUEUE_SIZE - 1:
                self.queue.put_nowait(("lagged", {"dropped": self.dropped}))
        self.queue.put_nowait((kind, data))

    def close(self) -> None:
        self.hub._remove(self)


class Hub:
    """Subscriptions per run id; publish() must be called on the event loop thread."""

    def __init__(self) -> None:
        self._subs: dict[int, set[Subscription]] = defaultdict(set)
        self.published = 0

    def subscribe(self, run_id: int) -> Subscription:
        sub = Subscription(self, run_id)
        self._subs[run_id].add(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.run_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.run_id]

    def publish(self, run_id: int, kind: str, data: Any) -> None:
        self.published += 1
        for sub in list(self._subs.get(run_id, ())):
            sub.offer(kind, data)

    def subscriber_count(self, run_id: int | None = None) -> int:
        if run_id is None:
            return sum(len(s) for s in self._subs.values())
        return len(self._subs.get(run_id, ()))
