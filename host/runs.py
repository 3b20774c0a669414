"""Runs: start a run program on a rig, store every sample, follow it, finish it with a summary.

One task per rig consumes its link's deliveries in order. A run's device run_id is its
database id, so a restarted service finds the device's run again from HELLO_ACK alone:
reattach and backfill when the device kept running, finish when it ended meanwhile, resume
(same seq and run clock onward) when the device was reset and lost the run.
"""

import asyncio
import logging
import time
from typing import Any

import numpy as np

from host import link as dl
from host.analysis.photometry import PhotodiodeCalibration
from host.convert import Converter
from host.hub import Hub
from host.link import LinkError
from host.params import JvlParams, LifetimeParams, PhotostabilityParams
from host.programs import resume_fields, start_run_fields
from host.rigs import Rig
from host.seqorder import SeqOrder, seq_ranges
from host.store import Store
from host.store.columns import json_rows
from host.store.records import Run
from host.summaries import summarize_run
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
        self.fields = start_run_fields(run.kind, self.params, self.converter, run.id,
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

    @property
    def device_run_id(self) -> int:
        return self.run.id

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
            top = await asyncio.to_thread(self.store.max_seq, run.id)
            self._adopt(run, rig, 0 if top is None else top + 1)
        for rig in self.rigs.values():
            queue = rig.link.async_queue()
            self._tasks.append(asyncio.create_task(self._follow(rig, queue),
                                                   name="rig-%s" % rig.name))
            rig.link.start()  # after the queue listens: no Connected is missed

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
        rig.active_run_id = run.id
        return tracker

    # ------------------------------------------------------------------ API side

    async def start_run(self, kind: str, rig_name: str, params: Any) -> Run:
        rig = self.rigs.get(rig_name)
        if rig is None:
            raise RunError(404, "no rig named %r; rigs: %s" % (rig_name, ", ".join(self.rigs)))
        if rig.active_run_id is not None:
            raise RunError(409, "rig %s is busy with run %d; abort it or wait for it to end"
                           % (rig_name, rig.active_run_id))
        if not rig.link.connected:
            raise RunError(409, "rig %s is not connected (%s)"
                           % (rig_name, rig.link.snapshot().get("detail") or rig.link.state))
        calibration = await asyncio.to_thread(self.store.get_calibration, rig_name)
        if kind in ("lifetime", "jvl") and calibration is None:
            raise RunError(409, "rig %s has no photodiode calibration: PUT it to "
                           "/api/rigs/%s/calibration first" % (rig_name, rig_name))
        run = await asyncio.to_thread(self.store.create_run, rig_name, kind,
                                      params.model_dump(mode="json"), calibration=calibration)
        tracker = self._adopt(run, rig)
        tracker.starting = True
        try:
            reply = await rig.link.acommand(schema.START_RUN, tries=START_TRIES, **tracker.fields)
        except LinkError as exc:
            await self._end(tracker, "failed", error="the rig did not take the run: %s" % exc)
            raise RunError(503, "rig %s did not answer: %s" % (rig_name, exc)) from exc
        except ValueError as exc:  # a field the wire cannot carry
            await self._end(tracker, "failed", error=str(exc))
            raise RunError(422, str(exc)) from exc
        if not reply.ok:
            await self._end(tracker, "failed", error=reply.error)
            raise RunError(409, reply.error or "refused")
        tracker.run = await asyncio.to_thread(self.store.update_run, run.id, state="running",
                                              device_run_id=tracker.device_run_id)
        tracker.starting = False
        self.hub.publish(run.id, "state", tracker.run.as_dict())
        return tracker.run

    async def abort(self, run_id: int) -> Run:
        run = await asyncio.to_thread(self.store.get_run, run_id)
        if run.finished:
            raise RunError(409, "run %d is already %s" % (run_id, run.state))
        tracker = self.trackers.get(run_id)
        if tracker is None or run.state == "queued" and tracker.run.device_run_id is None:
            if tracker is not None:
                await self._end(tracker, "aborted", error="aborted before it started")
            return await asyncio.to_thread(self.store.get_run, run_id)
        try:
            reply = await tracker.rig.link.acommand(schema.STOP_RUN, run_id=tracker.device_run_id)
        except LinkError as exc:
            raise RunError(503, "rig %s did not answer the abort (%s); the device stops on its "
                           "own %.0f s after it last heard the host"
                           % (tracker.rig.name, exc, tracker.params.host_loss_grace_s)) from exc
        if not reply.ok:
            raise RunError(409, reply.error or "refused")
        tracker.stop_reason = schema.STOP_HOST_ABORT
        self._finish_soon(tracker)
        return await asyncio.to_thread(self.store.get_run, run_id)

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
        by_run: dict[int, list[dl.SampleBatch]] = {}
        for batch in batches:
            by_run.setdefault(batch.run_id, []).append(batch)
        for device_run_id, parts in by_run.items():
            records = np.concatenate([batch.records for batch in parts])
            tracker = self.trackers.get(device_run_id)
            if tracker is None or tracker.rig is not rig:
                stray = await self._tracker_for_stray(rig, device_run_id)
                if stray is not None:
                    await self._store(rig, stray, records)
                continue
            resent = [batch.records["seq"] for batch in parts if batch.resent]
            ready = tracker.order.add(records)
            if len(ready):
                await self._store(rig, tracker, ready)
            if resent:
                ranges = seq_ranges(np.concatenate(resent))
                await self._event(rig, device_run_id, "resent",
                                  "samples %s re-sent by the rig" % _ranges_text(ranges),
                                  {"ranges": ranges})

    async def _store(self, rig: Rig, tracker: "Tracker", records: np.ndarray) -> None:
        """Store records of tracker's run, then publish them and the progress live."""
        cols = tracker.converter.columns(records)
        try:
            new = await asyncio.to_thread(self.store.insert_samples, tracker.run.id, cols)
        except Exception:
            log.exception("run %d: storing %d samples failed", tracker.run.id, len(records))
            raise
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

    async def _tracker_for_stray(self, rig: Rig, device_run_id: int) -> Tracker | None:
        """Samples of a run the host is not following: stored if that run is this rig's."""
        try:
            run = await asyncio.to_thread(self.store.get_run, device_run_id)
        except LookupError:
            return None
        if run.rig != rig.name:
            return None
        tracker = Tracker(run, rig)  # finished run receiving resent samples: store them
        return tracker

    async def _handle(self, rig: Rig, item: Any) -> None:
        if isinstance(item, dl.Connected):
            await asyncio.to_thread(self.store.upsert_rig, rig.name, rig.spec.spec,
                                    _firmware_info(item.hello))
            await self._reconcile(rig, item.hello, item.device_reset)
        elif isinstance(item, dl.DeviceEvent):
            await self._device_event(rig, item)
        elif isinstance(item, dl.HeartbeatSeen):
            self._saw_next_seq(rig, item.heartbeat.run_id, item.heartbeat.next_seq)
            self._check_ended(rig, item.heartbeat.state, item.heartbeat.run_id)
        elif isinstance(item, dl.Disconnected):
            await self._event(rig, None, "link_down", "link to %s lost: %s"
                              % (rig.name, item.reason))
        elif isinstance(item, dl.GapDetected):
            await self._event(rig, item.run_id, "gap",
                              "samples %d..%d missing; asked the rig to resend them"
                              % (item.from_seq, item.to_seq),
                              {"from_seq": item.from_seq, "to_seq": item.to_seq})
        elif isinstance(item, dl.SamplesLost):
            # The link stopped asking after its few tries; the backfill goes on asking while
            # the rig holds them and records the loss only when the rig says they are gone.
            log.debug("rig %s: the link gave up on samples %d..%d of run %d", rig.name,
                      item.from_seq, item.to_seq, item.run_id)
        elif isinstance(item, dl.EventsLost):
            await self._event(rig, None, "events_lost", "device events %s were not recovered"
                              % (list(item.event_seqs),))

    def _saw_next_seq(self, rig: Rig, device_run_id: int, next_seq: int) -> None:
        tracker = self.trackers.get(device_run_id)
        if tracker is not None and tracker.rig is rig:
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
            reply = await link.acommand(schema.RESEND, run_id=tracker.device_run_id,
                                        from_seq=first, to_seq=last, timeout_s=1.0, tries=1,
                                        wait_s=0.0)
        except LinkError:
            return
        msg: Any = reply.message
        if tracker.epoch == epoch and not reply.ok and msg.code == schema.NACK_NOT_IN_RING:
            await self._give_up(tracker, msg.detail, "are no longer on the rig")
        # NACK_BAD_RUN_ID: the rig was reset or runs something else; reconcile resumes ours.

    async def _give_up(self, tracker: "Tracker", below_seq: int, why: str) -> None:
        """Record every missing seq below below_seq as lost and store what waited on them."""
        holes = tracker.order.holes(below_seq - 1)
        ready = tracker.order.skip_to(below_seq)  # before any await: one give-up per hole
        for a, b in holes:
            await self._event(tracker.rig, tracker.device_run_id, "samples_lost",
                              "samples %d..%d %s: lost" % (a, b, why),
                              {"from_seq": a, "to_seq": b})
        if len(ready):
            await self._store(tracker.rig, tracker, ready)

    def _run_for(self, rig: Rig, device_run_id: int) -> int | None:
        tracker = self.trackers.get(device_run_id)
        return device_run_id if tracker is not None and tracker.rig is rig else None

    async def _event(self, rig: Rig, device_run_id: int | None, name: str, message: str,
                     data: dict | None = None, code: int | None = None,
                     key: str | None = None) -> None:
        run_id = self._run_for(rig, device_run_id) if device_run_id else None
        event = await asyncio.to_thread(self.store.add_event, name, message, rig=rig.name,
                                        run_id=run_id, code=code, data=data, key=key)
        if event is not None and run_id is not None:
            self.hub.publish(run_id, "event", event.as_dict())

    async def _device_event(self, rig: Rig, ev: dl.DeviceEvent) -> None:
        data = {"value": ev.value, "t_s": ev.t_s + ev.t_us * 1e-6, "state": ev.state,
                "event_seq": ev.event_seq, "device_run_id": ev.run_id}
        message = _event_text(ev)
        key = None
        if ev.run_id:
            key = "%s:%d:%d:%d.%06d:%d" % (rig.name, ev.run_id, ev.code, ev.t_s, ev.t_us,
                                          ev.event_seq)
        await self._event(rig, ev.run_id, ev.name, message, data, code=ev.code, key=key)
        tracker = self.trackers.get(ev.run_id)
        if tracker is None or tracker.rig is not rig:
            return
        if ev.code == schema.EV_L0_CAPTURED:
            l0 = tracker.converter.columns(_one_record(pd_pa=ev.value + tracker.dark_pd_pa))
            tracker.l0_cd_m2 = float(l0["luminance_cd_m2"][0]) or None
        elif ev.code == schema.EV_RUN_STOPPED:
            tracker.stop_reason = ev.value
            self._finish_soon(tracker)

    def _check_ended(self, rig: Rig, state: int, device_run_id: int) -> None:
        """A run that ended while its RUN_STOPPED event was lost still gets finished."""
        tracker = self.trackers.get(rig.active_run_id or -1)
        if tracker is None or tracker.finishing or tracker.run.state != "running":
            return
        if device_run_id != tracker.device_run_id:
            if tracker.resume_pending:
                self._resume_soon(tracker)
            return
        if state != schema.STATE_RUNNING:
            self._finish_soon(tracker)

    async def _reconcile(self, rig: Rig, hello: Any, device_reset: bool) -> None:
        """After (re)connecting: reattach, finish, or resume the rig's unfinished run."""
        tracker = self.trackers.get(rig.active_run_id or -1)
        if tracker is None or tracker.finishing or tracker.starting or tracker.resuming:
            return  # a START_RUN in flight is retried by the link across the reconnect
        run_id = tracker.device_run_id
        if hello.run_id == run_id and tracker.run.state == "running":
            self._saw_next_seq(rig, run_id, hello.next_seq)
            holes = tracker.order.holes(hello.next_seq - 1)
            rig.link.track_run(run_id, holes[0][0] if holes else hello.next_seq)
            if hello.state != schema.STATE_RUNNING:
                self._finish_soon(tracker)
            else:
                await self._event(rig, run_id, "reattached",
                                  "host reattached to the running run at seq %d"
                                  % hello.next_seq)
            return
        if tracker.run.state == "queued":
            await self._end(tracker, "failed", error="the run never started on the rig")
            return
        await self._resume(rig, tracker, device_reset)

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
        run_id = tracker.device_run_id
        try:  # a HELLO_ACK taken before an earlier resume reached the rig is stale: ask
            status: Any = (await rig.link.acommand(schema.GET_STATUS,
                                                   tries=START_TRIES)).message
        except LinkError as exc:
            tracker.resume_pending = True
            await self._event(rig, run_id, "resume_failed", "could not resume the run: %s" % exc)
            return
        if status.run_id == run_id:  # resumed already, or it ended there: never run it twice
            if status.state != schema.STATE_RUNNING:
                self._finish_soon(tracker)
            return
        tracker.epoch += 1  # the rig's numbering restarts here: older recoveries stop
        await self._close_gaps_for_resume(tracker)
        # The link's bookkeeping of the old numbering goes with it; renumbered seqs come anew.
        rig.link.forget_run(run_id)
        rig.link.track_run(run_id, tracker.order.next_seq)
        next_seq = tracker.order.next_seq
        cols = await asyncio.to_thread(self.store.read_samples, tracker.run.id,
                                       None, None, ("t_s", "setpoint_v"))
        period_s = tracker.fields["sample_period_ms"] / 1000
        resume_t_s = (float(cols["t_s"][-1]) + period_s) if len(cols["t_s"]) else 0.0
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
            await self._event(rig, run_id, "resume_failed",
                              "could not resume the run: %s" % exc)
            return
        if not reply.ok:
            await self._end(tracker, "failed", error="the rig lost the run (%s) and refused to "
                            "resume it: %s" % ("reset" if device_reset else "not running",
                                              reply.error))
            return
        await self._event(rig, run_id, "resumed",
                          "the rig %s; run resumed at seq %d, t = %.1f s"
                          % ("was reset" if device_reset else "had lost the run", next_seq,
                             resume_t_s), {"resume_seq": next_seq, "resume_t_s": resume_t_s})

    async def _close_gaps_for_resume(self, tracker: Tracker) -> None:
        """Samples received past a gap are stored under the next seqs (the gap's samples
        died with the rig's memory), and the loss is recorded as an event."""
        order = tracker.order
        received = order.next_seq + order.held_count
        claimed = tracker.device_next_seq
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
                tracker.rig, tracker.device_run_id, "samples_lost", message,
                {"lost_at_least": lost_at_least, "device_next_seq": claimed,
                 "dropped": dropped, "renumbered": len(renumbered),
                 "renumbered_from": first})
        tracker.device_next_seq = order.next_seq

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
            if status.run_id == tracker.device_run_id:
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
        else:
            state, error = "failed", "the rig stopped the run: %s" % _stop_text(reason)
        await self._end(tracker, state, error=error, stop_reason=reason)

    async def _end(self, tracker: Tracker, state: str, error: str | None = None,
                   stop_reason: int | None = None) -> None:
        run = tracker.run
        if tracker.backfill is not None:
            tracker.backfill.cancel()
        ready = tracker.order.release_all()
        if len(ready):
            await self._store(tracker.rig, tracker, ready)
        summary = None
        if run.state != "queued":
            cols = await asyncio.to_thread(self.store.read_samples, run.id)
            events = [e.as_dict() for e in
                      await asyncio.to_thread(self.store.list_events, run_id=run.id)]
            summary = await asyncio.to_thread(summarize_run, run.kind, run.params,
                                              run.calibration, cols, events)
            if stop_reason is not None:
                summary["stop_reason"] = _stop_text(stop_reason)
        tracker.run = await asyncio.to_thread(
            self.store.update_run, run.id, state=state, error=error, summary=summary,
            progress=1.0 if state == "completed" else tracker.progress)
        self.trackers.pop(run.id, None)
        if tracker.rig.active_run_id == run.id:
            tracker.rig.active_run_id = None
        if tracker.rig.link is not None:
            tracker.rig.link.forget_run(tracker.device_run_id)
        self.hub.publish(run.id, "end", tracker.run.as_dict())


def _one_record(**values: int) -> np.ndarray:
    from host.wire import SAMPLE_DTYPE

    record = np.zeros(1, SAMPLE_DTYPE)
    for key, value in values.items():
        record[key] = value
    return record


def _firmware_info(hello: Any) -> dict[str, Any]:
    return {"version": "%d.%d.%d" % (hello.fw_major, hello.fw_minor, hello.fw_patch),
            "board_id": "%016x" % hello.board_id, "schema_hash": "%08x" % hello.schema_hash,
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
    return "%s (%d)" % (ev.name.replace("_", " "), ev.value)
