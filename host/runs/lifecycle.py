"""A run's life on the host: started (one start per rig), aborted, watched for a rig out of
reach, finished with the last samples and a summary, ended in the store and on the stream."""

import asyncio
import contextlib
import logging
import time
from typing import Any

from host import allocator
from host.link import DeviceReset, LinkError
from host.rigs import Rig, channel_text
from host.runkey import board_text, key_text, new_run_key
from host.runs.book import RunBook
from host.runs.errors import RunError
from host.runs.kinds import KINDS, RunKind
from host.runs.labels import RunLabels, apply_area
from host.runs.programs import BeyondTheRig
from host.runs.recovery import Recovery
from host.runs.sampling_budget import check_budget
from host.runs.sink import SampleSink
from host.runs.tracker import Tracker
from host.runs.units import Converter
from host.selftest.runner import refusal as selftest_refusal
from host.store import RigBusy
from host.store.records import Run
from photometry.photodiode import PhotodiodeCalibration
from protocol import names, schema

log = logging.getLogger(__name__)

COMPLETED_STOPS = (schema.STOP_COMPLETED, schema.STOP_LUMINANCE_FRACTION,
                   schema.STOP_MAX_DURATION)
FINISH_BACKFILL_S = 20.0  # wall time allowed to fetch the last missing samples
# START_RUN (and a resume) is the one command a run cannot do without: on a noisy link a
# 70-byte frame and its ACK may both need several tries (a repeat is idempotent on the rig).
START_TRIES = 12
# A running run whose rig has been out of reach for its host_loss_grace_s plus this (wall
# seconds) is `interrupted`: by then the board has stopped it on its own, if it ever will.
INTERRUPT_MARGIN_S = 5.0
LINK_WATCH_S = 1.0


def stop_text(reason: int) -> str:
    """A device stop reason's name (its number when the schema does not name it)."""
    return names.STOP_NAMES[reason] if 0 <= reason < len(names.STOP_NAMES) else str(reason)


class Lifecycle:
    """Starts, aborts, finishes and ends the runs of the book."""

    def __init__(self, book: RunBook, sink: SampleSink, recovery: Recovery):
        self.book = book
        self.sink = sink
        self.recovery = recovery
        self._start_locks: dict[str, asyncio.Lock] = {}

    def adopt(self, run: Run, rig: Rig, next_seq: int = 0) -> Tracker:
        """Follow run on rig; next_seq: the first seq not stored yet (samples are stored in
        order, so below it every seq is stored or was recorded lost)."""
        tracker = self.book.enter(run, rig, next_seq)
        self.recovery.watch(tracker)
        return tracker

    async def adopt_stored(self, run: Run, rig: Rig) -> Tracker:
        """Follow again a run with samples stored (a restart, a pause's end): from the seq
        after them, with its L0 and run clock as stored."""
        store = self.book.store
        top = await asyncio.to_thread(store.max_seq, run.id)
        tracker = self.adopt(run, rig, 0 if top is None else top + 1)
        if top is not None:
            cols = await asyncio.to_thread(store.read_samples, run.id, None, None,
                                           ("t_s", "luminance_cd_m2", "flags"))
            tracker.last_t_s = float(cols["t_s"].max())
            tracker.take_l0(cols)
            for event in await asyncio.to_thread(store.list_events, run_id=run.id):
                tracker.note_event(event.code, float((event.data or {}).get("t_s", 0.0)))
            # the rig card's trend goes on where it was (a long run: a fraction of a second)
            await asyncio.to_thread(tracker.trend.note, tracker, cols)
        if run.sequence_id is not None and run.checkup_of is None and run.state == "running":
            # Its sequence stopped it for a check-up and the service died before it was
            # `paused`: the rig's stop is still a pause (host.sequences.runner).
            sequence = await asyncio.to_thread(store.get_sequence, run.sequence_id)
            tracker.pausing = (sequence.cursor.get("phase") == "pausing"
                               and sequence.step_index == run.step_index)
        return tracker

    async def adopt_unfinished(self) -> None:
        """Follow again every run the store holds unfinished (a service restart)."""
        store = self.book.store
        for run in await asyncio.to_thread(store.unfinished_runs):
            rig = self.book.rigs.get(run.rig)
            if rig is None:
                await asyncio.to_thread(store.update_run, run.id, state="failed",
                                        error="rig %s is not served any more" % run.rig)
                continue
            try:
                await self.adopt_stored(run, rig)
            except Exception as exc:  # one damaged row must not keep the service down
                log.exception("run %d cannot be followed again", run.id)
                await asyncio.to_thread(
                    store.update_run, run.id, state="failed",
                    error="the service could not follow this run again: %s" % exc)

    # ------------------------------------------------------------------ starting

    async def start_run(self, kind: str, rig_name: str, params: Any, labels: RunLabels,
                        place: dict[str, int | None] | None = None, channel: int = 0) -> Run:
        """Check the rig is free, create the run and START_RUN it, one start per rig at a
        time: a start refused here leaves no run record behind. place: the run's place in
        a test sequence (sequence_id, step_index, checkup_of); channel: the rig's channel
        (pixel) to run on."""
        rig = self.book.rig_named(rig_name)
        async with self.start_lock(rig):
            return await self._start_run(kind, rig, params, labels, place or {}, channel)

    def start_lock(self, rig: Rig) -> asyncio.Lock:
        """Held while a run is started on the rig (or a paused one goes on)."""
        return self._start_locks.setdefault(rig.name, asyncio.Lock())

    async def _start_run(self, kind: str, rig: Rig, params: Any, labels: RunLabels,
                         place: dict[str, int | None], channel: int) -> Run:
        rig_name = rig.name
        store = self.book.store
        check_free(rig, channel)
        orphan = rig.orphans.get(channel)
        if orphan is not None and orphan["state"] == "running":
            raise RunError(409, "%s is running a run this service did not start (key %s); %s"
                           % (channel_text(rig_name, channel), orphan["run_key"],
                              orphan_actions(rig_name, channel)))
        if not rig.link.connected:
            raise RunError(409, "rig %s is not connected (%s)"
                           % (rig_name, rig.link.snapshot().get("detail") or rig.link.state))
        if kind == "photostability" and not rig.link.capabilities & schema.CAP_LASER:
            raise RunError(409, "rig %s has no laser (its board does not report one): a "
                           "photostability run needs the laser to excite the film" % rig_name)
        check_channel(rig, kind, channel)
        broken = await selftest_refusal(rig, kind, KINDS[kind].parts, channel)
        if broken is not None:
            raise RunError(409, broken)
        calibration = apply_area(await asyncio.to_thread(store.get_calibration, rig_name),
                                 labels)
        if KINDS[kind].needs_calibration and calibration is None:
            raise RunError(409, "rig %s has no photodiode calibration: PUT it to "
                           "/api/rigs/%s/calibration first" % (rig_name, rig_name))
        check_budget(rig, _check_can_run(KINDS[kind], params, calibration, rig_name))
        try:
            run = await asyncio.to_thread(store.create_run, rig_name, kind,
                                          params.model_dump(mode="json"),
                                          calibration=calibration, run_key=new_run_key(),
                                          board_id=board_text(rig.link.board_id),
                                          exclusive=True, labels=labels.stored(),
                                          channel=channel, **place)
        except RigBusy as exc:  # another service on this database started on the rig
            raise RunError(409, "%s in the database; another service may be running it"
                           % exc) from exc
        tracker = self.adopt(run, rig)
        tracker.starting = True
        try:
            reply = await rig.link.acommand(schema.START_RUN, tries=START_TRIES, **tracker.fields)
        except DeviceReset as exc:
            return await self._start_crossed_reset(rig, tracker, exc)
        except LinkError as exc:
            if tracker.stop_reason == schema.STOP_HOST_ABORT:
                await self._end_unless_ended(tracker, "aborted", "aborted before it started")
                return await asyncio.to_thread(store.get_run, run.id)
            await self._end_unless_ended(tracker, "failed",
                                         "the rig did not take the run: %s" % exc)
            raise RunError(503, "rig %s did not answer: %s" % (rig_name, exc)) from exc
        except ValueError as exc:  # a field the wire cannot carry
            await self._end_unless_ended(tracker, "failed", str(exc))
            raise RunError(422, str(exc)) from exc
        if tracker.stop_reason == schema.STOP_HOST_ABORT:
            return await self._abort_started(rig, tracker, reply.ok)
        if not reply.ok:
            await self.end(tracker, "failed", error=reply.error)
            raise RunError(409, reply.error or "refused")
        rig.orphans.pop(channel, None)  # the channel's ring now holds this run
        # The board that answered is the one measuring it, whatever the port reached before.
        await self.book.update(tracker, state="running", board_id=board_text(rig.link.board_id))
        tracker.starting = False
        self.book.publish_state(tracker.run)
        return tracker.run

    async def _start_crossed_reset(self, rig: Rig, tracker: Tracker, exc: LinkError) -> Run:
        """The rig reset while its START_RUN was in flight: the board that went down may have
        run the run (its samples are stored) and lost it, or never taken it. Either way the
        run goes on from what was stored, as after any reset: it is resumed at the rig's next
        heartbeat (never started over: its first samples would come again under new
        readings). An abort meanwhile ends it."""
        if tracker.stop_reason == schema.STOP_HOST_ABORT:
            tracker.starting = False
            await self._end_unless_ended(tracker, "aborted", "aborted before it started")
            return await asyncio.to_thread(self.book.store.get_run, tracker.run.id)
        await self.book.event(rig, tracker.run_key, "start_crossed_reset", (
            "the rig reset while its START_RUN was in flight (%s); the run goes on from what "
            "was stored" % exc))
        rig.orphans.pop(tracker.channel, None)
        await self.book.update(tracker, state="running", board_id=board_text(rig.link.board_id))
        tracker.resume_pending = True
        # Still `starting` until here: a reconnect meanwhile (the reset's own) waits rather
        # than find a queued run the board does not hold and fail it as never started.
        tracker.starting = False
        self.book.publish_state(tracker.run)
        return tracker.run

    async def _abort_started(self, rig: Rig, tracker: Tracker, taken: bool) -> Run:
        """An abort came while the START_RUN was in flight. Taken: the board runs it now, so
        it is stopped (STOP_RUN retried) and ends `aborted` with what it measured; else it
        ends `aborted` before it started."""
        if not taken:
            tracker.starting = False
            await self._end_unless_ended(tracker, "aborted", "aborted before it started")
            return await asyncio.to_thread(self.book.store.get_run, tracker.run.id)
        rig.orphans.pop(tracker.channel, None)
        await self.book.update(tracker, state="running", board_id=board_text(rig.link.board_id))
        tracker.starting = False  # (after: a reconnect meanwhile must not find it queued)
        await self.stop_key(rig, tracker.run_key, tracker.channel)
        self.finish_soon(tracker)
        return tracker.run

    async def _end_unless_ended(self, tracker: Tracker, state: str, error: str) -> None:
        if self.book.following(tracker):
            await self.end(tracker, state, error=error)

    # ------------------------------------------------------------------ aborting

    async def abort(self, run_id: int) -> Run:
        store = self.book.store
        run = await asyncio.to_thread(store.get_run, run_id)
        if run.finished:
            raise RunError(409, "run %d is already %s" % (run_id, run.state))
        tracker = self.book.trackers.get(run_id)
        if tracker is None and run.state == "paused":  # the rig is not running it
            return await self.end_paused(run, "aborted", "aborted while paused for a check-up")
        if tracker is None or run.state == "queued" and not tracker.starting:
            if tracker is not None:
                await self.end(tracker, "aborted", error="aborted before it started")
            return await asyncio.to_thread(store.get_run, run_id)
        if tracker.starting:
            # The START_RUN in flight settles it: whatever the board does with it, start_run
            # stops it (see _abort_started). Answer once the run has ended.
            tracker.stop_reason = schema.STOP_HOST_ABORT
            await self.book.event(tracker.rig, tracker.run_key, "abort_requested",
                                  "abort requested while the rig had not yet answered "
                                  "START_RUN; whatever it starts is stopped")
            return await self._ended(tracker, START_TRIES * 1.0 + FINISH_BACKFILL_S + 5)
        tracker.pausing = False  # an abort during a pause is an abort
        link = tracker.rig.link
        if run.state == "interrupted" and not link.connected:
            await self.end(tracker, "aborted", error=(
                "aborted while the rig was out of reach; the board stops a run on its own "
                "%.0f s after it last hears the host" % tracker.params.host_loss_grace_s))
            return await asyncio.to_thread(store.get_run, run_id)
        tracker.aborting = True
        try:
            reply = await link.acommand(schema.STOP_RUN, run_key=tracker.run_key,
                                        channel=tracker.channel)
        except DeviceReset as exc:
            return await self._abort_crossed_reset(tracker, exc)
        except LinkError as exc:
            tracker.aborting = False
            raise RunError(503, "rig %s did not answer the abort (%s); the device stops on its "
                           "own %.0f s after it last heard the host"
                           % (tracker.rig.name, exc, tracker.params.host_loss_grace_s)) from exc
        if not reply.ok:
            tracker.aborting = False
            raise RunError(409, reply.error or "refused")
        tracker.stop_reason = schema.STOP_HOST_ABORT
        self.finish_soon(tracker)
        # Every caller (concurrent aborts too) answers with the run as it ended.
        return await self._ended(tracker, FINISH_BACKFILL_S + 5)

    async def _abort_crossed_reset(self, tracker: Tracker, exc: LinkError) -> Run:
        """The rig reset while the abort's STOP_RUN was in flight: the reset stopped the run
        on the board, so the abort stands. The reconnect that follows ends the run `aborted`
        with what was stored, or stops it if the board still runs it; never resumes it
        (Reconnects, tracker.aborting). Answers once it has ended."""
        tracker.stop_reason = schema.STOP_HOST_ABORT
        await self.book.event(tracker.rig, tracker.run_key, "abort_crossed_reset", (
            "the rig reset while the abort was in flight (%s); the run ends aborted, not "
            "resumed" % exc))
        return await self._ended(tracker, START_TRIES * 1.0 + FINISH_BACKFILL_S + 5)

    async def _ended(self, tracker: Tracker, timeout_s: float) -> Run:
        """The run as stored once it has ended, or as it is after timeout_s."""
        deadline = time.monotonic() + timeout_s
        while self.book.following(tracker) and time.monotonic() < deadline:
            if tracker.finishing is not None:
                with contextlib.suppress(Exception):  # (its own errors are logged there)
                    await asyncio.wait_for(asyncio.shield(tracker.finishing),
                                           max(0.0, deadline - time.monotonic()))
            else:
                await asyncio.sleep(0.05)
        return await asyncio.to_thread(self.book.store.get_run, tracker.run.id)

    async def stop_key(self, rig: Rig, run_key: int, channel: int = 0) -> None:
        """STOP_RUN for run_key on its channel, retried; a NACK means the board runs
        something else there. Then a GET_STATUS, so that the rig's view (GET /api/rigs) shows
        the board stopped by the time the run that asked for the stop reads ended."""
        try:
            await rig.link.acommand(schema.STOP_RUN, run_key=run_key, channel=channel,
                                    tries=START_TRIES)
            await rig.link.acommand(schema.GET_STATUS, channel=channel, tries=1)
        except LinkError as exc:
            log.warning("rig %s: could not stop run key %s: %s", rig.name, key_text(run_key),
                        exc)

    # ------------------------------------------------------------------ pausing

    async def pause(self, run_id: int) -> Run:
        """Stop the stress of a running run for a check-up (host.sequences): the rig stops
        it, its last samples are fetched and it is `paused`, the rig free. The run goes on
        from its stored samples later (RunManager.resume). A run the rig ended meanwhile
        ends as it would have."""
        tracker = self.book.trackers.get(run_id)
        if tracker is None or tracker.run.state != "running" or tracker.finishing:
            run = await asyncio.to_thread(self.book.store.get_run, run_id)
            raise RunError(409, "run %d is %s, not running: it cannot be paused"
                           % (run_id, run.state))
        tracker.pausing = True
        try:
            reply = await tracker.rig.link.acommand(schema.STOP_RUN, run_key=tracker.run_key,
                                                    channel=tracker.channel, tries=START_TRIES)
        except LinkError as exc:
            tracker.pausing = False
            raise RunError(503, "rig %s did not answer the pause: %s"
                           % (tracker.rig.name, exc)) from exc
        if not reply.ok:
            tracker.pausing = False
            raise RunError(409, reply.error or "refused")
        if tracker.stop_reason is None:
            tracker.stop_reason = schema.STOP_HOST_ABORT
        self.finish_soon(tracker)
        return await self._ended(tracker, FINISH_BACKFILL_S + 5)

    async def _park(self, tracker: Tracker) -> None:
        """The rig stopped the run for a pause: store what waited, then `paused`, the rig
        free; the event says both clocks (stress time here, wall time in its stamp)."""
        await self.sink.settled(tracker)
        ready = tracker.order.release_all()
        if len(ready):
            await self.sink.store(tracker.rig, tracker, ready)
        await self.book.event(tracker.rig, tracker.run_key, "paused", (
            "stress paused at t = %.1f s of stress for a check-up" % tracker.last_t_s),
            {"stress_t_s": tracker.last_t_s, "next_seq": tracker.order.next_seq})
        await self.book.update(tracker, state="paused", progress=tracker.progress)
        self.book.leave(tracker)
        self.book.publish_state(tracker.run)

    async def end_paused(self, run: Run, state: str, error: str | None) -> Run:
        """End a paused run where it stands (nothing runs on the rig): summary, state."""
        try:
            summary = await self._summary(run)
        except Exception as exc:
            log.exception("run %d: no summary", run.id)
            summary = {"notes": ["no summary could be made: %s" % exc]}
        ended = await asyncio.to_thread(self.book.store.update_run, run.id, state=state,
                                        error=error, summary=summary)
        self.book.hub.publish(run.id, "end", ended.as_dict(calibration=False))
        return ended

    # ------------------------------------------------------------------ out of reach

    async def watch_links(self) -> None:
        """A run never stays `running` with nobody measuring it: once its rig has been out
        of reach past the run's host-loss grace (and a margin), it is `interrupted`."""
        while True:
            await asyncio.sleep(LINK_WATCH_S)
            now = time.monotonic()
            for rig in list(self.book.rigs.values()):  # (a rig may be renamed meanwhile)
                if rig.link is None or rig.link.connected:
                    rig.down_since = None
                    continue
                if rig.down_since is None:
                    rig.down_since = now
                for tracker in self.book.actives(rig):
                    if tracker.run.state != "running" or tracker.finishing:
                        continue
                    down_s = now - rig.down_since
                    if down_s > tracker.params.host_loss_grace_s + INTERRUPT_MARGIN_S:
                        await self._interrupt(tracker, down_s)

    async def _interrupt(self, tracker: Tracker, down_s: float) -> None:
        # The event first: whoever reads the run `interrupted` finds why beside it.
        await self.book.event(tracker.rig, tracker.run_key, "interrupted", (
            "the rig has been out of reach for %.0f s (host-loss grace %.0f s): nobody is "
            "measuring the run; it ends for good when the same board is back"
            % (down_s, tracker.params.host_loss_grace_s)))
        await self.book.update(tracker, state="interrupted", progress=tracker.progress)
        self.book.publish_state(tracker.run)

    # ------------------------------------------------------------------ finishing

    def finish_soon(self, tracker: Tracker) -> None:
        """The rig has stopped the run: fetch its last samples and end it (once)."""
        if tracker.finishing is None:
            tracker.finishing = asyncio.create_task(self._finish(tracker),
                                                    name="finish-%d" % tracker.run.id)

    async def _finish(self, tracker: Tracker) -> None:
        link = tracker.rig.link
        upto = None
        reason = tracker.stop_reason
        deadline = time.monotonic() + FINISH_BACKFILL_S
        while time.monotonic() < deadline:
            try:
                status = (await link.acommand(schema.GET_STATUS,
                                              channel=tracker.channel)).message
            except LinkError:
                await asyncio.sleep(0.5)
                continue
            if status.run_key == tracker.run_key:
                upto = status.next_seq - 1
                if reason is None:
                    reason = status.stop_reason
            break
        if upto is not None:  # the backfill fetches the tail; wait for it, up to the deadline
            tracker.device_next_seq = max(tracker.device_next_seq, upto + 1)
            while tracker.order.holes(upto) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await self.recovery.give_up(tracker, upto + 1, "never arrived")
        reason = schema.STOP_NONE if reason is None else reason
        if tracker.pausing and reason == schema.STOP_HOST_ABORT:
            try:
                await self._park(tracker)
                return
            except Exception as exc:  # the run ends all the same, and says why
                log.exception("run %d could not be paused", tracker.run.id)
                await self.end(tracker, "failed", error="the pause could not be stored: %s"
                               % exc)
                return
        if reason in COMPLETED_STOPS or (tracker.run.kind == "jvl"
                                         and reason == schema.STOP_COMPLIANCE):
            state, error = "completed", None
        elif reason == schema.STOP_HOST_ABORT:
            state, error = "aborted", None
        elif reason == schema.STOP_HOST_LOST:
            state, error = "aborted", ("the rig stopped the run: host_lost (it heard nothing "
                                       "from the host for host_loss_grace_s)")
        else:
            state, error = "failed", "the rig stopped the run: %s" % stop_text(reason)
        await self.end(tracker, state, error=error, stop_reason=reason)

    async def _summary(self, run: Run) -> dict[str, Any]:
        store = self.book.store
        kind = KINDS[run.kind]
        # What the run's live clients freed goes back first: the burst starts from the floor.
        await asyncio.to_thread(allocator.give_back)
        cols = await asyncio.to_thread(store.read_samples, run.id, columns=kind.summary_columns)
        del cols["seq"]  # read with every column, used by no summary: one column less held
        events = [e.as_dict() for e in await asyncio.to_thread(store.list_events, run_id=run.id)]
        return await asyncio.to_thread(kind.summarize, run.params, run.calibration, cols, events)

    async def end(self, tracker: Tracker, state: str, error: str | None = None,
                  stop_reason: int | None = None) -> None:
        """Store what waited, summarize, write the final state; the rig is free after."""
        run = tracker.run
        if tracker.backfill is not None:
            tracker.backfill.cancel()
        await self.sink.settled(tracker)  # the summary is read from the store
        ready = tracker.order.release_all()
        if len(ready):
            try:
                await self.sink.store(tracker.rig, tracker, ready)
            except Exception as exc:  # the run ends all the same, and says why
                state, error = "failed", "samples could not be stored: %s" % exc
        summary = None
        if run.state != "queued":
            try:
                summary = await self._summary(run)
            except Exception as exc:
                log.exception("run %d: no summary", run.id)
                summary = {"notes": ["no summary could be made: %s" % exc]}
            if stop_reason is not None:
                summary["stop_reason"] = stop_text(stop_reason)
        await self.book.update(tracker, state=state, error=error, summary=summary,
                               progress=1.0 if state == "completed" else tracker.progress)
        self.book.leave(tracker)
        self.book.hub.publish(run.id, "end", tracker.run.as_dict(calibration=False))
        await asyncio.to_thread(allocator.give_back)  # the summary's arrays, back to the system


def check_free(rig: Rig, channel: int) -> None:
    """RunError 409 while this service follows a run on the rig's channel: one run per
    channel, whatever else the board runs."""
    busy_id = rig.active_runs.get(channel)
    if busy_id is not None:
        raise RunError(409, "%s is busy with run %d; abort it (POST /api/runs/%d/abort) "
                       "or wait for it to end" % (channel_text(rig.name, channel), busy_id,
                                                  busy_id))


def orphan_actions(rig_name: str, channel: int) -> str:
    """What a person can do with the orphan run of a rig's channel, as the API asks it."""
    return ("stop it (POST /api/rigs/%s/orphan/stop?channel=%d) or import it "
            "(POST /api/rigs/%s/orphan/import?channel=%d)" % (rig_name, channel, rig_name,
                                                              channel))


def check_channel(rig: Rig, kind: str | None, channel: int) -> None:
    """RunError 422 for a channel the rig's board does not have (before its first handshake:
    any but 0), 409 for a photostability run on a channel the laser does not point at."""
    can = rig.link.channel_can or {0: schema.CAN_DRIVE | schema.CAN_PHOTODIODE
                                   | schema.CAN_LASER}
    if channel not in can:
        raise RunError(422, "rig %s has no channel %d: its board has channel%s %s"
                       % (rig.name, channel, "s" if len(can) > 1 else "",
                          ", ".join(str(c) for c in sorted(can))))
    if kind == "photostability" and not can[channel] & schema.CAN_LASER:
        lit = [str(c) for c in sorted(can) if can[c] & schema.CAN_LASER]
        raise RunError(409, "channel %d of rig %s is not where the laser points (channel %s): "
                       "a photostability run needs the laser on its film"
                       % (channel, rig.name, ", ".join(lit)))


def _check_can_run(kind: RunKind, params: Any, calibration: dict[str, Any] | None,
                   rig_name: str) -> dict[str, int]:
    """Everything a run needs from the rig's calibration, checked before a record exists;
    the START_RUN fields it would get."""
    try:
        converter = Converter(kind.light, PhotodiodeCalibration.model_validate(calibration)
                              if calibration else None)
        return kind.start_fields(params, converter, 1)
    except BeyondTheRig as exc:
        raise RunError(422, "rig %s: %s" % (rig_name, exc)) from exc
    except (ValueError, ArithmeticError) as exc:  # pydantic's ValidationError included
        raise RunError(409, "rig %s's stored calibration cannot serve this run (%s): PUT a "
                       "new one to /api/rigs/%s/calibration" % (rig_name, exc, rig_name)) from exc
