"""Running test sequences: each step's run started and followed to its end, waits kept,
a stress interrupted for its check-ups and resumed, all of it from what the store holds.

The runs table is the truth of where a sequence is (its runs carry sequence_id, step_index,
checkup_of); the sequence's `cursor` adds only what runs cannot say: where a stress's
check-up schedule stands and which phase of a check-up it is in. So a service killed at
any point goes on where it was: a step whose run exists is followed, not started again; a
stress stopped for a check-up is `paused` until its check-up has run, then resumed with its
stress time continuous.
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from host.rigs import channel_text
from host.runs.errors import RunError
from host.runs.labels import RunLabels
from host.runs.lifecycle import check_channel
from host.sequences.spec import Checkups, SequenceRequest, WaitStep
from host.store.records import Run, Sequence

log = logging.getLogger(__name__)

WATCH_S = 0.25  # how often a stress is looked at for a due check-up (wall s)
RETRY_S = 2.0  # a step that could not start (rig out of reach) is tried again after this
# L/L0 for a fraction mark: the median of this many newest lit samples (one noisy sample
# must not call a check-up early).
FRACTION_SAMPLES = 5


class SequenceFailed(Exception):
    """A step could not be done: the sequence fails with this text."""


class SequenceRunner:
    """Runs every unfinished sequence of the store, one task each."""

    def __init__(self, store: Any, runs: Any):
        self.store = store
        self.runs = runs  # host.runs.manager.RunManager
        self.tasks: dict[int, asyncio.Task] = {}

    async def start(self) -> None:
        """Go on with every sequence the store holds unfinished (a service restart)."""
        for sequence in await asyncio.to_thread(self.store.unfinished_sequences):
            if sequence.rig in self.runs.book.rigs:
                self._launch(sequence.id)
            else:
                await asyncio.to_thread(self.store.update_sequence, sequence.id,
                                        state="failed",
                                        error="rig %s is not served any more" % sequence.rig)

    async def stop(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    async def create(self, request: SequenceRequest) -> Sequence:
        """Store a validated sequence and begin it; 404/409/422 when the rig cannot."""
        rig = self.runs.book.rig_named(request.rig)
        check_channel(rig, None, request.channel)
        where = channel_text(rig.name, request.channel)
        busy = [s for s in await asyncio.to_thread(self.store.unfinished_sequences)
                if s.rig == rig.name and s.channel == request.channel]
        if busy:
            raise RunError(409, "%s is busy with sequence %d; abort it (POST "
                           "/api/sequences/%d/abort) or wait for it to end"
                           % (where, busy[0].id, busy[0].id))
        busy_run = rig.active_runs.get(request.channel)
        if busy_run is not None:
            raise RunError(409, "%s is busy with run %d" % (where, busy_run))
        sequence = await asyncio.to_thread(self.store.create_sequence, rig.name,
                                           request.channel, request.model_dump(mode="json"))
        self._launch(sequence.id)
        return sequence

    async def abort(self, sequence_id: int) -> Sequence:
        """Abort the step that runs (and a stress paused under its check-up); the rest of
        the steps never start."""
        sequence = await asyncio.to_thread(self.store.get_sequence, sequence_id)
        if sequence.finished:
            raise RunError(409, "sequence %d is already %s" % (sequence_id, sequence.state))
        task = self.tasks.pop(sequence_id, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for run in await asyncio.to_thread(self.store.sequence_runs, sequence_id):
            if not run.finished:
                try:
                    await self.runs.abort(run.id)
                except RunError as exc:
                    log.warning("sequence %d: run %d: %s", sequence_id, run.id, exc)
        return await asyncio.to_thread(self.store.update_sequence, sequence_id,
                                       state="aborted", error="aborted")

    # ------------------------------------------------------------------ one sequence

    def _launch(self, sequence_id: int) -> None:
        self.tasks[sequence_id] = asyncio.create_task(self._run(sequence_id),
                                                      name="sequence-%d" % sequence_id)

    async def _run(self, sequence_id: int) -> None:
        store = self.store
        try:
            sequence = await asyncio.to_thread(store.get_sequence, sequence_id)
            request = SequenceRequest.model_validate(sequence.spec)
            if sequence.state == "queued":
                sequence = await asyncio.to_thread(store.update_sequence, sequence_id,
                                                   state="running")
            for index in range(sequence.step_index, len(request.steps)):
                step = request.steps[index]
                if isinstance(step, WaitStep):
                    await self._wait(sequence_id, index, step.duration_s)
                else:
                    await self._run_step(sequence_id, index, request, step)
                await asyncio.to_thread(store.update_sequence, sequence_id,
                                        step_index=index + 1, cursor={})
            await asyncio.to_thread(store.update_sequence, sequence_id, state="completed")
        except asyncio.CancelledError:
            raise
        except SequenceFailed as exc:
            await asyncio.to_thread(store.update_sequence, sequence_id, state="failed",
                                    error=str(exc))
        except Exception as exc:
            log.exception("sequence %d", sequence_id)
            await asyncio.to_thread(store.update_sequence, sequence_id, state="failed",
                                    error="the sequence stopped on an error: %s" % exc)
        finally:
            if self.tasks.get(sequence_id) is asyncio.current_task():
                del self.tasks[sequence_id]

    async def _cursor(self, sequence_id: int) -> dict[str, Any]:
        return dict((await asyncio.to_thread(self.store.get_sequence, sequence_id)).cursor)

    async def _save(self, sequence_id: int, cursor: dict[str, Any]) -> None:
        await asyncio.to_thread(self.store.update_sequence, sequence_id, cursor=cursor)

    async def _wait(self, sequence_id: int, index: int, duration_s: float) -> None:
        """Outputs off (nothing runs) until the wait's end, kept across a restart."""
        cursor = await self._cursor(sequence_id)
        if "wait_until" not in cursor:
            cursor["wait_until"] = (datetime.now(UTC) + timedelta(seconds=duration_s)
                                    ).isoformat()
            await self._save(sequence_id, cursor)
        until = datetime.fromisoformat(cursor["wait_until"])
        await asyncio.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()))

    async def _run_step(self, sequence_id: int, index: int, request: SequenceRequest,
                        step: Any) -> None:
        run = await self._step_run(sequence_id, index)
        if run is None:
            run = await self._start(sequence_id, request, step.kind, step.params,
                                    {"step_index": index})
        checkups = getattr(step, "checkups", None)
        if checkups is not None:
            run = await self._stress(sequence_id, index, request, run, checkups)
        else:
            run = await self._until_ended(run.id)
        if run.state != "completed":
            raise SequenceFailed("step %d (%s, run %d) ended %s%s" % (
                index, step.kind, run.id, run.state, ": %s" % run.error if run.error else ""))

    async def _step_run(self, sequence_id: int, index: int) -> Run | None:
        """The step's run made before a restart, unless it failed to start."""
        runs = await asyncio.to_thread(self.store.sequence_runs, sequence_id)
        mine = [r for r in runs if r.step_index == index and r.checkup_of is None]
        return mine[-1] if mine and not _never_started(mine[-1]) else None

    async def _start(self, sequence_id: int, request: SequenceRequest, kind: str,
                     params: Any, place: dict[str, int]) -> Run:
        """Start a run of the sequence; a rig out of reach is waited for, any other
        refusal fails the sequence."""
        labels = RunLabels(device=request.device, operator=request.operator,
                           notes=request.notes, tags=request.tags)
        while True:
            try:
                return await self.runs.start_run(kind, request.rig, params, labels,
                                                 {"sequence_id": sequence_id, **place},
                                                 channel=request.channel)
            except RunError as exc:
                if exc.status != 503 and "not connected" not in exc.message:
                    raise SequenceFailed("step %d (%s) could not start: %s"
                                         % (place["step_index"], kind, exc.message)) from exc
            await asyncio.sleep(RETRY_S)

    async def _until_ended(self, run_id: int) -> Run:
        while True:
            run = await asyncio.to_thread(self.store.get_run, run_id)
            if run.finished:
                return run
            await asyncio.sleep(WATCH_S)

    # ------------------------------------------------------------------ check-ups

    async def _stress(self, sequence_id: int, index: int, request: SequenceRequest, run: Run,
                      checkups: Checkups) -> Run:
        """Follow the stress; when a check-up is due, pause it, run the check-up, resume.
        When the stress ends at a fraction mark (its own stop), that check-up follows it."""
        cursor = await self._cursor(sequence_id)
        cursor.setdefault("phase", "stress")
        cursor.setdefault("fractions_done", [])
        if checkups.every_s is not None:
            cursor.setdefault("next_at_s", checkups.every_s)
        stop_fraction = run.params.get("stop_fraction")
        while True:
            phase = cursor["phase"]
            if phase == "stress":
                run = await self._until_due(run.id, cursor, checkups, stop_fraction)
                if run.finished:
                    break
                cursor["phase"] = "pausing"
                await self._save(sequence_id, cursor)
            elif phase == "pausing":
                run = await asyncio.to_thread(self.store.get_run, run.id)
                if run.state in ("running", "interrupted"):
                    try:
                        run = await self.runs.pause(run.id)
                    except RunError as exc:
                        log.warning("sequence %d: pause: %s", sequence_id, exc.message)
                        await asyncio.sleep(RETRY_S)
                        continue
                if run.finished:  # it ended on its own before the pause took
                    break
                if run.state != "paused":
                    await asyncio.sleep(WATCH_S)
                    continue
                cursor["phase"] = "checkup"
                cursor["checkups_before"] = len(await self._checkups_of(sequence_id, run.id))
                await self._save(sequence_id, cursor)
            elif phase == "checkup":
                await self._checkup(sequence_id, index, request, run, checkups, cursor)
                cursor["phase"] = "resuming"
                await self._save(sequence_id, cursor)
            elif phase == "resuming":
                run = await asyncio.to_thread(self.store.get_run, run.id)
                if run.state == "paused":
                    try:
                        run = await self.runs.resume(run.id)
                    except RunError as exc:
                        log.warning("sequence %d: resume: %s", sequence_id, exc.message)
                        await asyncio.sleep(RETRY_S)
                        continue
                cursor["phase"] = "stress"
                await self._save(sequence_id, cursor)
            else:  # "final": the stress ended and its last check-up was begun
                run = await asyncio.to_thread(self.store.get_run, run.id)
                break
        if cursor["phase"] != "final":
            # The stress stopped itself at a mark: that mark's check-up follows it.
            final = [f for f in checkups.at_fractions if f not in cursor["fractions_done"]
                     and stop_fraction is not None and f >= stop_fraction]
            if not (final and run.state == "completed" and (run.summary or {}).get(
                    "stop_reason") == "luminance_fraction"):
                return run
            cursor["fractions_done"] += final
            cursor["phase"] = "final"
            cursor["checkups_before"] = len(await self._checkups_of(sequence_id, run.id))
            await self._save(sequence_id, cursor)
        await self._checkup(sequence_id, index, request, run, checkups, cursor)
        return run

    async def _until_due(self, run_id: int, cursor: dict[str, Any], checkups: Checkups,
                         stop_fraction: float | None) -> Run:
        """Watch the stress until it ends or a check-up is due (the marks passed noted in
        cursor): every_s of stress time, or L/L0 at a mark above the run's own stop."""
        while True:
            tracker = self.runs.book.trackers.get(run_id)
            if tracker is None or tracker.run.state != "running" or tracker.finishing:
                run = await asyncio.to_thread(self.store.get_run, run_id)
                if run.finished:
                    return run
                await asyncio.sleep(WATCH_S)
                continue
            due = False
            next_at_s = cursor.get("next_at_s")
            if next_at_s is not None and tracker.last_t_s >= next_at_s:
                while next_at_s <= tracker.last_t_s:
                    next_at_s += checkups.every_s or 0
                cursor["next_at_s"] = next_at_s
                due = True
            ratio = _l_over_l0(tracker)
            if ratio is not None:
                passed = [f for f in checkups.at_fractions
                          if f not in cursor["fractions_done"] and ratio <= f
                          and (stop_fraction is None or f > stop_fraction)]
                if passed:
                    cursor["fractions_done"] += passed
                    due = True
            if due:
                return tracker.run
            await asyncio.sleep(WATCH_S)

    async def _checkups_of(self, sequence_id: int, run_id: int) -> list[Run]:
        runs = await asyncio.to_thread(self.store.sequence_runs, sequence_id)
        return [r for r in runs if r.checkup_of == run_id]

    async def _checkup(self, sequence_id: int, index: int, request: SequenceRequest,
                       stress: Run, checkups: Checkups, cursor: dict[str, Any]) -> None:
        """The check-up sweep, started once (found again after a restart) and followed to
        its end; a check-up that fails is noted and the stress goes on."""
        mine = (await self._checkups_of(sequence_id, stress.id))[cursor["checkups_before"]:]
        started = [r for r in mine if not _never_started(r)]
        if started:
            run = started[0]
        else:
            run = await self._start(sequence_id, request, "jvl", checkups.step.params,
                                    {"step_index": index, "checkup_of": stress.id})
        run = await self._until_ended(run.id)
        if run.state != "completed":
            await asyncio.to_thread(
                self.store.add_event, "checkup_failed", "check-up run %d ended %s%s; the "
                "stress goes on" % (run.id, run.state, ": %s" % run.error if run.error else ""),
                rig=stress.rig, run_id=stress.id, data={"checkup_run_id": run.id},
                key="checkup_failed:%d" % run.id)


def _never_started(run: Run) -> bool:
    """A run the rig never took (its START_RUN refused or unanswered)."""
    return run.state == "failed" and run.started_at is None


def _l_over_l0(tracker: Any) -> float | None:
    """L/L0 of the stress now: the median of the newest lit samples over L0."""
    if not tracker.l0_cd_m2 or not tracker.recent_cd_m2:
        return None
    recent = list(tracker.recent_cd_m2)[-FRACTION_SAMPLES:]
    return float(np.median(recent)) / tracker.l0_cd_m2
