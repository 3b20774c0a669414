"""Multi-channel figure: device time per wall second of a board of channel cards running a
G1 lifetime on every channel at once, through the whole chain.

`lumenrig serve --rig sim:G1?accel=max&seed=7&spread=0.05&channels=8` (the real firmware on
the MicroPython VM behind a pty, a pixel of the preset on each card, each a bit different)
-> one POST /api/runs per channel, back to back -> every run to its end (half its L0). The
board's clock is discrete-event (hil_sim/clock.py), as in bench_sim: the samples are the
same at any load, and the wall time is the simulator's speed with eight channels to sample.

A sample's t_s is its own run's time, so the runs are placed on one clock by a rig snapshot
taken while all of them run: the difference of two channels' last samples is the difference
of their starts, to within a sample period. The board's device time is then the latest
run's last sample less the earliest run's first (run_once's device time, for the board).
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.bench_sim import WARM_UP, _run, _yes, on_grid
from tests.support.service_proc import AUTH, ServiceProcess, wait_for

CHANNELS = 8
SEED = 7
SPREAD = 0.05
PERIOD_S = 1.0
LIFETIME = {"voltage_v": 10.0, "sample_period_s": PERIOD_S, "max_duration_s": 7200}
GOAL_REALTIME = 2_000
BOARD_TIMEOUT_S = 600  # wall seconds from the first POST to the last end: a failed board
SNAPSHOT_POLL_S = 0.05  # while the starts are placed (a fraction of a wall second)
END_POLL_S = 0.5  # while the runs go: the wall time is read from finished_at, not the poll


def rig_spec(channels: int) -> str:
    return f"sim:G1?accel=max&seed={SEED}&spread={SPREAD}&channels={channels}"


# ---- the board's runs through the service ----------------------------------------------------

def run_board(channels: int = CHANNELS, params: dict[str, Any] | None = None
              ) -> dict[str, Any]:
    """A lifetime on every channel of a fresh service's card rig, posted back to back at
    accel=max: wall time (first POST sent to the last run's finished_at), each run's end and
    stored rows, the runs' start offsets on one clock (None if no snapshot caught them all
    running).

    A 0.1 V run on channel 0 goes first, as in bench_sim.run_once, so that the service's
    one-time costs of a first run are not counted against the simulator.
    """
    params = params or LIFETIME
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        service = ServiceProcess([rig_spec(channels)],
                                 f"sqlite:///{Path(folder) / 'channels.sqlite'}",
                                 Path(folder)).start()
        try:
            with httpx.Client(timeout=30) as client:
                _run(client, service.url, "lifetime", WARM_UP)
                warm_sample = _channels(client, service.url)[0]["last_sample"]
                t0_epoch_s = time.time()
                run_ids = [_start(client, service.url, channel, params)
                           for channel in range(channels)]
                offsets_s = _start_offsets(client, service.url, run_ids, warm_sample)
                runs = _all_ended(client, service.url, run_ids)
                stored = [client.get(f"{service.url}/api/runs/{run_id}/samples",
                                     timeout=60).json() for run_id in run_ids]
        finally:
            service.stop()
    wall_s = max(_epoch_s(run["finished_at"]) for run in runs) - t0_epoch_s
    return {"load": load, "wall_s": wall_s, "runs": runs, "offsets_s": offsets_s,
            "rows": [_times_and_seqs(s["columns"], s["rows"]) for s in stored]}


def _start(client: httpx.Client, url: str, channel: int, params: dict[str, Any]) -> int:
    response = client.post(url + "/api/runs", headers=AUTH, json={
        "kind": "lifetime", "rig": "rig1", "channel": channel, "params": params})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _channels(client: httpx.Client, url: str) -> list[dict[str, Any]]:
    """The rig's channels as the service knows them, in channel order: each one's run and
    last sample."""
    channels = client.get(url + "/api/rigs/rig1").json()["device"]["channels"]
    return sorted(channels, key=lambda c: c["channel"])


def _start_offsets(client: httpx.Client, url: str, run_ids: list[int],
                   warm_sample: dict[str, Any] | None) -> list[float] | None:
    """Each run's start after the first run's, in device seconds (to within a sample
    period), from the first snapshot in which every channel runs its run and has a sample of
    it; None if none did before the runs ended."""
    deadline = time.monotonic() + BOARD_TIMEOUT_S
    while time.monotonic() < deadline:
        channels = _channels(client, url)
        last = [c["last_sample"] for c in channels]
        running = [c["run"] for c in channels] == run_ids
        if running and all(last) and last[0] != warm_sample:
            return [last[0]["t_s"] - sample["t_s"] for sample in last]
        if not any(c["run"] for c in channels):
            return None
        time.sleep(SNAPSHOT_POLL_S)
    return None


def _all_ended(client: httpx.Client, url: str, run_ids: list[int]) -> list[dict[str, Any]]:
    """Every run once finished: the rig's channels first (one request a poll), then each
    run's record, which is finished a moment later."""
    wait_for(lambda: not client.get(url + "/api/rigs/rig1").json()["active_runs"],
             BOARD_TIMEOUT_S, "every channel's run to end", END_POLL_S)
    return [wait_for(lambda run_id=run_id: _finished(client, url, run_id), 60,
                     f"run {run_id} to be finished", SNAPSHOT_POLL_S) for run_id in run_ids]


def _finished(client: httpx.Client, url: str, run_id: int) -> dict[str, Any] | None:
    run = client.get(f"{url}/api/runs/{run_id}").json()
    return None if run["state"] in ("queued", "running") else run


def _epoch_s(stamp: str) -> float:
    """A stored ISO time (the service's wall clock, this machine's) in epoch seconds."""
    return datetime.fromisoformat(stamp).timestamp()


def _times_and_seqs(columns: list[str], rows: list[list[Any]]) -> dict[str, list[Any]]:
    return {"t_s": [row[columns.index("t_s")] for row in rows],
            "seq": [row[columns.index("seq")] for row in rows]}


# ---- judging and the figure ------------------------------------------------------------------

def board_device_s(board: dict[str, Any]) -> float:
    """Device seconds the board spent from the earliest run's first sample to the latest
    run's last, with each run placed at its start offset; without offsets, the longest run
    alone (a lower bound)."""
    times = [rows["t_s"] for rows in board["rows"] if rows["t_s"]]
    if not times:
        return 0.0
    offsets_s = board["offsets_s"]
    if offsets_s is None:
        return max(t_s[-1] - t_s[0] for t_s in times)
    return (max(o + t_s[-1] for o, t_s in zip(offsets_s, times))
            - min(o + t_s[0] for o, t_s in zip(offsets_s, times)))


def judge(board: dict[str, Any], period_s: float = PERIOD_S) -> dict[str, Any]:
    """The board's checks: every run completed, stored each seq once (0..n-1) and sampled
    every period of its span."""
    runs, rows = board["runs"], board["rows"]
    completed = sum(run["state"] == "completed" for run in runs)
    seqs_once = all(r["seq"] == list(range(len(r["seq"]))) for r in rows)
    every_period = all(on_grid(r["t_s"], period_s) for r in rows)
    return {"completed": completed, "seqs_once": seqs_once, "every_period": every_period,
            "ok": completed == len(runs) and seqs_once and every_period}


def _span_text(values_s: list[float], what: str) -> str:
    low, high = min(values_s), max(values_s)
    return f"{what} {low:.0f} s" if round(low) == round(high) else (
        f"{what} {low:.0f} to {high:.0f} s")


def factor_figure(board: dict[str, Any], period_s: float = PERIOD_S,
                  goal: int | None = GOAL_REALTIME) -> dict[str, Any]:
    """The board's device time / wall time, with its checks (and, with a goal, whether the
    factor meets it)."""
    verdict = judge(board, period_s)
    device_s = board_device_s(board)
    factor = device_s / board["wall_s"]
    runs = board["runs"]
    samples = sum(len(r["seq"]) for r in board["rows"])
    longest_s = max((r["t_s"][-1] - r["t_s"][0] for r in board["rows"] if r["t_s"]),
                    default=0.0)
    offsets_s = board["offsets_s"]
    if len(runs) == 1:
        placed = "one channel"
    elif offsets_s is None:
        placed = f"{len(runs)} channels, starts not placed: the longest run alone"
    else:
        placed = f"{len(runs)} channels, {_span_text(offsets_s, 'starts')} after the first"
    t50s = [run["summary"]["t50_s"] for run in runs
            if isinstance((run.get("summary") or {}).get("t50_s"), float | int)]
    met = "" if goal is None else f"; goal {'met' if factor >= goal else 'not met'}"
    return {
        "value": factor,
        "unit": f"x (board {device_s:.0f} device s in {board['wall_s']:.2f} s wall, "
                f"{placed}; longest run {longest_s:.0f} s; "
                f"{samples} samples, {samples / board['wall_s']:.0f} samples/s)",
        **({} if goal is None else {"goal": f">= {goal}"}),
        "check": (f"{'passes' if verdict['ok'] else 'FAILS'}: {verdict['completed']} of "
                  f"{len(runs)} runs completed, "
                  f"{_span_text(t50s, 'T50') + ', ' if t50s else ''}every seq once: "
                  f"{_yes(verdict['seqs_once'])}, every period sampled: "
                  f"{_yes(verdict['every_period'])}, machine load {board['load']:.1f}{met}"),
    }


def run(channels: int = CHANNELS, params: dict[str, Any] | None = None,
        baseline: bool = True) -> dict[str, dict[str, Any]]:
    """The board once, every channel at once: multichannel_realtime_factor; beside it, if
    baseline, the same rig spec with one card: how the factor scales with the channels."""
    figures = {"multichannel_realtime_factor": factor_figure(run_board(channels, params))}
    if baseline:
        figures["multichannel_one_channel_realtime_factor"] = factor_figure(
            run_board(1, params), goal=None)
    return figures


if __name__ == "__main__":
    for key, figure in run().items():
        print(f"{key:32s} {figure['value']:12.4g} {figure['unit']}")
        print(f"{'':32s} {figure['check']}")
