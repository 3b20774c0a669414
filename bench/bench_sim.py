"""Simulator figures: device time per wall second of whole runs through the whole chain.

Each run goes `lumenrig serve --rig sim:PRESET?accel=max&seed=1` (the real MicroPython
firmware behind a pty, hil_sim's SimRig) -> POST /api/runs -> SSE until `end`. The simulated
board's clock is discrete-event (hil_sim/clock.py): device time moves only by the
firmware's sleeps and modelled costs, so a run's samples are the same on any machine at any
load, and the wall time it takes is the simulator's speed. The figure is device time / wall
time (POST sent to `end` received); the baseline is a real board: factor 1.

A run counts only if it completes, reproduces the summary its preset documents
(hil_sim/README.md, the bounds of tests/e2e/test_e2e_runs.py), stores every seq once and
samples every period of its grid. The same runs with every core kept busy must store the
very same samples.
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.service_proc import AUTH, ServiceProcess, busy_cores

GOAL_REALTIME = 10_000
GOAL_LOADED = 5_000
WARM_UP = {"voltage_v": 0.1, "max_duration_s": 2, "sample_period_s": 0.5}
RUN_TIMEOUT_S = 300  # wall seconds from POST to `end`: a failed run, not a slow one


def _within(value: Any, target: float, tolerance: float) -> bool:
    return value is not None and abs(value - target) <= tolerance


def g1_lifetime_ok(summary: dict[str, Any]) -> bool:
    """G1 at 10 V: L0 about 50 cd/m2 (5 %), T50 630 s (2 %)."""
    return _within(summary.get("l0_cd_m2"), 50, 2.5) and _within(summary.get("t50_s"), 630, 12.6)


def film_photostability_ok(summary: dict[str, Any]) -> bool:
    """Film under the laser for 120 min: PL minimum 0.75 near 35 min, 0.88 at the end."""
    return (_within(summary.get("min_fraction"), 0.75, 0.03)
            and _within(summary.get("t_min_s"), 2100, 400)
            and _within(summary.get("final_fraction"), 0.88, 0.03))


@dataclass(frozen=True)
class Profile:
    """One documented run: where it goes, its sample period, what its summary must give."""

    name: str
    preset: str
    kind: str
    params: dict[str, Any]
    period_s: float
    check: Callable[[dict[str, Any]], bool]


PROFILES = (
    Profile("g1_lifetime", "G1", "lifetime",
            {"voltage_v": 10.0, "sample_period_s": 1.0, "host_loss_grace_s": 30}, 1.0,
            g1_lifetime_ok),
    Profile("film_photostability", "film", "photostability",
            {"duration_s": 7200, "pl_interval_s": 300, "sample_period_s": 10}, 10.0,
            film_photostability_ok),
)


# ---- one run through the service -----------------------------------------------------------

def run_once(profile: Profile) -> dict[str, Any]:
    """One whole run at accel=max on a fresh service: wall and device time, the stored
    sample rows, summary and checks.

    A 0.1 V lifetime run goes first, so that the service's one-time costs of a first run
    (first use of its SQL statements, models and fit) are not counted against the
    simulator; at 0.1 V neither an LED nor the film (laser off) ages.
    """
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        service = ServiceProcess([f"sim:{profile.preset}?accel=max&seed=1"],
                                 f"sqlite:///{Path(folder) / 'sim.sqlite'}", Path(folder)).start()
        try:
            with httpx.Client(timeout=30) as client:
                _run(client, service.url, "lifetime", WARM_UP)
                t0 = time.perf_counter()
                run_id, final, stopped_s = _run(client, service.url, profile.kind,
                                                profile.params)
                wall_s = time.perf_counter() - t0
                stored = client.get(f"{service.url}/api/runs/{run_id}/samples",
                                    timeout=60).json()
        finally:
            service.stop()
    result = _judge(profile, final, stored["columns"], stored["rows"], wall_s, load)
    result["stopped_wall_s"] = stopped_s - t0 if stopped_s is not None else None
    return result


def _judge(profile: Profile, final: dict[str, Any], columns: list[str],
           rows: list[list[Any]], wall_s: float, load: float) -> dict[str, Any]:
    """The run's figures and checks from its end event and stored rows."""
    seqs = [row[columns.index("seq")] for row in rows]
    times_s = [row[columns.index("t_s")] for row in rows]
    device_s = times_s[-1] - times_s[0] if times_s else 0.0
    summary = final.get("summary") or {}
    seqs_once = seqs == list(range(len(seqs)))
    every_period = on_grid(times_s, profile.period_s)
    return {
        "load": load, "state": final["state"], "wall_s": wall_s, "device_s": device_s,
        "samples": len(rows), "rows": rows, "summary": summary, "seqs_once": seqs_once,
        "every_period": every_period,
        "ok": (final["state"] == "completed" and seqs_once and every_period
               and profile.check(summary)),
    }


def on_grid(times_s: list[float], period_s: float) -> bool:
    """Every sample period sampled: one sample per period of the span (round(span/period)
    + 1 of them) and no gap longer than 1.5 periods. A stamp is the reading's device time,
    a fraction of a millisecond after its due (more in a pass that does more, such as the
    first), hence round. The clock is discrete-event, so anything else is a bug, not a slow
    machine."""
    if not times_s:
        return False
    span_s = times_s[-1] - times_s[0]
    expected = round(span_s / period_s) + 1
    gaps_ok = all(b - a <= 1.5 * period_s for a, b in itertools.pairwise(times_s))
    return len(times_s) == expected and gaps_ok


def _run(client: httpx.Client, url: str, kind: str, params: dict[str, Any]
         ) -> tuple[int, dict[str, Any], float | None]:
    """POST a run, follow its stream to `end`: (run id, the finished run, perf_counter when
    the rig's run_stopped event arrived)."""
    response = client.post(url + "/api/runs", headers=AUTH,
                           json={"kind": kind, "rig": "rig1", "params": params})
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    return (run_id, *_follow_to_end(client, f"{url}/api/runs/{run_id}/stream"))


def _follow_to_end(client: httpx.Client, url: str) -> tuple[dict[str, Any], float | None]:
    """(the `end` event's run, perf_counter at the run_stopped event): the wall time after
    the rig stopped is the service finishing the run, not the simulator running it."""
    kind = None
    stopped_s = None
    with client.stream("GET", url, timeout=httpx.Timeout(10, read=RUN_TIMEOUT_S)) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:") and kind == "end":
                return json.loads(line[5:]), stopped_s
            elif line.startswith("data:") and kind == "event" and stopped_s is None:
                if json.loads(line[5:]).get("name") == "run_stopped":
                    stopped_s = time.perf_counter()
    raise AssertionError("the stream closed before the run's end")


def run_loaded(profile: Profile) -> dict[str, Any]:
    """run_once with every core kept busy beside it."""
    with busy_cores():
        return run_once(profile)


# ---- the loop pass: wall against model -----------------------------------------------------

def modelled_passes(preset: str = "G1", period_s: float = 1.0, periods: int = 30
                    ) -> dict[str, float]:
    """What the model charges a firmware loop pass, from the real firmware on a SimBoard in
    this process (tests/support/fw_harness.py): a constant-voltage 10 V run at period_s; after 10
    samples, `periods` sample periods pass by pass, reading the board clock's charged_us
    (hil_sim.costs: PASS_US per pass plus each I2C transfer's bus time).

    sample_pass_us: median charge of a pass that took a sample; passes_per_period and
    charged_per_period_us: all passes of a period (safety polls, ambient readings too).
    """
    from protocol import schema
    from tests.support.fw_harness import Bed

    bed = Bed(preset, accel=None, seed=1)
    bed.hello()
    bed.start_run(mode=schema.MODE_CONSTANT_VOLTAGE, setpoint_mv=10_000,
                  sample_period_ms=round(period_s * 1000), max_duration_s=3600)
    ctrl, clock, board = bed.ctrl, bed.board.clock, bed.board
    bed.run_until(lambda: ctrl.next_seq >= 10, what="10 samples")
    first_seq, first_passes, first_charged_us = ctrl.next_seq, board.passes, clock.charged_us
    sample_passes_us = []
    while ctrl.next_seq < first_seq + periods:
        seq, charged_us = ctrl.next_seq, clock.charged_us
        bed.step()
        if ctrl.next_seq > seq:
            sample_passes_us.append(clock.charged_us - charged_us)
    samples = ctrl.next_seq - first_seq
    return {"sample_pass_us": statistics.median(sample_passes_us),
            "passes_per_period": (board.passes - first_passes) / samples,
            "charged_per_period_us": (clock.charged_us - first_charged_us) / samples}


def loop_pass_figures(result: dict[str, Any], period_s: float) -> dict[str, dict[str, Any]]:
    """Wall time per sample period of a run beside the model's charge per pass.

    The service's API exposes no loop-pass count of the simulated board (SimRig.stats has
    none), so the wall figure is per sample period, which spans passes_per_period passes.
    """
    from hil_sim.costs import PASS_US
    from lumenfw.board_config import I2C_FREQ_HZ

    model = modelled_passes(period_s=period_s)
    passes = model["passes_per_period"]
    wall_per_period_us = result["wall_s"] * 1e6 / max(result["samples"], 1)
    return {
        "sim_loop_pass_us": {
            "value": wall_per_period_us,
            "unit": f"wall us per {period_s:g} s sample period, not per pass (no pass count "
                    f"exposed; the model makes {passes:.1f} passes a period: "
                    f"~{wall_per_period_us / passes:.1f} us each)"},
        "sim_loop_pass_modelled_us": {
            "value": model["sample_pass_us"],
            "unit": f"device us charged to a sampling pass (PASS_US {PASS_US} + I2C "
                    f"{model['sample_pass_us'] - PASS_US:.0f} at {I2C_FREQ_HZ // 1000} kHz); "
                    f"a whole period {model['charged_per_period_us']:.0f} us"},
    }


# ---- the figures -----------------------------------------------------------------------------

def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _check_text(result: dict[str, Any]) -> str:
    keys = ("l0_cd_m2", "t50_s", "min_fraction", "t_min_s", "final_fraction")
    shown = ", ".join(f"{k}={result['summary'][k]:.4g}" for k in keys
                      if isinstance(result["summary"].get(k), float | int))
    return (f"{'passes' if result['ok'] else 'FAILS'}: {result['state']}, {shown}, "
            f"{result['samples']} samples, every seq once: {_yes(result['seqs_once'])}, "
            f"every period sampled: {_yes(result['every_period'])}, "
            f"machine load {result['load']:.1f}")


def _factor_figure(result: dict[str, Any], goal: int, note: str = "") -> dict[str, Any]:
    stopped_s = result["stopped_wall_s"]
    stopped = f"; run_stopped at {stopped_s:.2f} s" if stopped_s is not None else ""
    return {"value": result["device_s"] / result["wall_s"],
            "unit": f"x (device {result['device_s']:.0f} s in {result['wall_s']:.2f} s wall"
                    f"{stopped}{note})",
            "goal": f">= {goal}", "check": _check_text(result)}


def loaded_figures(profile: Profile, unloaded: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The profile once more with every core busy: its factor, and whether it stored the
    unloaded run's samples. The API's sample rows (host/store/columns.py CSV_COLUMNS) hold
    no wall-clock column, so whole rows are compared."""
    loaded = run_loaded(profile)
    prefix = f"sim_{profile.name}_loaded"
    return {
        f"{prefix}_realtime_factor": _factor_figure(
            loaded, GOAL_LOADED, f", {(os.cpu_count() or 1) + 1} busy loops beside"),
        f"{prefix}_identical": {"value": loaded["rows"] == unloaded["rows"],
                                "unit": "stored samples equal the unloaded run's, every column"},
    }


def run(profiles: tuple[Profile, ...] = PROFILES, loaded: bool = True
        ) -> dict[str, dict[str, Any]]:
    """Each profile once at accel=max; the lower factor is sim_realtime_factor (0 for a run
    that fails its checks); the loop pass figures from the first profile; then, if loaded,
    each profile again with every core busy."""
    figures: dict[str, dict[str, Any]] = {}
    results = {}
    for profile in profiles:
        result = results[profile.name] = run_once(profile)
        figures[f"sim_{profile.name}_realtime_factor"] = _factor_figure(result, GOAL_REALTIME)
    figures["sim_realtime_factor"] = {
        "value": min((r["device_s"] / r["wall_s"] if r["ok"] else 0.0)
                     for r in results.values()),
        "unit": "x (the lower of the runs; one failing its checks counts 0)",
        "goal": f">= {GOAL_REALTIME}"}
    figures.update(loop_pass_figures(results[profiles[0].name], profiles[0].period_s))
    if loaded:
        for profile in profiles:
            figures.update(loaded_figures(profile, results[profile.name]))
    return figures


if __name__ == "__main__":
    for key, figure in run().items():
        print(f"{key:44s} {figure['value']!s:>14.10} {figure['unit']}  {figure.get('check', '')}")
