"""Live streams of runs another site of the lab follows: what that site stores is read back
from the database as it lands (a NOTIFY per stored batch, event and run change wakes the
reader; a 1 s poll stands in without one) and published on this service's hub, so
`GET /api/runs/{id}/stream` is the same on every site. A relay runs while its run has
clients here, and ends with the run's `end`.
"""

import asyncio
import logging
import time
from typing import Any

from host.lab.notify import Wakeups
from host.live.fanout import Hub
from host.runs import eventtext
from host.runs.sink import LIVE_COLUMNS
from host.store import Store
from host.store.columns import json_rows
from host.store.commands import RUNS_CHANNEL
from host.store.records import FINISHED_STATES

log = logging.getLogger(__name__)

READ_ROWS = 2000  # samples read back per query, at most


class RemoteRuns:
    """One relay task per remote run with clients on this service."""

    def __init__(self, store: Store, hub: Hub, wakeups: Wakeups):
        self.store = store
        self.hub = hub
        self.wakeups = wakeups
        self._relays: dict[int, asyncio.Task] = {}

    def follow(self, run_id: int) -> None:
        """Relay the run while it has clients (call once a client has subscribed)."""
        if run_id not in self._relays:
            self._relays[run_id] = asyncio.create_task(self._relay(run_id),
                                                       name="relay-%d" % run_id)

    async def stop(self) -> None:
        tasks = list(self._relays.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _relay(self, run_id: int) -> None:
        store = self.store
        try:
            top = await asyncio.to_thread(store.max_seq, run_id)
            next_seq = 0 if top is None else top + 1
            seen = await asyncio.to_thread(store.list_events, run_id=run_id)
            last_event_id = seen[-1].id if seen else 0
            run = await asyncio.to_thread(store.get_run, run_id)
            while self.hub.subscriber_count(run_id):
                armed = self.wakeups.arm(RUNS_CHANNEL)
                next_seq = await self._samples(run_id, next_seq, run.progress)
                now = await asyncio.to_thread(store.get_run, run_id)
                last_event_id = await self._events(run_id, last_event_id, now.as_dict())
                if now.state != run.state:
                    self.hub.publish(run_id, "state", now.as_dict(calibration=False))
                run = now
                if run.finished:
                    await self._samples(run_id, next_seq, run.progress)  # the last ones
                    self.hub.publish(run_id, "end", run.as_dict(calibration=False))
                    return
                await self.wakeups.wait(armed)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("run %d: relaying it from the store failed", run_id)
        finally:
            self._relays.pop(run_id, None)

    async def _samples(self, run_id: int, next_seq: int, progress: float) -> int:
        """Publish the samples stored from next_seq on; the seq after them."""
        top = await asyncio.to_thread(self.store.max_seq, run_id)
        while top is not None and next_seq <= top:
            upto = min(top, next_seq + READ_ROWS - 1)
            cols = await asyncio.to_thread(self.store.read_samples, run_id, None, None,
                                           LIVE_COLUMNS, seqs=range(next_seq, upto + 1))
            next_seq = upto + 1
            rows = json_rows(cols, LIVE_COLUMNS)
            if not rows:
                continue
            self.hub.publish(run_id, "samples", {"columns": list(LIVE_COLUMNS), "rows": rows,
                                                 "sent_at": time.time()})
            last = dict(zip(LIVE_COLUMNS, rows[-1]))
            self.hub.publish(run_id, "progress", {"t_s": last["t_s"],
                                                  "voltage_v": last["voltage_v"],
                                                  "progress": progress})
        return next_seq

    async def _events(self, run_id: int, after_id: int, run: dict[str, Any]) -> int:
        """Publish the run's events stored after after_id (worded for run, as_dict()); the
        newest id."""
        new = await asyncio.to_thread(self.store.list_events, run_id=run_id, after_id=after_id)
        if new:
            said = [e.as_dict() for e in new]
            for event, text in zip(said, eventtext.texts(said, run), strict=True):
                self.hub.publish(run_id, "event", dict(event, text=text))
        return new[-1].id if new else after_id


def relayed(svc: Any, run_id: int, run: dict[str, Any]) -> bool:
    """Whether a stream of this run needs a relay here: it is not finished and no rig of
    this service follows it."""
    return run["state"] not in FINISHED_STATES and run_id not in svc.runs.book.trackers
