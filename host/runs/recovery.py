"""Missing samples of a followed run: asked for again until they come or the rig says they
are gone, then recorded lost; and, when the rig lost the run itself, the seqs closed up.

On a damaged link a resent sample may need several tries, and an accelerated rig opens new
gaps every wall second: many small RESENDs in flight at once keep up where one request at a
time cannot.
"""

import asyncio
import time
from typing import Any

from host.link import LinkError
from host.runs.book import RunBook
from host.runs.ordering import merged_ranges
from host.runs.sink import SampleSink
from host.runs.tracker import Tracker
from protocol import schema

# Every BACKFILL_PERIOD_S the missing seqs are asked for again, a range at most every
# BACKFILL_RETRY_S; ranges apart by at most BACKFILL_MERGE seqs go in one RESEND (the rig
# re-sends the few between), at most BACKFILL_ASKS at once, each of at most RESEND_SPAN.
BACKFILL_PERIOD_S = 0.1
BACKFILL_RETRY_S = 0.25
BACKFILL_MERGE = 8
BACKFILL_ASKS = 32
RESEND_SPAN = 256


class Recovery:
    """The backfill of every followed run, and what is recorded when samples are lost."""

    def __init__(self, book: RunBook, sink: SampleSink):
        self.book = book
        self.sink = sink

    def watch(self, tracker: Tracker) -> None:
        """Start asking for tracker's missing samples (until the run ends)."""
        tracker.backfill = asyncio.create_task(self._backfill(tracker),
                                               name="backfill-%d" % tracker.run.id)

    async def _backfill(self, tracker: Tracker) -> None:
        """Ask the rig for every seq missing below what it said it took, again and again,
        until it arrives or the rig says it is gone (its ring moved past it)."""
        asked: dict[int, float] = {}
        while True:
            await asyncio.sleep(BACKFILL_PERIOD_S)
            link = tracker.rig.link
            if tracker.resuming or link is None or not link.connected:
                continue
            order = tracker.order
            holes = order.holes(max(tracker.device_next_seq - 1, order.last_held()))
            tracker.rig.recovery["samples_missing"] = sum(b - a + 1 for a, b in holes)
            now = time.monotonic()
            asked = {a: t for a, t in asked.items() if now - t < BACKFILL_RETRY_S}
            for first, last in merged_ranges(holes, BACKFILL_MERGE)[:BACKFILL_ASKS]:
                if first in asked:
                    continue
                asked[first] = now
                asyncio.create_task(self._ask_resend(
                    tracker, first, min(last, first + RESEND_SPAN - 1), tracker.epoch))

    async def _ask_resend(self, tracker: Tracker, first: int, last: int, epoch: int) -> None:
        """One RESEND, one try; the backfill asks again if the samples do not come."""
        link = tracker.rig.link
        assert link is not None
        counts = tracker.rig.recovery
        counts["resend_requests"] += 1
        try:
            reply = await link.acommand(schema.RESEND, run_key=tracker.run_key,
                                        channel=tracker.channel,
                                        from_seq=first, to_seq=last, timeout_s=1.0, tries=1,
                                        wait_s=0.0)
        except LinkError:
            return
        msg: Any = reply.message
        if not reply.ok:
            counts["resend_refused"] += 1
        if tracker.epoch == epoch and not reply.ok and msg.code == schema.NACK_NOT_IN_RING:
            await self.give_up(tracker, msg.detail, "are no longer on the rig")
        # NACK_BAD_RUN_KEY: the rig was reset or runs something else; reconcile resumes ours.

    async def give_up(self, tracker: Tracker, below_seq: int, why: str) -> None:
        """Record every missing seq below below_seq as lost and store what waited on them."""
        holes = tracker.order.holes(below_seq - 1)
        ready = tracker.order.skip_to(below_seq)  # before any await: one give-up per hole
        tracker.rig.recovery["samples_lost"] += sum(b - a + 1 for a, b in holes)
        for a, b in holes:
            await self.book.event(tracker.rig, tracker.run_key, "samples_lost",
                                  "samples %d..%d %s: lost" % (a, b, why),
                                  {"from_seq": a, "to_seq": b})
        if len(ready):
            await self.sink.store(tracker.rig, tracker, ready)

    async def close_gaps_for_resume(self, tracker: Tracker) -> int:
        """Samples received past a gap are stored under the next seqs (the gap's samples
        died with the rig's memory), and the loss is recorded as an event.

        Returns how many samples the rig took after the last one received: sample periods
        the device was stressed through, which the resumed run clock must not leave out.
        """
        order = tracker.order
        received = order.next_seq + order.held_count
        claimed = tracker.device_next_seq
        tail_lost = max(0, claimed - 1 - order.last_held())
        first = order.next_seq
        renumbered, dropped = order.renumber()
        if len(renumbered):
            await self.sink.store(tracker.rig, tracker, renumbered)
        lost_at_least = max(0, claimed - received) + sum(b - a + 1 for a, b in dropped)
        tracker.rig.recovery["samples_lost"] += lost_at_least
        if lost_at_least or len(renumbered):
            message = "the rig lost at least %d samples it had not sent" % lost_at_least
            if len(renumbered):
                message += "; %d received after a gap are stored as seqs %d..%d" % (
                    len(renumbered), first, order.next_seq - 1)
            await self.book.event(
                tracker.rig, tracker.run_key, "samples_lost", message,
                {"lost_at_least": lost_at_least, "device_next_seq": claimed,
                 "dropped": dropped, "renumbered": len(renumbered),
                 "renumbered_from": first})
        tracker.device_next_seq = order.next_seq
        return tail_lost
