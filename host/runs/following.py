"""One task per rig takes its link's deliveries in order: samples go to the run whose key
they carry (and no other), device events are recorded, heartbeats and handshakes keep the
followed run in step with its board."""

import asyncio
import logging
import time
from typing import Any

import numpy as np

from host import lab
from host import link as rig_link
from host.link.wire import SAMPLE_DTYPE, fault_name
from host.rigs import Rig
from host.runkey import board_text, key_text
from host.runs.adoption import files_under
from host.runs.book import RunBook
from host.runs.errors import SampleNotStorable
from host.runs.lifecycle import Lifecycle, stop_text
from host.runs.ordering import ranges_text, seq_ranges
from host.runs.orphans import Orphans, stored_run
from host.runs.reconnect import Reconnect
from host.runs.sink import SampleSink
from host.runs.tracker import Tracker
from host.selftest import runner as selftest
from protocol import schema
from protocol.names import STATE_NAMES

log = logging.getLogger(__name__)

# A sample batch that finds the queue empty waits this long for the ones behind it: a fast
# (or accelerated) rig sends one sample per frame, and storing and publishing each alone
# costs the service far more per sample than the samples of 20 ms together.
INGEST_WINDOW_S = 0.02
MOST_ITEMS = 512  # deliveries taken off the queue at once


class LinkFollower:
    """Consumes each rig's deliveries and hands each to the part of the manager it concerns."""

    def __init__(self, book: RunBook, sink: SampleSink, lifecycle: Lifecycle,
                 reconnect: Reconnect, orphans: Orphans):
        self.book = book
        self.sink = sink
        self.lifecycle = lifecycle
        self.reconnect = reconnect
        self.orphans = orphans

    async def follow(self, rig: Rig, queue: asyncio.Queue) -> None:
        while True:
            items = [await queue.get()]
            if isinstance(items[0], rig_link.SampleBatch) and queue.empty():
                await asyncio.sleep(INGEST_WINDOW_S)
            while not queue.empty() and len(items) < MOST_ITEMS:
                items.append(queue.get_nowait())
            pending: list[rig_link.SampleBatch] = []
            for item in items:
                if isinstance(item, rig_link.SampleBatch):
                    pending.append(item)
                    continue
                if pending:
                    await self._ingest(rig, pending)
                    pending = []
                try:
                    await self._handle(rig, item)
                except Exception:
                    log.exception("rig %s: handling %s failed", rig.name, type(item).__name__)
            if pending:
                await self._ingest(rig, pending)

    # ------------------------------------------------------------------ samples

    async def _ingest(self, rig: Rig, batches: list[rig_link.SampleBatch]) -> None:
        """Store each batch under the run whose key it carries, and under no other."""
        by_key: dict[int, list[rig_link.SampleBatch]] = {}
        for batch in batches:
            by_key.setdefault(batch.run_key, []).append(batch)
        for run_key, parts in by_key.items():
            try:
                await self._ingest_run(rig, run_key, parts)
            except Exception as exc:  # ingest goes on for every other run and the next one
                await self._ingest_failed(rig, run_key, exc)

    async def _ingest_run(self, rig: Rig, run_key: int,
                          parts: list[rig_link.SampleBatch]) -> None:
        records = np.concatenate([batch.records for batch in parts])
        tracker = self.book.tracker(rig, run_key)
        resent = [batch.records["seq"] for batch in parts if batch.resent]
        if tracker is None:
            stray = await self._tracker_for_stray(rig, run_key)
            if stray is not None:
                await self.sink.store(rig, stray, records)
                if resent:  # (an answer to a RESEND that came after the run ended)
                    ranges = seq_ranges(np.concatenate(resent))
                    await self.book.event(rig, run_key, "resent", "samples %s re-sent by the "
                                          "rig after the run ended" % ranges_text(ranges),
                                          {"ranges": ranges}, run_id=stray.run.id)
            return
        ready = tracker.order.add(records)
        if len(ready):
            await self.sink.store(rig, tracker, ready)
            if tracker.refusal is not None:
                await self._refuse(rig, tracker)
        if resent:
            ranges = seq_ranges(np.concatenate(resent))
            await self.book.event(rig, run_key, "resent",
                                  "samples %s re-sent by the rig" % ranges_text(ranges),
                                  {"ranges": ranges})

    async def _ingest_failed(self, rig: Rig, run_key: int, exc: Exception) -> None:
        """Samples of a run could not be stored: the run fails with the cause (a run with a
        hole nobody can fill is no measurement), the board stops it, health says so until a
        later sample is stored."""
        log.error("rig %s: samples of run key %s could not be stored: %s", rig.name,
                  key_text(run_key), exc, exc_info=not isinstance(exc, SampleNotStorable))
        tracker = self.book.tracker(rig, run_key)
        what = "run %d" % tracker.run.id if tracker is not None else "run key %s" % key_text(
            run_key)
        rig.ingest_error = "%s: samples could not be stored: %s" % (what, exc)
        if tracker is None or tracker.finishing or not self.book.following(tracker):
            return
        tracker.order.release_all()  # what waited cannot be stored either: not again at end
        await self.lifecycle.stop_key(rig, run_key, tracker.channel)
        await self.lifecycle.end(tracker, "failed", error="samples could not be stored: %s" % exc)

    async def _refuse(self, rig: Rig, tracker: Tracker) -> None:
        """The run cannot measure what it is for (tracker.refusal): the board stops it and it
        ends failed with the reason; what it stored stays."""
        if tracker.finishing or not self.book.following(tracker):
            return
        await self.lifecycle.stop_key(rig, tracker.run_key, tracker.channel)
        await self.lifecycle.end(tracker, "failed", error=tracker.refusal)

    async def _tracker_for_stray(self, rig: Rig, run_key: int) -> Tracker | None:
        """Samples of a run the host is not following: stored only when this store started
        that run on this rig's board (a finished run receiving late resends)."""
        store = self.book.store
        run = await asyncio.to_thread(store.get_run_by_key, run_key) if run_key else None
        if run is None or not files_under(stored_run(run), rig.name, board_text(rig.board_id)):
            return None
        return Tracker(run, rig)

    # ------------------------------------------------------------------ everything else

    async def _handle(self, rig: Rig, item: Any) -> None:
        book = self.book
        if isinstance(item, rig_link.Connected):
            rig.board_id = item.hello.board_id
            rig.down_since = None
            await asyncio.to_thread(book.store.upsert_rig, rig.name, rig.spec.spec,
                                    _firmware_info(item.hello))
            named = await lab.adopt_board_name(book.store, book.rigs, book.site, rig,
                                               board_text(rig.board_id))
            if named is not None:
                await book.event(rig, None, **named)
            moved = await lab.note_board(book.store, rig, board_text(rig.board_id))
            if moved is not None:
                await book.event(rig, None, **moved)
            await self.reconnect.reconcile(rig, item.hello, item.device_reset)
            selftest.after_handshake(rig, item.hello)
        elif isinstance(item, rig_link.DeviceEvent):
            await self._device_event(rig, item)
        elif isinstance(item, rig_link.HeartbeatSeen):
            for channel in item.heartbeat.records:
                tracker = book.tracker(rig, channel.run_key)
                if tracker is not None:
                    tracker.saw_next_seq(channel.next_seq)
                self._check_ended(rig, channel)
                if channel.channel in rig.orphans:
                    self.orphans.note(rig, channel)
        elif isinstance(item, rig_link.Disconnected):
            if rig.down_since is None:
                rig.down_since = time.monotonic()
            await book.event(rig, None, "link_down", "link to %s lost: %s"
                             % (rig.name, item.reason))
        elif isinstance(item, rig_link.GapDetected):
            await book.event(rig, item.run_key, "gap",
                             "samples %d..%d missing; asked the rig to resend them"
                             % (item.from_seq, item.to_seq),
                             {"from_seq": item.from_seq, "to_seq": item.to_seq})
        elif isinstance(item, rig_link.EventsLost):
            await book.event(rig, None, "events_lost", "device events %s were not recovered"
                             % (list(item.event_seqs),))

    async def _device_event(self, rig: Rig, ev: rig_link.DeviceEvent) -> None:
        data = {"value": ev.value, "t_s": ev.t_s + ev.t_us * 1e-6, "state": ev.state,
                "event_seq": ev.event_seq, "run_key": key_text(ev.run_key)}
        key = None
        if ev.run_key:  # a resent event of a run is recorded once
            key = "%016x:%d:%d.%06d:%d" % (ev.run_key, ev.code, ev.t_s, ev.t_us, ev.event_seq)
        await self.book.event(rig, ev.run_key, ev.name, _event_text(ev), data, code=ev.code,
                              key=key)
        tracker = self.book.tracker(rig, ev.run_key)
        if tracker is None:
            return
        tracker.note_event(ev.code, data["t_s"])
        if ev.code == schema.EV_L0_CAPTURED:
            l0 = tracker.converter.columns(_one_record(pd_pa=ev.value + tracker.dark_pd_pa))
            tracker.l0_cd_m2 = float(l0["luminance_cd_m2"][0]) or None
        elif ev.code == schema.EV_DARK_END:
            tracker.dark_shift_a = ev.value * 1e-12 - tracker.converter.dark_a
        elif ev.code == schema.EV_RUN_STOPPED:
            tracker.stop_reason = ev.value
            self.lifecycle.finish_soon(tracker)

    def _check_ended(self, rig: Rig, channel: Any) -> None:
        """A run that ended while its RUN_STOPPED event was lost still gets finished (channel:
        a HEARTBEAT's record of one channel; only the followed run's channel counts)."""
        tracker = self.book.active(rig, channel.channel)
        if tracker is None or tracker.finishing or tracker.run.state != "running":
            return
        if channel.run_key != tracker.run_key:
            if tracker.resume_pending:
                self.reconnect.resume_soon(tracker)
            return
        if channel.state != schema.STATE_RUNNING:
            self.lifecycle.finish_soon(tracker)


def _one_record(**values: int) -> np.ndarray:
    record = np.zeros(1, SAMPLE_DTYPE)
    for key, value in values.items():
        record[key] = value
    return record


def _firmware_info(hello: Any) -> dict[str, Any]:
    return {"version": "%d.%d.%d" % (hello.fw_major, hello.fw_minor, hello.fw_patch),
            "board_id": board_text(hello.board_id), "schema_hash": "%08x" % hello.schema_hash,
            "capabilities": hello.capabilities, "reset_cause": hello.reset_cause}


def _event_text(ev: rig_link.DeviceEvent) -> str:
    if ev.code in (schema.EV_SAFE_STOP, schema.EV_RUN_STOPPED):
        return "%s: %s" % (ev.name.replace("_", " "), stop_text(ev.value))
    if ev.code == schema.EV_EXCEPTION:
        return "exception: %s fault" % fault_name(ev.value)
    if ev.code == schema.EV_STATE:
        names = STATE_NAMES
        return "state: %s" % (names[ev.value] if 0 <= ev.value < len(names) else ev.value)
    if ev.code == schema.EV_COMPLIANCE:
        return "current %.3f mA reached the compliance limit" % (ev.value / 1e6)
    return "%s (%d)" % (ev.name.replace("_", " "), ev.value)
