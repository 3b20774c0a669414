"""Runs: start a run program on a rig, store every sample, follow it, finish it with a summary.

A run is known on the wire by its run key (host.runkey), drawn at random when it is created
and stored with it, and by the board it was started on. The host adopts only what it
started: a restarted service finds its run again from HELLO_ACK (reattach and backfill when
the board kept running, finish when it ended meanwhile, resume with the same seq and run
clock onward when the board was reset and lost it), never on another board; a run the board
holds under a key this store does not know is an orphan, shown on the rig, never filed under
a run of ours.

The manager only puts the parts together; each has one job:
  book       the followed runs, by id and run key, and their events
  sink       samples in seq order into the store and onto the live stream
  recovery   missing samples asked for again, or recorded lost
  lifecycle  start, abort, out-of-reach watch, finish and end
  orphans    runs a board holds that this service did not start
  reconnect  a rig's run settled with its board after a handshake
  following  each rig's link deliveries, in order, to the part they concern
  idlestatus idle rigs asked for their STATUS (ambient readings) every few seconds
"""

import asyncio
from typing import Any

from host.live.fanout import Hub
from host.rigs import Rig, channel_text
from host.runs.book import RunBook
from host.runs.errors import RunError
from host.runs.following import LinkFollower
from host.runs.idlestatus import ask_idle_rigs
from host.runs.labels import RunLabels
from host.runs.lifecycle import Lifecycle
from host.runs.orphans import Orphans
from host.runs.reconnect import Reconnect
from host.runs.recovery import Recovery
from host.runs.sink import SampleSink
from host.store import Store
from host.store.records import Run


class RunManager:
    """Owns the followed runs and the per-rig delivery tasks; the API calls its methods."""

    def __init__(self, store: Store, hub: Hub, rigs: dict[str, Rig], site: str = ""):
        """site: this service's site in the lab (host.lab)."""
        self.book = RunBook(store, hub, rigs, site)
        self.sink = SampleSink(self.book)
        recovery = Recovery(self.book, self.sink)
        self.lifecycle = Lifecycle(self.book, self.sink, recovery)
        self.orphans = Orphans(self.book, self.lifecycle)
        self.reconnect = reconnect = Reconnect(self.book, recovery, self.lifecycle,
                                               self.orphans)
        self.follower = LinkFollower(self.book, self.sink, self.lifecycle, reconnect,
                                     self.orphans)
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        """Adopt unfinished runs from the database, then follow every rig's link."""
        await self.lifecycle.adopt_unfinished()
        for rig in self.book.rigs.values():
            queue = rig.link.async_queue()
            self._tasks.append(asyncio.create_task(self.follower.follow(rig, queue),
                                                   name="rig-%s" % rig.name))
            rig.link.start()  # after the queue listens: no Connected is missed
        self._tasks.append(asyncio.create_task(self.lifecycle.watch_links(),
                                               name="link-watch"))
        self._tasks.append(asyncio.create_task(ask_idle_rigs(self.book), name="idle-status"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for tracker in self.book.trackers.values():
            for task in (tracker.finishing, tracker.backfill):
                if task is not None:
                    task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------------ what the API calls

    async def start_run(self, kind: str, rig_name: str, params: Any,
                        labels: RunLabels | None = None,
                        place: dict[str, int | None] | None = None, channel: int = 0) -> Run:
        return await self.lifecycle.start_run(kind, rig_name, params, labels or RunLabels(),
                                              place, channel)

    async def pause(self, run_id: int) -> Run:
        return await self.lifecycle.pause(run_id)

    async def resume(self, run_id: int) -> Run:
        """A paused run goes on from its stored samples (its rig must be free)."""
        store = self.book.store
        run = await asyncio.to_thread(store.get_run, run_id)
        if run.state != "paused":
            raise RunError(409, "run %d is %s, not paused" % (run_id, run.state))
        rig = self.book.rig_named(run.rig)
        async with self.lifecycle.start_lock(rig):
            busy_id = rig.active_runs.get(run.channel)
            if busy_id is not None:
                raise RunError(409, "%s is busy with run %d"
                               % (channel_text(rig.name, run.channel), busy_id))
            if not rig.link.connected:
                raise RunError(503, "rig %s is not connected" % rig.name)
            tracker = await self.lifecycle.adopt_stored(run, rig)
            await self.book.update(tracker, state="running")
            self.book.publish_state(tracker.run)
        await self.reconnect.resume_paused(rig, tracker)
        return tracker.run

    async def abort(self, run_id: int) -> Run:
        return await self.lifecycle.abort(run_id)

    async def stop_orphan(self, rig_name: str, channel: int | None = None) -> dict[str, Any]:
        return await self.orphans.stop_orphan(rig_name, channel)

    async def import_orphan(self, rig_name: str, channel: int | None = None) -> Run:
        return await self.orphans.import_orphan(rig_name, channel)
