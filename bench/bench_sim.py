"""Simulator figures: how much faster than real time whole runs go through the whole chain.

Each run goes `lumenrig serve --rig sim:PRESET?accel=K` (the real MicroPython firmware
behind a pty, hil_sim's SimRig) -> POST /api/runs -> SSE until `end`, and must reproduce the
summary the preset documents (hil_sim/README.md, the same bounds as tests/test_e2e_runs.py)
with every stored seq exactly once and at least 80 % of its sample periods sampled (a run
that skipped more can land on the summary by luck). The accel doubles until a run fails; the
figure is device time / wall time (POST sent to `end` received) of the run at the highest
accel that passed. The baseline is the same run at accel 1 in spirit: real time, factor 1.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.service_proc import AUTH, ServiceProcess

GOAL_REALTIME = 1000
MIN_COVERAGE = 0.8  # of the sample periods: a run that skipped more is not reproduced
LOADED_ACCEL = 1600  # the loaded run: the goal with room, every core busy besides
WARM_UP = {"voltage_v": 0.1, "max_duration_s": 2, "sample_period_s": 0.5}


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
    """One documented run: where it goes, what it must give, which accels to try."""

    name: str
    preset: str
    kind: str
    params: dict[str, Any]
    period_s: float
    check: Callable[[dict[str, Any]], bool]
    accels: tuple[int, int]  # the first accel tried and the highest


PROFILES = (
    Profile("g1_lifetime", "G1", "lifetime",
            {"voltage_v": 10.0, "sample_period_s": 1.0, "host_loss_grace_s": 30}, 1.0,
            g1_lifetime_ok, (100, 3200)),
    Profile("film_photostability", "film", "photostability",
            {"duration_s": 7200, "pl_interval_s": 300, "sample_period_s": 10}, 10.0,
            film_photostability_ok, (1000, 64000)),
)


def run_once(profile: Profile, accel: int, timeout_s: float = 120) -> dict[str, Any]:
    """One whole run at accel on a fresh service: wall and device time, summary, checks,
    and the experiment time the simulated board cut as stalls (hil_sim/README.md).

    A 0.1 V lifetime run goes first, so that the service's one-time costs of a first run
    (first use of its SQL statements, models and fit) are not counted against the
    simulator; at 0.1 V neither an LED nor the film (laser off) ages.
    """
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        service = ServiceProcess([f"sim:{profile.preset}?accel={accel}&seed=1"],
                                 f"sqlite:///{Path(folder) / 'sim.sqlite'}", Path(folder)).start()
        try:
            with httpx.Client(timeout=30) as client:
                _run(client, service.url, "lifetime", WARM_UP, timeout_s)
                t0 = time.perf_counter()
                run_id, final = _run(client, service.url, profile.kind, profile.params,
                                     timeout_s)
                wall_s = time.perf_counter() - t0
                rows = client.get(f"{service.url}/api/runs/{run_id}/samples",
                                  timeout=60).json()["rows"]
                stats = client.get(f"{service.url}/api/rigs/rig1").json()["simulator"]["stats"]
        finally:
            service.stop()
    seqs = [row[0] for row in rows]
    device_s = rows[-1][1] if rows else 0.0
    summary = final.get("summary") or {}
    return {
        "accel": accel, "load": load, "state": final["state"], "wall_s": wall_s,
        "device_s": device_s,
        "samples": len(seqs), "coverage": len(seqs) / (device_s / profile.period_s + 1),
        "seqs_once": seqs == list(range(len(seqs))), "summary": summary,
        "stalled_s": stats["stalled_device_s"],
        "ok": (final["state"] == "completed" and seqs == list(range(len(seqs)))
               and len(seqs) >= MIN_COVERAGE * (device_s / profile.period_s + 1)
               and profile.check(summary)),
    }


def _run(client: httpx.Client, url: str, kind: str, params: dict[str, Any], timeout_s: float
         ) -> tuple[int, dict[str, Any]]:
    """POST a run, follow its stream to `end`: (run id, the finished run)."""
    response = client.post(url + "/api/runs", headers=AUTH,
                           json={"kind": kind, "rig": "rig1", "params": params})
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    return run_id, _follow_to_end(client, f"{url}/api/runs/{run_id}/stream", timeout_s)


def _follow_to_end(client: httpx.Client, url: str, timeout_s: float) -> dict[str, Any]:
    kind = None
    with client.stream("GET", url, timeout=httpx.Timeout(10, read=timeout_s)) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:") and kind == "end":
                return json.loads(line[5:])
    raise AssertionError("the stream closed before the run's end")


def highest_passing(profile: Profile) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Double the accel from profile.accels[0] while runs pass (up to profile.accels[1]),
    then try once between the last pass and the first failure: (best pass, every try)."""
    accel, top = profile.accels
    tries: list[dict[str, Any]] = []
    best = None
    while accel <= top:
        result = run_once(profile, accel)
        tries.append(result)
        if not result["ok"]:
            break
        best = result
        accel *= 2
    if best is not None and not tries[-1]["ok"]:
        middle = round(math.sqrt(best["accel"] * tries[-1]["accel"]), -2)
        result = run_once(profile, int(middle))
        tries.append(result)
        if result["ok"]:
            best = result
    return best, tries


def _summary_text(result: dict[str, Any]) -> str:
    keys = ("l0_cd_m2", "t50_s", "min_fraction", "t_min_s", "final_fraction")
    shown = ", ".join(f"{k}={result['summary'][k]:.4g}" for k in keys
                      if isinstance(result["summary"].get(k), float | int))
    return (f"accel {result['accel']}: {result['state']}, {shown}, {result['samples']} samples "
            f"({result['coverage']:.0%} of periods), seqs once: {result['seqs_once']}, "
            f"{result['stalled_s']:.0f} device s cut as stalls, "
            f"machine load {result['load']:.1f}")


def run_loaded(profile: Profile, accel: int) -> dict[str, Any]:
    """run_once with one busy loop per core and one more running beside it: what a shared
    machine does to the simulator (the stall rule keeps every period; the factor drops)."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range((os.cpu_count() or 1) + 1)]
    try:
        return run_once(profile, accel)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def run(profiles: tuple[Profile, ...] = PROFILES, loaded_accel: int = LOADED_ACCEL
        ) -> dict[str, dict[str, Any]]:
    """The highest passing accel of each profile; then the first profile once more at
    loaded_accel on a machine whose every core is kept busy."""
    figures: dict[str, dict[str, Any]] = {}
    worst = None
    for profile in profiles:
        best, tries = highest_passing(profile)
        failed = next((t for t in tries if not t["ok"]), None)
        prefix = f"sim_{profile.name}"
        if best is None:
            figures[f"{prefix}_realtime_factor"] = {
                "value": 0.0, "unit": "x", "goal": f">= {GOAL_REALTIME}",
                "check": "no accel passed: " + _summary_text(tries[0])}
            worst = 0.0
            continue
        factor = best["device_s"] / best["wall_s"]
        worst = factor if worst is None else min(worst, factor)
        figures[f"{prefix}_realtime_factor"] = {
            "value": factor, "unit": f"x (device {best['device_s']:.0f} s in "
                                     f"{best['wall_s']:.2f} s wall)",
            "goal": f">= {GOAL_REALTIME}", "check": _summary_text(best),
            "next_accel": _summary_text(failed) if failed else "none tried above"}
        figures[f"{prefix}_accel"] = {"value": best["accel"], "unit": "highest accel passing"}
        figures[f"{prefix}_sample_coverage"] = {"value": best["coverage"],
                                                "unit": "samples / sample periods"}
    figures["sim_realtime_factor"] = {"value": worst, "unit": "x (the lower of the runs)",
                                      "goal": f">= {GOAL_REALTIME}"}
    loaded = run_loaded(profiles[0], loaded_accel)
    prefix = f"sim_{profiles[0].name}_loaded"
    figures[f"{prefix}_realtime_factor"] = {
        "value": loaded["device_s"] / loaded["wall_s"],
        "unit": f"x at accel {loaded_accel}, every core busy besides",
        "check": ("passes: " if loaded["ok"] else "FAILS: ") + _summary_text(loaded)}
    figures[f"{prefix}_sample_coverage"] = {"value": loaded["coverage"],
                                            "unit": "samples / sample periods",
                                            "goal": f">= {MIN_COVERAGE}"}
    return figures


if __name__ == "__main__":
    for key, figure in run().items():
        print(f"{key:44s} {figure['value']!s:>14.10} {figure['unit']}  {figure.get('check', '')}")
