"""Follow a run from the command line: a progress line fed by the service's SSE stream."""

import json
import time

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from host.runs.kinds import KINDS

FINAL_STATES = ("completed", "aborted", "failed")
# Where following stops: the final states, and `interrupted` (the rig is out of reach; the
# service records the run's true end if the board comes back).
STOP_STATES = (*FINAL_STATES, "interrupted")


def _describe(run: dict, last: dict | None) -> str:
    kind = KINDS.get(run["kind"])
    figure = kind.progress_figure if kind is not None else None
    if figure is not None and last and last.get(figure[0]) is not None:
        return "%s %.3f" % (figure[1], last[figure[0]])
    if last and last.get("voltage_v") is not None:
        return "%.2f V" % last["voltage_v"]
    return run["state"]


def _sse_events(response: httpx.Response):
    kind, data = None, []
    for line in response.iter_lines():
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line and data:
            yield kind or "message", json.loads("\n".join(data))
            kind, data = None, []


def follow_run(server: str, run_id: int, headers: dict) -> dict:
    """Show elapsed time, L/L0 or PL fraction, and ETA until the run ends; return the run."""
    base = server.rstrip("/") + "/api/runs/%d" % run_id
    run = httpx.get(base, headers=headers, timeout=30).json()
    columns = (TextColumn("run %d {task.fields[what]}" % run_id), BarColumn(),
               TextColumn("{task.percentage:>5.1f}%"), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn())
    # stderr: stdout carries the summary JSON, for scripts to read.
    with Progress(*columns, transient=False, console=Console(stderr=True)) as progress:
        task = progress.add_task("run", total=1.0, what=run["state"])
        while run["state"] not in STOP_STATES:
            try:
                with httpx.stream("GET", base + "/stream", headers=headers,
                                  timeout=httpx.Timeout(30, read=60)) as response:
                    for kind, data in _sse_events(response):
                        if kind == "progress":
                            progress.update(task, completed=data.get("progress", 0.0),
                                            what=_describe(run, data))
                        elif kind == "end" or (kind == "state"
                                               and data.get("state") in STOP_STATES):
                            break
            except httpx.HTTPError:
                time.sleep(1.0)  # the service restarted or the network blinked: poll again
            run = httpx.get(base, headers=headers, timeout=30).json()
        progress.update(task, completed=run.get("progress") or 1.0, what=run["state"])
    return run
