"""Follow a run from the command line: a progress line fed by the service's SSE stream, and
how a followed run ends the command (summary on stdout, exit code, Ctrl-C)."""

import json
import time
from typing import NoReturn

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from host.cli.api import Refused, Service, Unreachable, detail_of
from host.cli.options import EXIT_INTERRUPTED, fail

FINAL_STATES = ("completed", "aborted", "failed")
# Where following stops: the final states, and `interrupted` (the rig is out of reach; the
# service records the run's true end if the board comes back).
STOP_STATES = (*FINAL_STATES, "interrupted")


def _describe(run: dict, last: dict | None) -> str:
    from host.runs.kinds import KINDS  # here: it loads the analysis, which `lumenrig` need not

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


def _stream_until_end(service: Service, path: str, run: dict, progress: Progress,
                      task) -> None:
    """Update the bar from the live stream until it ends or says the run stopped."""
    with httpx.stream("GET", service.server + path + "/stream", headers=service.headers,
                      timeout=httpx.Timeout(30, read=60)) as response:
        if response.status_code != 200:
            response.read()
            raise Refused(response.status_code, detail_of(response))
        for kind, data in _sse_events(response):
            if kind == "progress":
                progress.update(task, completed=data.get("progress", 0.0),
                                what=_describe(run, data))
            elif kind == "end" or (kind == "state" and data.get("state") in STOP_STATES):
                return


def follow_run(service: Service, run: dict) -> dict:
    """Show elapsed time, L/L0 or PL fraction, and ETA until the run ends; return the run.

    A service that stops answering is waited for (it may be restarting); Ctrl-C ends the
    wait with KeyboardInterrupt, the run itself going on."""
    path = "/api/runs/%d" % run["id"]
    columns = (TextColumn("run %d {task.fields[what]}" % run["id"]), BarColumn(),
               TextColumn("{task.percentage:>5.1f}%"), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn())
    # stderr: stdout carries the summary JSON, for scripts to read.
    with Progress(*columns, transient=False, console=Console(stderr=True)) as progress:
        task = progress.add_task("run", total=1.0, what=run["state"])
        while run["state"] not in STOP_STATES:
            try:
                _stream_until_end(service, path, run, progress, task)
                run = service.get(path)
            except (httpx.HTTPError, Unreachable):
                progress.update(task, what="service not answering; trying again")
                time.sleep(1.0)  # the service restarted or the network blinked
        progress.update(task, completed=run.get("progress") or 1.0, what=run["state"])
    return run


def goes_on(run_id: int | None, rig: str | None) -> NoReturn:
    """Ctrl-C while following: the run is the rig's, not this command's; say how to get back
    to it, and end as an interrupted command does (130)."""
    if run_id is None:
        typer.echo("interrupted before the service answered; `lumenrig runs --state running` "
                   "shows whether the run started", err=True)
    else:
        typer.echo("run %d goes on on %s; `lumenrig follow %d` to watch, `lumenrig abort %d` "
                   "to stop" % (run_id, rig or "its rig", run_id, run_id), err=True)
    raise typer.Exit(EXIT_INTERRUPTED)


def finish(final: dict) -> None:
    """Print the summary JSON on stdout; end with 1 unless the run completed."""
    typer.echo(json.dumps(final.get("summary"), indent=1))
    if final["state"] == "interrupted":
        fail("run %s is interrupted: rig %s has been out of reach past the run's host-loss "
             "grace; the service records the run's true end if the board comes back"
             % (final["id"], final["rig"]), 1)
    if final["state"] != "completed":
        fail("run %s ended %s: %s" % (final["id"], final["state"], final.get("error") or ""), 1)
