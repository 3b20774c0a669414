"""A sequence's report: L0, the stress and its T-values, the check-ups on stress time, the
J-V-L figures before and after, an ISOS-style block of conditions and the stress's clocks,
all from the store; partial while the sequence runs.

Stress time is the lifetime summary's axis (from the hold's start, dark pauses taken out),
so check-ups, clocks and T-values line up on one axis.
"""

import math
from datetime import datetime
from typing import Any

import numpy as np

from host.analysis import dark
from host.runs.kinds import KINDS
from host.runs.summaries import hold_start_s, stress_rows
from host.sequences.runner import FRACTION_SAMPLES
from host.sequences.spec import SequenceRequest
from host.sequences.view import step_views
from host.store.records import Run
from protocol import schema

STRESS_KINDS = ("lifetime", "photostability")
# The J-V-L figures compared before and after the stress.
COMPARED = ("eqe_max_pct", "ce_max_cd_a", "turn_on_v")
# How a lifetime is driven: (param, words, unit).
DRIVES = (("voltage_v", "constant voltage", "V"),
          ("target_l0_cd_m2", "constant voltage found for a target L0", "cd/m2"),
          ("current_a", "constant current", "A"),
          ("current_density_ma_cm2", "constant current density", "mA/cm2"))
METADATA_FIELDS = ("protocol", "atmosphere", "encapsulation", "illumination_source", "load",
                   "remarks")


class _Stress:
    """The stress run as the report reads it: events, the columns it needs, its summary
    (the stored one, or made now from the samples while it runs) and its stress axis."""

    def __init__(self, store: Any, run: Run):
        self.run = store.get_run(run.id)  # with its calibration, for a summary made now
        self.kind = KINDS[run.kind]
        self.records = store.list_events(run_id=run.id)
        self.events = [e.as_dict() for e in self.records]
        self.light = "luminance_cd_m2" if self.kind.light == "el" else "pl"
        names = {"t_s", "flags", "temperature_c", "humidity_pct", self.light}
        if not self.run.finished:
            names |= set(self.kind.summary_columns)
        self.cols = store.read_samples(run.id, columns=sorted(names))
        self.summary = _summary_of(self.run, self.cols, self.events)
        self.start_s = hold_start_s(self.events)
        self.spans = dark.pauses(self.events)
        rows = (stress_rows(self.cols, self.start_s) if self.light == "luminance_cd_m2"
                else np.zeros(len(self.cols["t_s"]), bool))
        self.t_s = dark.drive_time_s(self.cols["t_s"][rows], self.start_s, self.spans)
        self.lum = self.cols[self.light][rows]

    def stress_s(self, run_t_s: float) -> float:
        """A run time on the stress axis."""
        return float(dark.drive_time_s(np.array([run_t_s]), self.start_s, self.spans)[0])

    def last_s(self, before_run_t_s: float = math.inf) -> float | None:
        """Stress time of the last sample before a run time (of the last, by default)."""
        t = self.cols["t_s"]
        t = t[t < before_run_t_s]
        return self.stress_s(float(t[-1])) if len(t) else None

    def l_over_l0(self, at_s: float) -> float | None:
        """L/L0 at a stress time: the median of the newest samples up to it, the rule the
        runner takes an at_fractions check-up by."""
        l0 = self.summary.get("l0_cd_m2")
        recent = self.lum[self.t_s <= at_s + 1e-9][-FRACTION_SAMPLES:]
        if not l0 or not len(recent):
            return None
        return float(np.median(recent)) / float(l0)


def sequence_report(store: Any, sequence_id: int) -> dict[str, Any]:
    """The report of a sequence (JSON-ready; SequenceNotFound for an unknown id). Missing
    parts (no stress yet or at all, no sweep before or after) are nulls, not errors."""
    sequence = store.get_sequence(sequence_id)
    runs = store.sequence_runs(sequence_id)
    request = SequenceRequest.model_validate(sequence.spec)
    steps = step_views(sequence, runs)
    by_id = {r.id: r for r in runs}
    summaries: dict[int, dict[str, Any]] = {}

    def figures(run_id: int | None) -> dict[str, Any] | None:
        if run_id is None:
            return None
        if run_id not in summaries:
            summaries[run_id] = _summary(store, by_id[run_id])
        return KINDS[by_id[run_id].kind].headline(summaries[run_id])

    stress_step = next((s for s in steps if s["kind"] == "lifetime"), None) \
        or next((s for s in steps if s["kind"] in STRESS_KINDS), None)
    stress = (_Stress(store, by_id[stress_step["run_id"]])
              if stress_step and stress_step["run_id"] is not None else None)
    if stress is not None:
        summaries[stress.run.id] = stress.summary
    clocks = _clocks(stress) if stress else []
    before, after = _before_after(steps, stress_step)
    checkups = [_checkup(run, stress, clocks, figures(run.id)) for run in runs
                if stress is not None and run.checkup_of == stress.run.id]
    for step in steps:
        step["figures"] = figures(step["run_id"])
    report = {
        "sequence_id": sequence.id, "name": request.name, "rig": sequence.rig,
        "state": sequence.state, "error": sequence.error,
        "created_at": sequence.created_at, "started_at": sequence.started_at,
        "finished_at": sequence.finished_at,
        "partial": not sequence.finished or any(not r.finished for r in runs),
        "headline": _headline(stress, before, after, figures),
        "checkups": checkups,
        "steps": steps,
        "metadata": _metadata(store, sequence, request, runs, stress, stress_step),
        "clocks": clocks,
    }
    return _jsonable(report)


def _summary_of(run: Run, cols: dict[str, np.ndarray], events: list[dict[str, Any]]
                ) -> dict[str, Any]:
    """The stored summary of a finished run, else one made now from what it has measured."""
    if run.finished:
        return run.summary or {}
    if not len(cols.get("t_s", ())):
        return {}
    return KINDS[run.kind].summarize(run.params, run.calibration, cols, events)


def _summary(store: Any, run: Run) -> dict[str, Any]:
    if run.finished:
        return run.summary or {}
    run = store.get_run(run.id)
    cols = store.read_samples(run.id, columns=KINDS[run.kind].summary_columns)
    return _summary_of(run, cols, [e.as_dict() for e in store.list_events(run_id=run.id)])


def _before_after(steps: list[dict[str, Any]], stress_step: dict[str, Any] | None
                  ) -> tuple[int | None, int | None]:
    """Run ids of the J-V-L steps nearest before and after the stress; without a stress,
    the first and the last J-V-L steps (a shelf or rest sequence compares those)."""
    sweeps = [s for s in steps if s["kind"] == "jvl" and s["run_id"] is not None]
    if stress_step is None:
        return (sweeps[0]["run_id"], sweeps[-1]["run_id"]) if len(sweeps) > 1 else (None, None)
    at = stress_step["index"]
    earlier = [s["run_id"] for s in sweeps if s["index"] < at]
    later = [s["run_id"] for s in sweeps if s["index"] > at]
    return (earlier[-1] if earlier else None), (later[0] if later else None)


def _stress_words(run: Run) -> dict[str, Any]:
    """The stress as kind, drive, level and unit, with the same in words."""
    params = run.params
    if run.kind == "photostability":
        level = params.get("laser_power_mw_cm2")
        return {"kind": run.kind, "drive": "laser_power_mw_cm2", "level": level,
                "unit": "mW/cm2", "text": "laser %g mW/cm2 at %g nm" % (
                    level or 0, params.get("wavelength_nm") or 0)}
    for name, words, unit in DRIVES:
        if params.get(name) is not None:
            return {"kind": run.kind, "drive": name, "level": params[name], "unit": unit,
                    "text": "%s, %g %s" % (words, params[name], unit)}
    return {"kind": run.kind, "drive": None, "level": None, "unit": None, "text": None}


def _change(before: Any, after: Any) -> dict[str, Any]:
    numbers = isinstance(before, (int, float)) and isinstance(after, (int, float))
    return {"before": before, "after": after,
            "change": after - before if numbers else None,
            "change_pct": 100.0 * (after - before) / before if numbers and before else None}


def _headline(stress: _Stress | None, before: int | None, after: int | None,
              figures: Any) -> dict[str, Any]:
    summary = stress.summary if stress else {}
    first, last = figures(before) or {}, figures(after) or {}
    return {
        "stress_run_id": stress.run.id if stress else None,
        "stress": _stress_words(stress.run) if stress else None,
        **{name: summary.get(name) for name in ("l0_cd_m2", "t95_s", "t80_s", "t50_s",
                                                 "stop_reason")},
        "stress_figures": stress.kind.headline(summary) if stress else None,
        "before_run_id": before, "after_run_id": after,
        "changes": {name: _change(first.get(name), last.get(name)) for name in COMPARED},
    }


def _clocks(stress: _Stress) -> list[dict[str, Any]]:
    """The stress's segments between pauses, each with its span on both clocks. A device
    reset inside a segment (a `resumed` without `paused`) ends it at its last sample, its
    wall time unknown (null); an unfinished run's last segment has no wall_to yet."""
    run = stress.run
    hold = next((e.t for e in stress.records if e.code == schema.EV_TARGET_REACHED), None)
    wall = hold or run.started_at
    segments: list[dict[str, Any]] = []
    current: dict[str, Any] | None = (None if wall is None else
                                      {"stress_from_s": 0.0, "wall_from": wall})
    for event in stress.records:
        data = event.data or {}
        if event.name == "paused" and current is not None:
            segments.append(dict(current, stress_to_s=stress.stress_s(data["stress_t_s"]),
                                 wall_to=event.t))
            current = None
        elif event.name == "resumed":
            resume_t_s = data.get("resume_t_s")
            if current is not None:
                segments.append(dict(current, stress_to_s=stress.last_s(
                    resume_t_s if resume_t_s is not None else math.inf), wall_to=None))
            current = {"stress_from_s": (stress.stress_s(resume_t_s) if resume_t_s is not None
                                         else stress.last_s()), "wall_from": event.t}
    if current is not None:
        segments.append(dict(current, stress_to_s=stress.last_s(), wall_to=run.finished_at))
    return [{k: s[k] for k in ("stress_from_s", "stress_to_s", "wall_from", "wall_to")}
            for s in segments]


def _stress_at(clocks: list[dict[str, Any]], wall: datetime) -> float | None:
    """The stress time at a wall time: a check-up runs between segments, so it is the end
    of the last segment begun before it (inside a segment, interpolated); None before the
    first."""
    begun = [seg for seg in clocks if seg["wall_from"] <= wall]
    if not begun:
        return None
    seg = begun[-1]
    if seg["wall_to"] is None or wall >= seg["wall_to"] or seg["stress_to_s"] is None:
        return seg["stress_to_s"]
    span_s = (seg["wall_to"] - seg["wall_from"]).total_seconds()
    done = (wall - seg["wall_from"]).total_seconds() / span_s if span_s > 0 else 1.0
    return seg["stress_from_s"] + done * (seg["stress_to_s"] - seg["stress_from_s"])


def _checkup(run: Run, stress: _Stress, clocks: list[dict[str, Any]],
             figures: dict[str, Any] | None) -> dict[str, Any]:
    wall = run.started_at or run.created_at
    at_s = _stress_at(clocks, wall)
    return {"run_id": run.id, "state": run.state, "stress_t_s": at_s, "wall_t": wall,
            "l_over_l0": stress.l_over_l0(at_s) if at_s is not None else None,
            "figures": figures}


def _range(cols: dict[str, np.ndarray], name: str) -> tuple[float | None, float | None]:
    values = cols[name][np.isfinite(cols[name])]
    return (float(values.min()), float(values.max())) if len(values) else (None, None)


def _rules(stress: _Stress, checkups: Any) -> dict[str, Any]:
    """How the stress was run and measured, in words, from its parameters."""
    p = stress.run.params
    if stress.run.kind == "photostability":
        stop = "%g s of exposure" % p["duration_s"]
        l0 = "PL0 is the first PL point; PL points every %g s" % p["pl_interval_s"]
    else:
        stop = "L/L0 <= %g, or %g s at the latest" % (p["stop_fraction"], p["max_duration_s"])
        l0 = "L0 is the first sample %g s into the hold" % p["l0_settle_s"]
        if p.get("target_l0_cd_m2") is not None:
            l0 += (" (the hold begins where a %g V-step ramp reaches %g cd/m2)"
                   % (p["ramp_step_v"], p["target_l0_cd_m2"]))
    dark_rule = ("%g s dark every %g s of drive (dark baseline tracked)"
                 % (p["dark_s"], p["dark_every_s"]) if p.get("dark_every_s") else None)
    checkup_rule = None
    if checkups is not None:
        sweep = checkups.step.params
        when = (["every %g s of stress" % checkups.every_s] if checkups.every_s else [])
        when += ["at L/L0 %s" % ", ".join("%g" % f for f in checkups.at_fractions)] \
            if checkups.at_fractions else []
        checkup_rule = "J-V-L %g-%g V in %g V steps of %g s, %s" % (
            sweep.start_v, sweep.stop_v, sweep.step_v, sweep.dwell_s, " and ".join(when))
    return {"stop_rule": stop, "l0_rule": l0, "dark_rule": dark_rule,
            "checkup_rule": checkup_rule}


def _metadata(store: Any, sequence: Any, request: SequenceRequest, runs: list[Run],
              stress: _Stress | None, stress_step: dict[str, Any] | None) -> dict[str, Any]:
    """The ISOS-style block: what the operator gave (null where not given) and what the
    service knows of the runs."""
    given = request.metadata.model_dump()
    out: dict[str, Any] = {name: given.get(name) or None for name in METADATA_FIELDS}
    rig = store.get_rig(sequence.rig)
    out.update({
        "device": request.device.model_dump(exclude_none=True) if request.device else None,
        "operator": request.operator, "rig": rig.name, "rig_spec": rig.spec,
        "firmware_version": (rig.firmware or {}).get("version"),
        "board_ids": sorted({r.board_id for r in runs if r.board_id}),
        "calibration_ids": sorted({r.calibration_id for r in runs
                                   if r.calibration_id is not None}),
        "stress": None, "sample_period_s": None, "laser_power_mw_cm2": None,
        "laser_wavelength_nm": None, "temperature_min_c": None, "temperature_max_c": None,
        "humidity_min_pct": None, "humidity_max_pct": None, "stop_rule": None,
        "l0_rule": None, "dark_rule": None, "checkup_rule": None})
    if stress is None or stress_step is None:
        return out
    params = stress.run.params
    out["stress"] = _stress_words(stress.run)["text"]
    out["sample_period_s"] = params.get("sample_period_s")
    if stress.run.kind == "photostability":
        out["laser_power_mw_cm2"] = params.get("laser_power_mw_cm2")
        out["laser_wavelength_nm"] = params.get("wavelength_nm")
    out["temperature_min_c"], out["temperature_max_c"] = _range(stress.cols, "temperature_c")
    out["humidity_min_pct"], out["humidity_max_pct"] = _range(stress.cols, "humidity_pct")
    step = request.steps[stress_step["index"]]
    out.update(_rules(stress, getattr(step, "checkups", None)))
    return out


def _jsonable(value: Any) -> Any:
    """Timestamps as ISO 8601 text, numpy numbers as Python's, NaN and infinities null."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
