"""After a rig (re)connects: its unfinished run is reattached, finished, resumed from the
samples stored (the board was reset and lost it) or failed (another board), never run twice.
The rules themselves are host.runs.adoption's; this acts on them."""

import asyncio
from typing import Any

import numpy as np

from host.analysis.dark import dark_rows
from host.link import LinkError, wire
from host.rigs import Rig
from host.runkey import board_text
from host.runs.adoption import FollowedRun, Settle, settle
from host.runs.book import RunBook
from host.runs.lifecycle import START_TRIES, Lifecycle
from host.runs.orphans import Orphans
from host.runs.programs import resume_fields
from host.runs.recovery import Recovery
from host.runs.tracker import Tracker
from protocol import schema


class Reconnect:
    """Settles a rig's followed run with what its board says after a handshake."""

    def __init__(self, book: RunBook, recovery: Recovery, lifecycle: Lifecycle,
                 orphans: Orphans):
        self.book = book
        self.recovery = recovery
        self.lifecycle = lifecycle
        self.orphans = orphans

    async def reconcile(self, rig: Rig, hello: Any, device_reset: bool) -> None:
        """After (re)connecting: settle the rig's unfinished run on this board (reattach,
        finish or resume it; fail it on another board), then see what else it holds."""
        board = board_text(hello.board_id)
        for tracker in self.book.actives(rig):  # (one per channel)
            channel = wire.channel_record(hello, tracker.channel)
            if channel is None:
                await self.lifecycle.end(tracker, "failed", error=(
                    "the board behind %s has no channel %d any more (board %s)"
                    % (rig.name, tracker.channel, board)))
                continue
            decision = settle(FollowedRun(
                tracker.run_key, tracker.run.board_id, tracker.run.state, tracker.run.imported,
                tracker.starting, bool(tracker.finishing or tracker.resuming)),
                board, channel.run_key)
            await self._act(rig, tracker, decision, hello, channel, device_reset)
        await self.orphans.note_board_run(rig, hello)

    async def _act(self, rig: Rig, tracker: Tracker, decision: Settle, hello: Any,
                   channel: Any, device_reset: bool) -> None:
        """channel: the HELLO_ACK's record of the run's channel."""
        book, end = self.book, self.lifecycle.end
        run_key = tracker.run_key
        if decision is Settle.FAIL_BOARD_CHANGED:
            await end(tracker, "failed", error=(
                "the board behind %s changed: the run was started on board %s and the port "
                "now reaches board %s; the run is not resumed on another board"
                % (rig.name, tracker.run.board_id, board_text(hello.board_id))))
        elif decision is Settle.REATTACH:
            if tracker.run.state != "running":  # queued when the service died mid-start
                was = tracker.run.state
                await book.update(tracker, state="running")
                book.publish_state(tracker.run)
                await book.event(rig, run_key, "reattached", "the rig holds the run (it was "
                                 "%s here); following it again" % was)
            tracker.saw_next_seq(channel.next_seq)  # the backfill asks for what is missing
            if tracker.resume_sent is not None:
                # A resume's START_RUN reached the rig, its answer did not (the link went
                # down first): the rig runs the resumed run, which is said once, here.
                tracker.resume_pending = False
                await self._resumed(rig, tracker, *tracker.resume_sent)
            if tracker.aborting and channel.state == schema.STATE_RUNNING:
                await self._stop_aborted(rig, tracker)
            elif channel.state != schema.STATE_RUNNING:
                self.lifecycle.finish_soon(tracker)
            else:
                await book.event(rig, run_key, "reattached",
                                 "host reattached to the running run at seq %d"
                                 % channel.next_seq)
        elif decision is Settle.FAIL_NEVER_STARTED:
            await end(tracker, "failed", error="the run never started on the rig")
        elif decision is Settle.FAIL_CAME_BACK_WITHOUT:
            await end(tracker, "failed", error=(
                "the rig came back without the run (it was reset while out of reach); the "
                "samples up to the interruption are kept"))
        elif decision is Settle.FAIL_IMPORTED_LOST:
            await end(tracker, "failed", error=(
                "the rig lost the imported run; its program is not known here, so it is "
                "not resumed"))
        elif decision is Settle.RESUME:
            await self._resume(rig, tracker, device_reset)

    def resume_soon(self, tracker: Tracker) -> None:
        """A resume that failed on the link is tried again (from a heartbeat)."""
        if not (tracker.resuming or tracker.finishing or tracker.starting):
            tracker.resuming = True  # at once: a reconcile meanwhile must not resume twice
            asyncio.create_task(self._resume(tracker.rig, tracker, False),
                                name="resume-%d" % tracker.run.id)

    async def _resume(self, rig: Rig, tracker: Tracker, device_reset: bool) -> None:
        """The rig lost the run (a reset, or it ran something else), and with it every
        sample it had not sent: continue the run from the samples stored."""
        tracker.resuming = True
        tracker.resume_pending = False
        try:
            await self._resume_run(rig, tracker, device_reset)
        finally:
            tracker.resuming = False

    async def resume_paused(self, rig: Rig, tracker: Tracker) -> None:
        """A paused run goes on (after its check-up): from its stored samples, with its L0
        and held setpoint, its run clock (stress time) where it stopped."""
        tracker.resuming = True
        tracker.after_pause = True
        try:
            await self._resume_run(rig, tracker, False)
        finally:
            tracker.resuming = False

    async def _stored_l0_pd_pa(self, tracker: Tracker, cols: dict[str, Any]) -> int:
        """The run's L0 as the device counts it (pA above its dark offset), from the stored
        sample flagged FLAG_L0, else the EV_L0_CAPTURED event; 0 when neither arrived (the
        device then takes L0 anew).  The sample comes first: the gaps are closed before a
        resume, while an event may still be on its way over a faulty link."""
        flagged = (cols["flags"] & schema.FLAG_L0) != 0
        if flagged.any():
            pd_pa = int(round(float(cols["pd_a"][flagged][0]) * 1e12))
            return max(pd_pa - tracker.dark_pd_pa, 0)
        events = await asyncio.to_thread(self.book.store.list_events, run_id=tracker.run.id)
        for event in events:
            if event.code == schema.EV_L0_CAPTURED and event.data:
                return int(event.data["value"])
        return 0

    async def _resume_run(self, rig: Rig, tracker: Tracker, device_reset: bool) -> None:
        book = self.book
        run_key = tracker.run_key
        try:  # a HELLO_ACK taken before an earlier resume reached the rig is stale: ask
            status: Any = (await rig.link.acommand(schema.GET_STATUS, channel=tracker.channel,
                                                   tries=START_TRIES)).message
        except LinkError as exc:
            tracker.resume_pending = True
            await book.event(rig, run_key, "resume_failed", "could not resume the run: %s" % exc)
            return
        paused_here = tracker.after_pause and status.state != schema.STATE_RUNNING
        if status.run_key == run_key and not paused_here:
            # resumed already, or it ended there: never run it twice
            if tracker.resume_sent is not None:  # by a START_RUN whose answer was lost
                await self._resumed(rig, tracker, *tracker.resume_sent)
            if tracker.aborting and status.state == schema.STATE_RUNNING:
                await self._stop_aborted(rig, tracker)
            elif status.state != schema.STATE_RUNNING:
                self.lifecycle.finish_soon(tracker)
            return
        if tracker.aborting:
            # An abort met the reset that lost the run: it ends here, with what was stored.
            await self.recovery.give_up(tracker, tracker.device_next_seq,
                                        "lost in the rig's reset")
            await self.lifecycle.end(tracker, "aborted", stop_reason=schema.STOP_HOST_ABORT)
            return
        tracker.epoch += 1  # the rig's numbering restarts here: older recoveries stop
        tail_lost = await self.recovery.close_gaps_for_resume(tracker)
        # The START_RUN below numbers the rig's samples from next_seq again; the link sees it
        # and takes the seqs from there as new.
        next_seq = tracker.order.next_seq
        cols = await asyncio.to_thread(book.store.read_samples, tracker.run.id,
                                       None, None, ("t_s", "setpoint_v", "pd_a", "flags"))
        period_s = tracker.fields["sample_period_ms"] / 1000
        # The run clock goes on after the last stored sample and every period the rig is
        # known to have sampled since (its claimed count), so T-values keep the stress time.
        resume_t_s = ((float(cols["t_s"][-1]) + period_s * (1 + tail_lost))
                      if len(cols["t_s"]) else period_s * tail_lost)
        hold_mv = int(round(cols["setpoint_v"][-1] * 1000)) if len(cols["t_s"]) else None
        l0_pd_pa = await self._stored_l0_pd_pa(tracker, cols)
        fields = resume_fields(tracker.fields, next_seq=next_seq, resume_t_s=resume_t_s,
                               l0_pd_pa=l0_pd_pa, hold_setpoint_mv=hold_mv)
        tracker.resume_sent = (next_seq, resume_t_s, device_reset)
        try:
            reply = await rig.link.acommand(schema.START_RUN, tries=START_TRIES, **fields)
        except LinkError as exc:
            if tracker.resume_sent is None:
                return  # a reconnect meanwhile found the rig running it (Settle.REATTACH)
            tracker.resume_pending = True  # asked again at the rig's next heartbeat
            await book.event(rig, run_key, "resume_failed", "could not resume the run: %s" % exc)
            return
        if tracker.resume_sent is None:
            return  # said already: a reconnect meanwhile found the rig running it
        if not reply.ok:
            tracker.resume_sent = None
            await self.lifecycle.end(tracker, "failed", error=(
                "the rig lost the run (%s) and refused to resume it: %s"
                % ("reset" if device_reset else "not running", reply.error)))
            return
        await self._resumed(rig, tracker, next_seq, resume_t_s, device_reset)

    async def _stop_aborted(self, rig: Rig, tracker: Tracker) -> None:
        """The board runs a run whose abort met a reset: stop it, then end it `aborted`."""
        tracker.stop_reason = schema.STOP_HOST_ABORT
        await self.lifecycle.stop_key(rig, tracker.run_key, tracker.channel)
        self.lifecycle.finish_soon(tracker)

    async def _resumed(self, rig: Rig, tracker: Tracker, next_seq: int, resume_t_s: float,
                       device_reset: bool) -> None:
        """The rig runs the run again from next_seq: one `resumed` event, also when the
        START_RUN's answer was lost and the rig was found running it later."""
        tracker.resume_sent = None
        why = ("the check-up is over" if tracker.after_pause else
               "the rig was reset" if device_reset else "the rig had lost the run")
        tracker.after_pause = False
        await self.book.event(rig, tracker.run_key, "resumed",
                              "%s; run resumed at seq %d, t = %.1f s" % (why, next_seq,
                                                                         resume_t_s),
                              {"resume_seq": next_seq, "resume_t_s": resume_t_s})


def _device_dark_pd_pa(tracker: Tracker, flags: np.ndarray, pd_pa: np.ndarray) -> int:
    """The dark offset the device counted L0 from: the integer mean of the dark pause just
    before it (darkpause.py), else the host's calibrated dark."""
    dark = np.flatnonzero(dark_rows(flags))
    if not len(dark):
        return tracker.dark_pd_pa
    first = len(dark) - 1
    while first and dark[first - 1] == dark[first] - 1:
        first -= 1
    readings = pd_pa[dark[first:]]
    return int(readings.sum()) // len(readings)
