"""What the host follows of one unfinished run: its program, converter, seq order, progress,
and its trend for the rig card."""

import asyncio
from collections import deque
from typing import Any

import numpy as np

from host.rigs import Rig
from host.runs.kinds import KINDS
from host.runs.ordering import SeqOrder
from host.runs.trend import Trend
from host.runs.units import Converter
from host.store.records import Run
from photometry.photodiode import PhotodiodeCalibration
from protocol import schema

RECENT_SAMPLES = 64  # the newest luminances a live noise estimate is taken from
# The device events that set a run's stress clock: where the hold began, the dark pauses.
STRESS_EVENTS = (schema.EV_TARGET_REACHED, schema.EV_DARK_BEGIN, schema.EV_DARK_END)


class Tracker:
    """What the host follows of one unfinished run."""

    def __init__(self, run: Run, rig: Rig, next_seq: int = 0):
        self.run = run
        self.rig = rig
        self.kind = KINDS[run.kind]
        self.params = self.kind.params.model_validate(run.params)
        calibration = (PhotodiodeCalibration.model_validate(run.calibration)
                       if run.calibration else None)
        self.converter = Converter(self.kind.light, calibration)
        self.dark_pd_pa = int(round(self.converter.dark_a * 1e12))
        assert run.run_key, "a followed run has a run key"
        self.run_key: int = run.run_key
        self.channel: int = run.channel
        self.fields = self.kind.start_fields(self.params, self.converter, self.run_key,
                                             self.dark_pd_pa)
        self.fields["channel"] = run.channel
        self.l0_cd_m2: float | None = None
        # The newest dark pause's reading less the calibrated dark (A): live figures use it.
        self.dark_shift_a = 0.0
        self.pl0: float | None = None
        # Its STRESS_EVENTS as {"code", "data": {"t_s"}}, in run-time order (the summary's).
        self.stress_events: list[dict[str, Any]] = []
        self.trend = Trend(self.kind.trend)
        self.refusal: str | None = None  # why the run cannot measure (the host fails it)
        self.recent_cd_m2: deque[float] = deque(maxlen=RECENT_SAMPLES)  # for the noise
        self.faint = False  # L0 within FAINT_L0_OVER_NOISE of the noise: no ETA
        self.last_t_s = 0.0
        self.last_setpoint_mv: int | None = None
        self.progress = run.progress
        self.progress_written_at = 0.0
        self.finishing: asyncio.Task | None = None
        self.stop_reason: int | None = None
        self.starting = False  # START_RUN sent and not answered yet: no reconcile meanwhile
        self.resuming = False
        self.pausing = False  # stopped for a check-up: the rig's stop pauses, not aborts
        # An abort's STOP_RUN is out: a reconnect meanwhile stops or ends the run, never
        # resumes it (the abort met a rig reset, which stopped the run on the board).
        self.aborting = False
        self.after_pause = False  # resuming a paused run: the rig holds it stopped, not lost
        # Samples are stored in seq order; next_seq: the first not stored (or given up).
        self.order = SeqOrder(next_seq)
        # Held while released samples are stored (SampleSink.store): a lock's waiters run in
        # the order they came, so who ends or parks the run waits for every store begun.
        self.storing = asyncio.Lock()
        self.epoch = 0  # bumped when a resume renumbers: answers about older seqs are stale
        self.device_next_seq = 0  # the most the rig has said it took (HEARTBEAT, HELLO_ACK)
        self.backfill: asyncio.Task | None = None
        self.resume_pending = False  # a resume failed on the link: try at the next heartbeat
        # The START_RUN of a resume whose answer never came: (resume_seq, resume_t_s, reset).
        self.resume_sent: tuple[int, float, bool] | None = None

    def saw_next_seq(self, next_seq: int) -> None:
        """The rig said it has taken samples below next_seq (HEARTBEAT, HELLO_ACK)."""
        self.device_next_seq = max(self.device_next_seq, next_seq)

    def take_l0(self, cols: dict[str, np.ndarray]) -> None:
        """L0 from its flagged sample when the L0_CAPTURED event has not given it yet (the
        two come apart; a run followed again has only the sample): the same reading."""
        l0 = cols["luminance_cd_m2"][(cols["flags"] & schema.FLAG_L0) != 0]
        if self.l0_cd_m2 is None and len(l0) and l0[0] > 0:
            self.l0_cd_m2 = float(l0[0])

    def note_event(self, code: int | None, t_s: float) -> None:
        """Keep a device event that sets the stress clock, once (a resent one comes again)."""
        event = {"code": code, "data": {"t_s": t_s}}
        if code in STRESS_EVENTS and event not in self.stress_events:
            self.stress_events.append(event)
            self.stress_events.sort(key=lambda e: e["data"]["t_s"])

    def channel_view(self) -> dict[str, Any]:
        """What the rig card shows of this run on its channel (GET /api/rigs)."""
        return {"device": (self.run.device or {}).get("name"), "trend": self.trend.points(),
                "t_values": dict(self.trend.t_values)}

    def note_samples(self, cols: dict[str, np.ndarray]) -> dict[str, Any]:
        """Advance progress and the trend from a batch of stored columns; the live progress
        message."""
        self.take_l0(cols)
        t = float(cols["t_s"][-1])
        self.last_t_s = max(self.last_t_s, t)
        self.last_setpoint_mv = int(round(cols["setpoint_v"][-1] * 1000))
        message: dict[str, Any] = {"t_s": t, "voltage_v": float(cols["voltage_v"][-1])}
        fraction = self.kind.progress(self, self.params, cols, message)
        self.progress = max(self.progress, min(fraction, 0.999))
        message["progress"] = self.progress
        self.trend.note(self, cols)
        if 0.02 < self.progress < 1 and t > 0 and not self.faint:
            message["eta_s"] = t * (1 - self.progress) / self.progress
        return message
