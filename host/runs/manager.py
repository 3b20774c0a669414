"""Runs: start a run program on a rig, store every sample, follow it, finish it with a summary.

One task per rig consumes its link's deliveries in order. A run is known on the wire by its
run key (host.runkey), drawn at random when it is created and stored with it, and by the
board it was started on. The host adopts only what it started: a restarted service finds
its run again from HELLO_ACK (reattach and backfill when the board kept running, finish
when it ended meanwhile, resume with the same seq and run clock onward when the board was
reset and lost it), never on another board; a run the board holds under a key this store
does not know is an orphan, shown on the rig, never filed under a run of ours.
"""

import asyncio
import contextlib
import logging
import time
from typing import Any

import numpy as np
import sqlalchemy as sa

from host import link as dl
from host.adoption import BoardRun, FollowedRun, Settle, StoredRun, board_run, files_under, settle
from host.analysis.photometry import PhotodiodeCalibration
from host.link import LinkError
from host.link.wire import fault_name
from host.live.fanout import Hub
from host.rigs import Rig
from host.runkey import board_text, key_text, new_run_key
from host.runs.ordering import SeqOrder, seq_ranges
from host.runs.params import JvlParams, LifetimeParams, PhotostabilityParams
from host.runs.programs import resume_fields, start_run_fields
from host.runs.summaries import summarize_run
from host.runs.units import Converter
from host.store import RigBusy, Store
from host.store.columns import json_rows
from host.store.records import Run
from protocol import schema

log = logging.getLogger(__name__)

PARAMS = {"lifetime": LifetimeParams, "photostability": PhotostabilityParams, "jvl": JvlParams}
LIVE_COLUMNS = ("seq", "t_s", "voltage_v", "current_a", "luminance_cd_m2", "pl",
                "temperature_c", "humidity_pct", "shutter_open", "setpoint_v", "flags")
COMPLETED_STOPS = (schema.STOP_COMPLETED, schema.STOP_LUMINANCE_FRACTION,
                   schema.STOP_MAX_DURATION)
FINISH_BACKFILL_S = 20.0  # wall time allowed to fetch the last missing samples
# Backfill (RunManager._backfill): every BACKFILL_PERIOD_S the missing seqs are asked for
# again, a range at most every BACKFILL_RETRY_S; ranges apart by at most BACKFILL_MERGE
# seqs go in one RESEND (the rig re-sends the few between), at most BACKFILL_ASKS at once.
BACKFILL_PERIOD_S = 0.1
BACKFILL_RETRY_S = 0.25
BACKFILL_MERGE = 8
BACKFILL_ASKS = 32
PROGRESS_WRITE_S = 1.0
# A sample batch that finds the queue empty waits this long for the ones behind it: a fast
# (or accelerated) rig sends one sample per frame, and storing and publishing each alone
# costs the service far more per sample than the samples of 20 ms together.
INGEST_WINDOW_S = 0.02
RESEND_SPAN = 256
# START_RUN (and a resume) is the one command a run cannot do without: on a noisy link a
# 70-byte frame and its ACK may both need several tries (a repeat is idempotent on the rig).
START_TRIES = 12
# A running run whose rig has been out of reach for its host_loss_grace_s plus this (wall
# seconds) is `interrupted`: by then the board has stopped it on its own, if it ever will.
INTERRUPT_MARGIN_S = 5.0
LINK_WATCH_S = 1.0
# What a board's run mode was started as, for a run imported from it.
KIND_OF_MODE = {schema.MODE_CONSTANT_VOLTAGE: "lifetime", schema.MODE_CONSTANT_CURRENT: "lifetime",
                schema.MODE_SWEEP: "jvl", schema.MODE_PHOTOSTABILITY: "photostability"}


STORE_TRIES = 3
STORE_RETRY_S = 0.5


class SampleNotStorable(Exception):
    """Samples of a run that the store cannot take: a value out of range, a database down."""


class RunError(Exception):
    """A run request that cannot be carried out; status is the HTTP status to answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _stop_text(reason: int) -> str:
    return schema.STOP_NAMES[reason] if 0 <= reason < len(schema.STOP_NAMES) else str(reason)


class Tracker:
    """What the host follows of one unfinished run."""

    def __init__(self, run: Run, rig: Rig, next_seq: int = 0):
        self.run = run
        self.rig = rig
        self.params = PARAMS[run.kind].model_validate(run.params)
        calibration = (PhotodiodeCalibration.model_validate(run.calibration)
                       if run.calibration else None)
        self.converter = Converter(run.kind, calibration)
        self.dark_pd_pa = int(round(self.converter.dark_a * 1e12))
        assert run.run_key, "a followed run has a run key"
        self.run_key: int = run.run_key
        self.fields = start_run_fields(run.kind, self.params, self.converter, self.run_key,
                                       self.dark_pd_pa)
        self.l0_cd_m2: float | None = None
        self.pl0: float | None = None
        self.last_t_s = 0.0
        self.last_setpoint_mv: int | None = None
        self.progress = run.progress
        self.progress_written_at = 0.0
        self.finishing: asyncio.Task | None = None
        self.stop_reason: int | None = None
        self.starting = False  # START_RUN sent and not answered yet: no reconcile meanwhile
        self.resuming = False
        # Samples are stored in seq order; next_seq: the first not stored (or given up).
        self.order = SeqOrder(next_seq)
        self.epoch = 0  # bumped when a resume renumbers: answers about older seqs are stale
        self.device_next_seq = 0  # the most the rig has said it took (HEARTBEAT, HELLO_ACK)
        self.backfill: asyncio.Task | None = None
        self.resume_pending = False  # a resume failed on the link: try at the next heartbeat

    def note_samples(self, cols: dict[str, np.ndarray]) -> dict[str, Any]:
        """Advance progress from a batch of stored columns; the live progress message."""
        t = float(cols["t_s"][-1])
        self.last_t_s = max(self.last_t_s, t)
        self.last_setpoint_mv = int(round(cols["setpoint_v"][-1] * 1000))
        message: dict[str, Any] = {"t_s": t, "voltage_v": float(cols["voltage_v"][-1])}
        kind = self.run.kind
        if kind == "lifetime":
            p: LifetimeParams = self.params
            fraction = self.progress
            lum = float(cols["luminance_cd_m2"][-1])
            if self.l0_cd_m2 and np.isfinite(lum):
                ratio = lum / self.l0_cd_m2
                message["l_over_l0"] = ratio
                message["l0_cd_m2"] = self.l0_cd_m2
                fraction = max(fraction, min(1.0, (1 - ratio) / (1 - p.stop_fraction)))
            fraction = max(fraction, min(1.0, t / p.max_duration_s))
        elif kind == "photostability":
            q: PhotostabilityParams = self.params
            pl = cols["pl"]
            if self.pl0 is None and len(pl) and np.isfinite(pl[0]) and pl[0] > 0:
                self.pl0 = float(pl[0])
            if self.pl0:
                message["pl_fraction"] = float(pl[-1]) / self.pl0
            fraction = min(1.0, t / q.duration_s)
        else:
            j: JvlParams = self.params
            fraction = min(1.0, max(0.0, (self.last_setpoint_mv / 1000 - j.start_v)
                                    / (j.stop_v - j.start_v)))
        self.progress = max(self.progress, min(fraction, 0.999))
        message["progress"] = self.progress
        if 0.02 < self.progress < 1 and t > 0:
            message["eta_s"] = t * (1 - self.progress) / self.progress
        return message


class RunManager:
    """Owns run trackers and the per-rig delivery tasks; the API calls start/abort."""

    def __init__(self, store: Store, hub: Hub, rigs: dict[str, Rig]):
        self.store = store
        self.hub = hub
        self.rigs = rigs
        self.trackers: dict[int, Tracker] = {}
        self._by_key: dict[int, Tracker] = {}
        self._start_locks: dict[str, asyncio.Lock] = {}
        self._tasks: list[asyncio.Task] = []
        self.samples_stored = 0

    async def start(self) -> None:
        """Adopt unfinished runs from the database, then follow every rig's link."""
        for run in await asyncio.to_thread(self.store.unfinished_runs):
            rig = self.rigs.get(run.rig)
            if rig is None:
                await asyncio.to_thread(
                    self.store.update_run, run.id, state="failed",
                    error="rig %s is not served any more" % run.rig)
                continue
            try:
                top = await asyncio.to_thread(self.store.max_seq, run.id)
                self._adopt(run, rig, 0 if top is None else top + 1)
            except Exception as exc:  # one damaged row must not keep the service down
                log.exception("run %d cannot be followed again", run.id)
                await asyncio.to_thread(
                    self.store.update_run, run.id, state="failed",
                    error="the service could not follow this run again: %s" % exc)
        for rig in self.rigs.values():
            queue = rig.link.async_queue()
            self._tasks.append(asyncio.create_task(self._follow(rig, queue),
                                                   name="rig-%s" % rig.name))
            rig.link.start()  # after the queue listens: no Connected is missed
        self._tasks.append(asyncio.create_task(self._watch_links(), name="link-watch"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for tracker in self.trackers.values():
            for task in (tracker.finishing, tracker.backfill):
                if task is not None:
                    task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _adopt(self, run: Run, rig: Rig, next_seq: int = 0) -> Tracker:
        """Follow run on rig; next_seq: the first seq not stored yet (samples are stored in
        order, so below it every seq is stored or was recorded lost)."""
        tracker = Tracker(run, rig, next_seq)
        tracker.backfill = asyncio.create_task(self._backfill(tracker),
                                               name="backfill-%d" % run.id)
        self.trackers[run.id] = tracker
        self._by_key[tracker.run_key] = tracker
        rig.active_run_id = run.id
        return tracker

    def _tracker(self, rig: Rig, run_key: int) -> Tracker | None:
        """The followed run with this key on this rig, if any."""
        tracker = self._by_key.get(run_key) if run_key else None
        return tracker if tracker is not None and tracker.rig is rig else None

    def _active(self, rig: Rig) -> Tracker | None:
        return self.trackers.get(rig.active_run_id) if rig.active_run_id is not None else None

    # ------------------------------------------------------------------ API side

    async def start_run(self, kind: str, rig_name: str, params: Any) -> Run:
        """Check the rig is free, create the run and START_RUN it, one start per rig at a
        time: a start refused here leaves no run record behind."""
        rig = self._rig(rig_name)
        async with self._start_locks.setdefault(rig.name, asyncio.Lock()):
            return await self._start_run(kind, rig, params)

    async def _start_run(self, kind: str, rig: Rig, params: Any) -> Run:
        rig_name = rig.name
        if rig.active_run_id is not None:
            raise RunError(409, "rig %s is busy with run %d; abort it (POST /api/runs/%d/abort) "
                           "or wait for it to end" % (rig_name, rig.active_run_id,
                                                      rig.active_run_id))
        orphan = rig.orphan
        if orphan is not None and orphan["state"] == "running":
            raise RunError(409, "rig %s is running a run this service did not start (key %s); "
                           "stop it (POST /api/rigs/%s/orphan/stop) or import it "
                           "(POST /api/rigs/%s/orphan/import)"
                           % (rig_name, orphan["run_key"], rig_name, rig_name))
        if not rig.link.connected:
            raise RunError(409, "rig %s is not connected (%s)"
                           % (rig_name, rig.link.snapshot().get("detail") or rig.link.state))
        calibration = await asyncio.to_thread(self.store.get_calibration, rig_name)
        if kind in ("lifetime", "jvl") and calibration is None:
            raise RunError(409, "rig %s has no photodiode calibration: PUT it to "
                           "/api/rigs/%s/calibration first" % (rig_name, rig_name))
        _check_can_run(kind, params, calibration, rig_name)
        try:
            run = await asyncio.to_thread(self.store.create_run, rig_name, kind,
                                          params.model_dump(mode="json"),
                                          calibration=calibration, run_key=new_run_key(),
                                          board_id=board_text(rig.link.board_id),
                                          exclusive=True)
        except RigBusy as exc:  # another service on this database started on the rig
            raise RunError(409, "%s in the database; another service may be running it"
                           % exc) from exc
        tracker = self._adopt(run, rig)
        tracker.starting = True
        try:
            reply = await rig.link.acommand(schema.START_RUN, tries=START_TRIES, **tracker.fields)
        except LinkError as exc:
            if tracker.stop_reason == schema.STOP_HOST_ABORT:
                await self._end_unless_ended(tracker, "aborted", "aborted before it started")
                return await asyncio.to_thread(self.store.get_run, run.id)
            await self._end_unless_ended(tracker, "failed",
                                         "the rig did not take the run: %s" % exc)
            raise RunError(503, "rig %s did not answer: %s" % (rig_name, exc)) from exc
        except ValueError as exc:  # a field the wire cannot carry
            await self._end_unless_ended(tracker, "failed", str(exc))
            raise RunError(422, str(exc)) from exc
        if tracker.stop_reason == schema.STOP_HOST_ABORT:
            return await self._abort_started(rig, tracker, reply.ok)
        if not reply.ok:
            await self._end(tracker, "failed", error=reply.error)
            raise RunError(409, reply.error or "refused")
        rig.orphan = None  # the board's ring now holds this run
        # The board that answered is the one measuring it, whatever the port reached before.
        tracker.run = await asyncio.to_thread(self.store.update_run, run.id, state="running",
                                              board_id=board_text(rig.link.board_id))
        tracker.starting = False
        self.hub.publish(run.id, "state", tracker.run.as_dict(calibration=False))
        return tracker.run

    async def _abort_started(self, rig: Rig, tracker: Tracker, taken: bool) -> Run:
        """An abort came while the START_RUN was in flight. Taken: the board runs it now, so
        it is stopped (STOP_RUN retried) and ends `aborted` with what it measured; else it
        ends `aborted` before it started."""
        tracker.starting = False
        if not taken:
            await self._end_unless_ended(tracker, "aborted", "aborted before it started")
            return await asyncio.to_thread(self.store.get_run, tracker.run.id)
        rig.orphan = None
        tracker.run = await asyncio.to_thread(self.store.update_run, tracker.run.id,
                                              state="running",
                                              board_id=board_text(rig.link.board_id))
        await self._stop_key(rig, tracker.run_key)
        self._finish_soon(tracker)
        return tracker.run

    async def _end_unless_ended(self, tracker: Tracker, state: str, error: str) -> None:
        if tracker.run.id in self.trackers:
            await self._end(tracker, state, error=error)

    async def abort(self, run_id: int) -> Run:
        run = await asyncio.to_thread(self.store.get_run, run_id)
        if run.finished:
            raise RunError(409, "run %d is already %s" % (run_id, run.state))
        tracker = self.trackers.get(run_id)
        if tracker is None or run.state == "queued" and not tracker.starting:
            if tracker is not None:
                await self._end(tracker, "aborted", error="aborted before it started")
            return await asyncio.to_thread(self.store.get_run, run_id)
        if tracker.starting:
            # The START_RUN in flight settles it: whatever the board does with it, start_run
            # stops it (see _abort_started). Answer once the run has ended.
            tracker.stop_reason = schema.STOP_HOST_ABORT
            await self._event(tracker.rig, tracker.run_key, "abort_requested",
                              "abort requested while the rig had not yet answered START_RUN; "
                              "whatever it starts is stopped")
            return await self._ended(tracker, START_TRIES * 1.0 + FINISH_BACKFILL_S + 5)
        link = tracker.rig.link
        if run.state == "interrupted" and not link.connected:
            await self._end(tracker, "aborted", error=(
                "aborted while the rig was out of reach; the board stops a run on its own "
                "%.0f s after it last hears the host" % tracker.params.host_loss_grace_s))
            return await asyncio.to_thread(self.store.get_run, run_id)
        try:
            reply = await link.acommand(schema.STOP_RUN, run_key=tracker.run_key)
        except LinkError as exc:
            raise RunError(503, "rig %s did not answer the abort (%s); the device stops on its "
                           "own %.0f s after it last heard the host"
                           % (tracker.rig.name, exc, tracker.params.host_loss_grace_s)) from exc
        if not reply.ok:
            raise RunError(409, reply.error or "refused")
        tracker.stop_reason = schema.STOP_HOST_ABORT
        self._finish_soon(tracker)
        # Every caller (concurrent aborts too) answers with the run as it ended.
        return await self._ended(tracker, FINISH_BACKFILL_S + 5)

    async def _ended(self, tracker: Tracker, timeout_s: float) -> Run:
        """The run as stored once it has ended, or as it is after timeout_s."""
        deadline = time.monotonic() + timeout_s
        while tracker.run.id in self.trackers and time.monotonic() < deadline:
            if tracker.finishing is not None:
                with contextlib.suppress(Exception):  # (its own errors are logged there)
                    await asyncio.wait_for(asyncio.shield(tracker.finishing),
                                           max(0.0, deadline - time.monotonic()))
            else:
                await asyncio.sleep(0.05)
        return await asyncio.to_thread(self.store.get_run, tracker.run.id)

    def _rig(self, rig_name: str) -> Rig:
        rig = self.rigs.get(rig_name)
        if rig is None:
            raise RunError(404, "no rig named %r; rigs: %s" % (rig_name, ", ".join(self.rigs)))
        return rig

    async def stop_orphan(self, rig_name: str) -> dict[str, Any]:
        """Stop the run the board holds for nobody here; the board makes its outputs safe."""
        rig = self._rig(rig_name)
        orphan = self._orphan_of(rig)
        try:
            reply = await rig.link.acommand(schema.STOP_RUN, run_key=int(orphan["run_key"], 16))
            if not reply.ok:
                raise RunError(409, reply.error or "refused")
            status: Any = (await rig.link.acommand(schema.GET_STATUS)).message
        except LinkError as exc:
            raise RunError(503, "rig %s did not answer: %s" % (rig_name, exc)) from exc
        await self._event(rig, None, "orphan_stopped", "stopped run key %s, which this service "
                          "did not start" % orphan["run_key"], {"run_key": orphan["run_key"]})
        self._note_orphan(rig, status)
        return self._describe_orphan(rig, orphan)

    async def import_orphan(self, rig_name: str) -> Run:
        """File the board's orphan run as a new run (imported) and fetch every sample the
        board still holds; a running one is followed from then on like any other."""
        rig = self._rig(rig_name)
        orphan = self._orphan_of(rig)
        if rig.active_run_id is not None:
            raise RunError(409, "rig %s is busy with run %d" % (rig_name, rig.active_run_id))
        try:
            status: Any = (await rig.link.acommand(schema.GET_STATUS)).message
        except LinkError as exc:
            raise RunError(503, "rig %s did not answer: %s" % (rig_name, exc)) from exc
        key = int(orphan["run_key"], 16)
        if status.run_key != key:
            self._note_orphan(rig, status)
            raise RunError(409, "the rig no longer holds run key %s" % orphan["run_key"])
        kind = KIND_OF_MODE.get(status.mode)
        if kind is None:
            raise RunError(409, "run key %s has no run mode the service knows (%d)"
                           % (orphan["run_key"], status.mode))
        calibration = await asyncio.to_thread(self.store.get_calibration, rig.name)
        run = await asyncio.to_thread(
            self.store.create_run, rig.name, kind, _imported_params(kind, status),
            calibration=calibration, run_key=key, board_id=board_text(rig.link.board_id),
            imported=True, state="running")
        rig.orphan = None
        tracker = self._adopt(run, rig)
        tracker.device_next_seq = status.next_seq
        # What the link saw of it while nobody here wanted it was not stored: want it all.
        rig.link.forget_run(key)
        rig.link.track_run(key, 0)
        await self._event(rig, key, "imported", "run key %s imported from the rig: %s, %d "
                          "samples taken, seq %d onward still held; its parameters are not "
                          "known here (defaults recorded)"
                          % (orphan["run_key"], schema.MODE_NAMES[status.mode],
                             status.next_seq, status.oldest_seq),
                          {"run_key": orphan["run_key"], "next_seq": status.next_seq,
                           "oldest_seq": status.oldest_seq})
        if status.state != schema.STATE_RUNNING:
            tracker.stop_reason = status.stop_reason
            self._finish_soon(tracker)
        self.hub.publish(run.id, "state", run.as_dict(calibration=False))
        return run

    def _orphan_of(self, rig: Rig) -> dict[str, Any]:
        if rig.orphan is None:
            raise RunError(404, "rig %s holds no run that this service did not start" % rig.name)
        if not rig.link.connected:
            raise RunError(409, "rig %s is not connected" % rig.name)
        return rig.orphan

    @staticmethod
    def _describe_orphan(rig: Rig, stopped: dict[str, Any]) -> dict[str, Any]:
        return {"rig": rig.name, "stopped": stopped, "orphan_run": rig.orphan}

    # ------------------------------------------------------------------ link side

    async def _follow(self, rig: Rig, queue: asyncio.Queue) -> None:
        while True:
            items = [await queue.get()]
            if isinstance(items[0], dl.SampleBatch) and queue.empty():
                await asyncio.sleep(INGEST_WINDOW_S)
            while not queue.empty() and len(items) < 512:
                items.append(queue.get_nowait())
            pending: list[dl.SampleBatch] = []
            for item in items:
                if isinstance(item, dl.SampleBatch):
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

    async def _ingest(self, rig: Rig, batches: list[dl.SampleBatch]) -> None:
        """Store each batch under the run whose key it carries, and under no other."""
        by_key: dict[int, list[dl.SampleBatch]] = {}
        for batch in batches:
            by_key.setdefault(batch.run_key, []).append(batch)
        for run_key, parts in by_key.items():
            try:
                await self._ingest_run(rig, run_key, parts)
            except Exception as exc:  # ingest goes on for every other run and the next one
                await self._ingest_failed(rig, run_key, exc)

    async def _ingest_run(self, rig: Rig, run_key: int, parts: list[dl.SampleBatch]) -> None:
        records = np.concatenate([batch.records for batch in parts])
        tracker = self._tracker(rig, run_key)
        if tracker is None:
            stray = await self._tracker_for_stray(rig, run_key)
            if stray is not None:
                await self._store(rig, stray, records)
            return
        resent = [batch.records["seq"] for batch in parts if batch.resent]
        ready = tracker.order.add(records)
        if len(ready):
            await self._store(rig, tracker, ready)
        if resent:
            ranges = seq_ranges(np.concatenate(resent))
            await self._event(rig, run_key, "resent",
                              "samples %s re-sent by the rig" % _ranges_text(ranges),
                              {"ranges": ranges})

    async def _ingest_failed(self, rig: Rig, run_key: int, exc: Exception) -> None:
        """Samples of a run could not be stored: the run fails with the cause (a run with a
        hole nobody can fill is no measurement), the board stops it, health says so until a
        later sample is stored."""
        log.error("rig %s: samples of run key %s could not be stored: %s", rig.name,
                  key_text(run_key), exc, exc_info=not isinstance(exc, SampleNotStorable))
        tracker = self._tracker(rig, run_key)
        what = "run %d" % tracker.run.id if tracker is not None else "run key %s" % key_text(
            run_key)
        rig.ingest_error = "%s: samples could not be stored: %s" % (what, exc)
        if tracker is None or tracker.finishing or tracker.run.id not in self.trackers:
            return
        tracker.order.release_all()  # what waited cannot be stored either: not again in _end
        await self._stop_key(rig, run_key)
        await self._end(tracker, "failed", error="samples could not be stored: %s" % exc)

    async def _store(self, rig: Rig, tracker: "Tracker", records: np.ndarray) -> None:
        """Store records of tracker's run, then publish them and the progress live.

        Raises SampleNotStorable for a value the store must not hold (an infinity), after
        STORE_TRIES for a database error that does not go away.
        """
        cols = tracker.converter.columns(records)
        for name, column in cols.items():
            if column.dtype.kind == "f" and np.isinf(column).any():
                seq = int(cols["seq"][np.isinf(column).argmax()])
                raise SampleNotStorable("%s of sample %d is infinite (check the rig's "
                                        "calibration)" % (name, seq))
        for attempt in range(1, STORE_TRIES + 1):
            try:
                new = await asyncio.to_thread(self.store.insert_samples, tracker.run.id, cols)
                break
            except sa.exc.OperationalError as exc:  # the database went away: try again
                log.warning("run %d: storing %d samples failed (try %d of %d): %s",
                            tracker.run.id, len(records), attempt, STORE_TRIES, exc)
                if attempt == STORE_TRIES:
                    raise SampleNotStorable("the database refused the samples: %s"
                                            % str(exc).splitlines()[0]) from exc
                await asyncio.sleep(STORE_RETRY_S * attempt)
        rig.ingest_error = None
        self.samples_stored += new
        live = tracker.note_samples(cols)
        rows = json_rows(cols, LIVE_COLUMNS)
        rig.last_sample = dict(zip(LIVE_COLUMNS, rows[-1])) if rows else rig.last_sample
        self.hub.publish(tracker.run.id, "samples", {"columns": list(LIVE_COLUMNS),
                                                     "rows": rows, "sent_at": time.time()})
        self.hub.publish(tracker.run.id, "progress", live)
        now = time.monotonic()
        if now - tracker.progress_written_at > PROGRESS_WRITE_S and not tracker.run.finished:
            tracker.progress_written_at = now
            await asyncio.to_thread(self.store.update_run, tracker.run.id,
                                    progress=tracker.progress)

    async def _tracker_for_stray(self, rig: Rig, run_key: int) -> Tracker | None:
        """Samples of a run the host is not following: stored only when this store started
        that run on this rig's board (a finished run receiving late resends)."""
        run = await asyncio.to_thread(self.store.get_run_by_key, run_key) if run_key else None
        if run is None or not files_under(_stored(run), rig.name, board_text(rig.board_id)):
            return None
        return Tracker(run, rig)

    async def _handle(self, rig: Rig, item: Any) -> None:
        if isinstance(item, dl.Connected):
            rig.board_id = item.hello.board_id
            rig.down_since = None
            await asyncio.to_thread(self.store.upsert_rig, rig.name, rig.spec.spec,
                                    _firmware_info(item.hello))
            await self._reconcile(rig, item.hello, item.device_reset)
        elif isinstance(item, dl.DeviceEvent):
            await self._device_event(rig, item)
        elif isinstance(item, dl.HeartbeatSeen):
            self._saw_next_seq(rig, item.heartbeat.run_key, item.heartbeat.next_seq)
            self._check_ended(rig, item.heartbeat.state, item.heartbeat.run_key)
            if rig.orphan is not None:
                self._note_orphan(rig, item.heartbeat)
        elif isinstance(item, dl.Disconnected):
            if rig.down_since is None:
                rig.down_since = time.monotonic()
            await self._event(rig, None, "link_down", "link to %s lost: %s"
                              % (rig.name, item.reason))
        elif isinstance(item, dl.GapDetected):
            await self._event(rig, item.run_key, "gap",
                              "samples %d..%d missing; asked the rig to resend them"
                              % (item.from_seq, item.to_seq),
                              {"from_seq": item.from_seq, "to_seq": item.to_seq})
        elif isinstance(item, dl.SamplesLost):
            # The link stopped asking after its few tries; the backfill goes on asking while
            # the rig holds them and records the loss only when the rig says they are gone.
            log.debug("rig %s: the link gave up on samples %d..%d of run key %s", rig.name,
                      item.from_seq, item.to_seq, key_text(item.run_key))
        elif isinstance(item, dl.EventsLost):
            await self._event(rig, None, "events_lost", "device events %s were not recovered"
                              % (list(item.event_seqs),))

    def _saw_next_seq(self, rig: Rig, run_key: int, next_seq: int) -> None:
        tracker = self._tracker(rig, run_key)
        if tracker is not None:
            tracker.device_next_seq = max(tracker.device_next_seq, next_seq)

    async def _backfill(self, tracker: "Tracker") -> None:
        """Ask the rig for every seq missing below what it said it took, again and again,
        until it arrives or the rig says it is gone (its ring moved past it).

        On a damaged link a resent sample may need several tries, and an accelerated rig
        opens new gaps every wall second: many small RESENDs in flight at once keep up where
        the link's one request at a time (with its give-up after a few tries) cannot.
        """
        asked: dict[int, float] = {}
        while True:
            await asyncio.sleep(BACKFILL_PERIOD_S)
            link = tracker.rig.link
            if tracker.resuming or link is None or not link.connected:
                continue
            order = tracker.order
            holes = order.holes(max(tracker.device_next_seq - 1, order.last_held()))
            now = time.monotonic()
            asked = {a: t for a, t in asked.items() if now - t < BACKFILL_RETRY_S}
            for first, last in _merged(holes, BACKFILL_MERGE)[:BACKFILL_ASKS]:
                if first in asked:
                    continue
                asked[first] = now
                asyncio.create_task(self._ask_resend(
                    tracker, first, min(last, first + RESEND_SPAN - 1), tracker.epoch))

    async def _ask_resend(self, tracker: "Tracker", first: int, last: int, epoch: int) -> None:
        """One RESEND, one try; the backfill asks again if the samples do not come."""
        link = tracker.rig.link
        assert link is not None
        try:
            reply = await link.acommand(schema.RESEND, run_key=tracker.run_key,
                                        from_seq=first, to_seq=last, timeout_s=1.0, tries=1,
                                        wait_s=0.0)
        except LinkError:
            return
        msg: Any = reply.message
        if tracker.epoch == epoch and not reply.ok and msg.code == schema.NACK_NOT_IN_RING:
            await self._give_up(tracker, msg.detail, "are no longer on the rig")
        # NACK_BAD_RUN_KEY: the rig was reset or runs something else; reconcile resumes ours.

    async def _give_up(self, tracker: "Tracker", below_seq: int, why: str) -> None:
        """Record every missing seq below below_seq as lost and store what waited on them."""
        holes = tracker.order.holes(below_seq - 1)
        ready = tracker.order.skip_to(below_seq)  # before any await: one give-up per hole
        for a, b in holes:
            await self._event(tracker.rig, tracker.run_key, "samples_lost",
                              "samples %d..%d %s: lost" % (a, b, why),
                              {"from_seq": a, "to_seq": b})
        if len(ready):
            await self._store(tracker.rig, tracker, ready)

    async def _event(self, rig: Rig, run_key: int | None, name: str, message: str,
                     data: dict | None = None, code: int | None = None,
                     key: str | None = None) -> None:
        """Record an event of the followed run with run_key on rig (of the rig alone when
        no run of ours has that key) and publish it live."""
        tracker = self._tracker(rig, run_key) if run_key else None
        run_id = tracker.run.id if tracker is not None else None
        event = await asyncio.to_thread(self.store.add_event, name, message, rig=rig.name,
                                        run_id=run_id, code=code, data=data, key=key)
        if event is not None and run_id is not None:
            self.hub.publish(run_id, "event", event.as_dict())

    async def _device_event(self, rig: Rig, ev: dl.DeviceEvent) -> None:
        data = {"value": ev.value, "t_s": ev.t_s + ev.t_us * 1e-6, "state": ev.state,
                "event_seq": ev.event_seq, "run_key": key_text(ev.run_key)}
        message = _event_text(ev)
        key = None
        if ev.run_key:  # a resent event of a run is recorded once
            key = "%016x:%d:%d.%06d:%d" % (ev.run_key, ev.code, ev.t_s, ev.t_us, ev.event_seq)
        await self._event(rig, ev.run_key, ev.name, message, data, code=ev.code, key=key)
        tracker = self._tracker(rig, ev.run_key)
        if tracker is None:
            return
        if ev.code == schema.EV_L0_CAPTURED:
            l0 = tracker.converter.columns(_one_record(pd_pa=ev.value + tracker.dark_pd_pa))
            tracker.l0_cd_m2 = float(l0["luminance_cd_m2"][0]) or None
        elif ev.code == schema.EV_RUN_STOPPED:
            tracker.stop_reason = ev.value
            self._finish_soon(tracker)

    def _check_ended(self, rig: Rig, state: int, run_key: int) -> None:
        """A run that ended while its RUN_STOPPED event was lost still gets finished."""
        tracker = self._active(rig)
        if tracker is None or tracker.finishing or tracker.run.state != "running":
            return
        if run_key != tracker.run_key:
            if tracker.resume_pending:
                self._resume_soon(tracker)
            return
        if state != schema.STATE_RUNNING:
            self._finish_soon(tracker)

    async def _reconcile(self, rig: Rig, hello: Any, device_reset: bool) -> None:
        """After (re)connecting: settle the rig's unfinished run on this board (reattach,
        finish or resume it; fail it on another board), then see what else it holds."""
        tracker = self._active(rig)
        if tracker is not None:
            board = board_text(hello.board_id)
            decision = settle(FollowedRun(
                tracker.run_key, tracker.run.board_id, tracker.run.state, tracker.run.imported,
                tracker.starting, bool(tracker.finishing or tracker.resuming)),
                board, hello.run_key)
            await self._act(rig, tracker, decision, hello, device_reset)
        await self._note_board_run(rig, hello)

    async def _act(self, rig: Rig, tracker: Tracker, decision: Settle, hello: Any,
                   device_reset: bool) -> None:
        run_key = tracker.run_key
        if decision is Settle.FAIL_BOARD_CHANGED:
            await self._end(tracker, "failed", error=(
                "the board behind %s changed: the run was started on board %s and the port "
                "now reaches board %s; the run is not resumed on another board"
                % (rig.name, tracker.run.board_id, board_text(hello.board_id))))
        elif decision is Settle.REATTACH:
            if tracker.run.state != "running":  # queued when the service died mid-start
                was = tracker.run.state
                tracker.run = await asyncio.to_thread(self.store.update_run, tracker.run.id,
                                                      state="running")
                self.hub.publish(tracker.run.id, "state", tracker.run.as_dict(calibration=False))
                await self._event(rig, run_key, "reattached", "the rig holds the run (it was "
                                  "%s here); following it again" % was)
            self._saw_next_seq(rig, run_key, hello.next_seq)
            holes = tracker.order.holes(hello.next_seq - 1)
            rig.link.track_run(run_key, holes[0][0] if holes else hello.next_seq)
            if hello.state != schema.STATE_RUNNING:
                self._finish_soon(tracker)
            else:
                await self._event(rig, run_key, "reattached",
                                  "host reattached to the running run at seq %d"
                                  % hello.next_seq)
        elif decision is Settle.FAIL_NEVER_STARTED:
            await self._end(tracker, "failed", error="the run never started on the rig")
        elif decision is Settle.FAIL_CAME_BACK_WITHOUT:
            await self._end(tracker, "failed", error=(
                "the rig came back without the run (it was reset while out of reach); the "
                "samples up to the interruption are kept"))
        elif decision is Settle.FAIL_IMPORTED_LOST:
            await self._end(tracker, "failed", error=(
                "the rig lost the imported run; its program is not known here, so it is "
                "not resumed"))
        elif decision is Settle.RESUME:
            await self._resume(rig, tracker, device_reset)

    async def _note_board_run(self, rig: Rig, hello: Any) -> None:
        """A run the board holds that is not the one followed here: an orphan when this
        store never started it; stopped when this store has already ended it."""
        run_key = hello.run_key
        followed = self._tracker(rig, run_key)
        run = None
        if run_key and followed is None:
            run = await asyncio.to_thread(self.store.get_run_by_key, run_key)
        found = board_run(run_key, followed.run_key if followed else None,
                          _stored(run) if run is not None else None,
                          hello.state == schema.STATE_RUNNING)
        if found is BoardRun.ORPHAN:
            self._note_orphan(rig, hello, fresh=True)
            assert rig.orphan is not None
            await self._event(rig, None, "orphan_run", (
                "the rig holds run key %s, which this service did not start (%s, %s, %d "
                "samples); nothing of it is stored: stop it (POST /api/rigs/%s/orphan/stop) "
                "or import it (POST /api/rigs/%s/orphan/import)"
                % (key_text(run_key), rig.orphan["mode"], rig.orphan["state"], hello.next_seq,
                   rig.name, rig.name)), dict(rig.orphan))
            return
        rig.orphan = None
        if found is BoardRun.ENDED_BUT_RUNNING:
            assert run is not None
            await self._stop_key(rig, run_key)
            await self._event(rig, None, "stopped_ended_run", (
                "the rig was still running run %d (key %s), which is %s here: stopped it"
                % (run.id, key_text(run_key), run.state)), {"run": run.id})

    def _note_orphan(self, rig: Rig, seen: Any, fresh: bool = False) -> None:
        """Keep rig.orphan in step with what the board says (HELLO_ACK, HEARTBEAT, STATUS)."""
        current = rig.orphan
        if not fresh and (current is None or int(current["run_key"], 16) != seen.run_key):
            rig.orphan = None  # the board moved on to another run
            return
        mode = getattr(seen, "mode", None)
        rig.orphan = {
            "run_key": key_text(seen.run_key),
            "mode": (schema.MODE_NAMES[mode] if mode is not None and 0 <= mode
                     < len(schema.MODE_NAMES) else (current or {}).get("mode")),
            "state": (schema.STATE_NAMES[seen.state] if 0 <= seen.state
                      < len(schema.STATE_NAMES) else str(seen.state)),
            "next_seq": seen.next_seq,
            "board_id": board_text(rig.board_id),
        }

    async def _stop_key(self, rig: Rig, run_key: int) -> None:
        """STOP_RUN for run_key, retried; a NACK means the board runs something else."""
        try:
            await rig.link.acommand(schema.STOP_RUN, run_key=run_key, tries=START_TRIES)
        except LinkError as exc:
            log.warning("rig %s: could not stop run key %s: %s", rig.name, key_text(run_key),
                        exc)

    async def _watch_links(self) -> None:
        """A run never stays `running` with nobody measuring it: once its rig has been out
        of reach past the run's host-loss grace (and a margin), it is `interrupted`."""
        while True:
            await asyncio.sleep(LINK_WATCH_S)
            now = time.monotonic()
            for rig in self.rigs.values():
                if rig.link is None or rig.link.connected:
                    rig.down_since = None
                    continue
                if rig.down_since is None:
                    rig.down_since = now
                tracker = self._active(rig)
                if tracker is None or tracker.run.state != "running" or tracker.finishing:
                    continue
                down_s = now - rig.down_since
                if down_s > tracker.params.host_loss_grace_s + INTERRUPT_MARGIN_S:
                    await self._interrupt(tracker, down_s)

    async def _interrupt(self, tracker: Tracker, down_s: float) -> None:
        tracker.run = await asyncio.to_thread(self.store.update_run, tracker.run.id,
                                              state="interrupted", progress=tracker.progress)
        await self._event(tracker.rig, tracker.run_key, "interrupted", (
            "the rig has been out of reach for %.0f s (host-loss grace %.0f s): nobody is "
            "measuring the run; it ends for good when the same board is back"
            % (down_s, tracker.params.host_loss_grace_s)))
        self.hub.publish(tracker.run.id, "state", tracker.run.as_dict(calibration=False))

    async def _resume(self, rig: Rig, tracker: Tracker, device_reset: bool) -> None:
        """The rig lost the run (a reset, or it ran something else), and with it every
        sample it had not sent: continue the run from the samples stored."""
        tracker.resuming = True
        tracker.resume_pending = False
        try:
            await self._resume_run(rig, tracker, device_reset)
        finally:
            tracker.resuming = False

    async def _resume_run(self, rig: Rig, tracker: Tracker, device_reset: bool) -> None:
        run_key = tracker.run_key
        try:  # a HELLO_ACK taken before an earlier resume reached the rig is stale: ask
            status: Any = (await rig.link.acommand(schema.GET_STATUS,
                                                   tries=START_TRIES)).message
        except LinkError as exc:
            tracker.resume_pending = True
            await self._event(rig, run_key, "resume_failed",
                              "could not resume the run: %s" % exc)
            return
        if status.run_key == run_key:  # resumed already, or it ended there: never run it twice
            if status.state != schema.STATE_RUNNING:
                self._finish_soon(tracker)
            return
        tracker.epoch += 1  # the rig's numbering restarts here: older recoveries stop
        tail_lost = await self._close_gaps_for_resume(tracker)
        # The link's bookkeeping of the old numbering goes with it; renumbered seqs come anew.
        rig.link.forget_run(run_key)
        rig.link.track_run(run_key, tracker.order.next_seq)
        next_seq = tracker.order.next_seq
        cols = await asyncio.to_thread(self.store.read_samples, tracker.run.id,
                                       None, None, ("t_s", "setpoint_v"))
        period_s = tracker.fields["sample_period_ms"] / 1000
        # The run clock goes on after the last stored sample and every period the rig is
        # known to have sampled since (its claimed count), so T-values keep the stress time.
        resume_t_s = ((float(cols["t_s"][-1]) + period_s * (1 + tail_lost))
                      if len(cols["t_s"]) else period_s * tail_lost)
        hold_mv = int(round(cols["setpoint_v"][-1] * 1000)) if len(cols["t_s"]) else None
        l0_pd_pa = 0
        for event in await asyncio.to_thread(self.store.list_events, run_id=tracker.run.id):
            if event.code == schema.EV_L0_CAPTURED and event.data:
                l0_pd_pa = int(event.data["value"])
        fields = resume_fields(tracker.fields, next_seq=next_seq, resume_t_s=resume_t_s,
                               l0_pd_pa=l0_pd_pa, hold_setpoint_mv=hold_mv)
        try:
            reply = await rig.link.acommand(schema.START_RUN, tries=START_TRIES, **fields)
        except LinkError as exc:
            tracker.resume_pending = True  # asked again at the rig's next heartbeat
            await self._event(rig, run_key, "resume_failed",
                              "could not resume the run: %s" % exc)
            return
        if not reply.ok:
            await self._end(tracker, "failed", error="the rig lost the run (%s) and refused to "
                            "resume it: %s" % ("reset" if device_reset else "not running",
                                              reply.error))
            return
        await self._event(rig, run_key, "resumed",
                          "the rig %s; run resumed at seq %d, t = %.1f s"
                          % ("was reset" if device_reset else "had lost the run", next_seq,
                             resume_t_s), {"resume_seq": next_seq, "resume_t_s": resume_t_s})

    async def _close_gaps_for_resume(self, tracker: Tracker) -> int:
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
            await self._store(tracker.rig, tracker, renumbered)
        lost_at_least = max(0, claimed - received) + sum(b - a + 1 for a, b in dropped)
        if lost_at_least or len(renumbered):
            message = "the rig lost at least %d samples it had not sent" % lost_at_least
            if len(renumbered):
                message += "; %d received after a gap are stored as seqs %d..%d" % (
                    len(renumbered), first, order.next_seq - 1)
            await self._event(
                tracker.rig, tracker.run_key, "samples_lost", message,
                {"lost_at_least": lost_at_least, "device_next_seq": claimed,
                 "dropped": dropped, "renumbered": len(renumbered),
                 "renumbered_from": first})
        tracker.device_next_seq = order.next_seq
        return tail_lost

    def _resume_soon(self, tracker: Tracker) -> None:
        if not (tracker.resuming or tracker.finishing or tracker.starting):
            tracker.resuming = True  # at once: a reconcile meanwhile must not resume twice
            asyncio.create_task(self._resume(tracker.rig, tracker, False),
                                name="resume-%d" % tracker.run.id)

    # ------------------------------------------------------------------ finishing

    def _finish_soon(self, tracker: Tracker) -> None:
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
                status = (await link.acommand(schema.GET_STATUS)).message
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
            await self._give_up(tracker, upto + 1, "never arrived")
        reason = schema.STOP_NONE if reason is None else reason
        if reason in COMPLETED_STOPS or (tracker.run.kind == "jvl"
                                         and reason == schema.STOP_COMPLIANCE):
            state, error = "completed", None
        elif reason == schema.STOP_HOST_ABORT:
            state, error = "aborted", None
        elif reason == schema.STOP_HOST_LOST:
            state, error = "aborted", ("the rig stopped the run: host_lost (it heard nothing "
                                       "from the host for host_loss_grace_s)")
        else:
            state, error = "failed", "the rig stopped the run: %s" % _stop_text(reason)
        await self._end(tracker, state, error=error, stop_reason=reason)

    async def _summary(self, run: Run) -> dict[str, Any]:
        cols = await asyncio.to_thread(self.store.read_samples, run.id)
        events = [e.as_dict() for e in
                  await asyncio.to_thread(self.store.list_events, run_id=run.id)]
        return await asyncio.to_thread(summarize_run, run.kind, run.params, run.calibration,
                                       cols, events)

    async def _end(self, tracker: Tracker, state: str, error: str | None = None,
                   stop_reason: int | None = None) -> None:
        run = tracker.run
        if tracker.backfill is not None:
            tracker.backfill.cancel()
        ready = tracker.order.release_all()
        if len(ready):
            try:
                await self._store(tracker.rig, tracker, ready)
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
                summary["stop_reason"] = _stop_text(stop_reason)
        tracker.run = await asyncio.to_thread(
            self.store.update_run, run.id, state=state, error=error, summary=summary,
            progress=1.0 if state == "completed" else tracker.progress)
        self.trackers.pop(run.id, None)
        if self._by_key.get(tracker.run_key) is tracker:
            del self._by_key[tracker.run_key]
        if tracker.rig.active_run_id == run.id:
            tracker.rig.active_run_id = None
        if tracker.rig.link is not None:
            tracker.rig.link.forget_run(tracker.run_key)
        self.hub.publish(run.id, "end", tracker.run.as_dict(calibration=False))



def _check_can_run(kind: str, params: Any, calibration: dict[str, Any] | None,
                   rig_name: str) -> None:
    """Everything a run needs from the rig's calibration, checked before a record exists."""
    try:
        converter = Converter(kind, PhotodiodeCalibration.model_validate(calibration)
                              if calibration else None)
        start_run_fields(kind, params, converter, 1)
    except (ValueError, ArithmeticError) as exc:  # pydantic's ValidationError included
        raise RunError(409, "rig %s's stored calibration cannot serve this run (%s): PUT a "
                       "new one to /api/rigs/%s/calibration" % (rig_name, exc, rig_name)) from exc


def _stored(run: Run) -> StoredRun:
    return StoredRun(run.id, run.rig, run.board_id, run.finished)


def _imported_params(kind: str, status: Any) -> dict[str, Any]:
    """Parameters recorded for an imported run: the kind's defaults, and for a lifetime the
    voltage the board holds (its program itself never crosses the wire back)."""
    if kind == "lifetime":
        return {"voltage_v": max(status.setpoint_mv, 1) / 1000}
    return {}


def _one_record(**values: int) -> np.ndarray:
    from host.link.wire import SAMPLE_DTYPE

    record = np.zeros(1, SAMPLE_DTYPE)
    for key, value in values.items():
        record[key] = value
    return record


def _firmware_info(hello: Any) -> dict[str, Any]:
    return {"version": "%d.%d.%d" % (hello.fw_major, hello.fw_minor, hello.fw_patch),
            "board_id": board_text(hello.board_id), "schema_hash": "%08x" % hello.schema_hash,
            "capabilities": hello.capabilities, "reset_cause": hello.reset_cause}


def _merged(ranges: list[tuple[int, int]], within: int) -> list[tuple[int, int]]:
    """Sorted ranges joined where at most `within` seqs lie between two of them."""
    out: list[tuple[int, int]] = []
    for first, last in ranges:
        if out and first - out[-1][1] - 1 <= within:
            out[-1] = (out[-1][0], last)
        else:
            out.append((first, last))
    return out


def _ranges_text(ranges: list[tuple[int, int]], most: int = 6) -> str:
    """'3..5, 9, 12..14' (and how many more ranges when there are over `most`)."""
    parts = ["%d..%d" % (a, b) if b > a else "%d" % a for a, b in ranges[:most]]
    if len(ranges) > most:
        parts.append("and %d more ranges" % (len(ranges) - most))
    return ", ".join(parts)


def _event_text(ev: dl.DeviceEvent) -> str:
    if ev.code in (schema.EV_SAFE_STOP, schema.EV_RUN_STOPPED):
        return "%s: %s" % (ev.name.replace("_", " "), _stop_text(ev.value))
    if ev.code == schema.EV_STATE:
        names = schema.STATE_NAMES
        return "state: %s" % (names[ev.value] if 0 <= ev.value < len(names) else ev.value)
    if ev.code == schema.EV_COMPLIANCE:
        return "current %.3f mA reached the compliance limit" % (ev.value / 1e6)
    if ev.code == schema.EV_EXCEPTION:
        return "exception: %s fault" % fault_name(ev.value)
    return "%s (%d)" % (ev.name.replace("_", " "), ev.value)
