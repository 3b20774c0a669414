"""Client commands that find runs and label them: runs (a table or JSON), show, tag, note.
Labels are edited through PATCH, which records who changed what (the OS user)."""

import json
from typing import Annotated, Optional

import typer

from host.cli.describe import describe
from host.cli.options import (
    DEFAULT_SERVER,
    DataDir,
    KindName,
    RunId,
    Server,
    Token,
    connect,
    os_user,
    reported,
)
from host.cli.tables import runs_table, stdout_console
from host.settings import DEFAULT_DATA_DIR

app = typer.Typer()

AsJson = Annotated[bool, typer.Option("--json", help="the service's JSON instead of text")]
PAGE_RUNS = 100  # runs asked for per request while following next_cursor


def _known_state(value: Optional[str]) -> Optional[str]:
    """Checked here, not by a typer choice, so other commands do not import the store."""
    if value is not None:
        from host.store.records import RUN_STATES

        if value not in RUN_STATES:
            raise typer.BadParameter("%r is not one of %s" % (value, ", ".join(RUN_STATES)))
    return value


@app.command("runs")
def list_runs(
    kind: Annotated[Optional[KindName], typer.Option(show_default=False)] = None,
    state: Annotated[Optional[str], typer.Option(
        callback=_known_state, help="queued, running, interrupted, paused, completed, aborted "
                                    "or failed", show_default=False)] = None,
    rig: Annotated[Optional[str], typer.Option(show_default=False)] = None,
    tag: Annotated[Optional[list[str]], typer.Option(
        "--tag", help="runs with every one given, repeatable", show_default=False)] = None,
    q: Annotated[Optional[str], typer.Option(
        "--q", help="text in the device, operator, notes or tags", show_default=False)] = None,
    since: Annotated[Optional[str], typer.Option(
        help="created at or after this ISO 8601 time (no zone: UTC)", show_default=False)
                     ] = None,
    until: Annotated[Optional[str], typer.Option(
        help="created before this ISO 8601 time (no zone: UTC)", show_default=False)] = None,
    archived: Annotated[bool, typer.Option(help="list only archived runs")] = False,
    limit: Annotated[int, typer.Option(min=1, help="at most this many runs")] = 50,
    as_json: AsJson = False,
    server: Server = DEFAULT_SERVER,
    token: Token = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """List runs, newest first: id, kind, rig, state, device, tags, headline result."""
    filters = {"kind": kind.value if kind else None, "state": state, "rig": rig,
               "tag": tag or None, "q": q, "since": since, "until": until,
               "archived": "true" if archived else None}
    params = {name: value for name, value in filters.items() if value is not None}
    service = connect(server, token, data_dir)
    runs: list[dict] = []
    cursor = None
    with reported():
        while len(runs) < limit:
            page = service.get("/api/runs", params=dict(
                params, limit=min(PAGE_RUNS, limit - len(runs)),
                **({"cursor": cursor} if cursor else {})))
            runs += page["runs"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    if as_json:
        typer.echo(json.dumps(runs, indent=1))
    elif runs:
        stdout_console().print(runs_table(runs))
    else:
        typer.echo("no runs%s" % (" match" if params else " yet"), err=True)


@app.command()
def show(run_id: RunId, as_json: AsJson = False, server: Server = DEFAULT_SERVER,
         token: Token = None, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """One run: state, device, labels, parameters and summary with units, events."""
    service = connect(server, token, data_dir)
    with reported():
        run = service.get("/api/runs/%d" % run_id)
    typer.echo(json.dumps(run, indent=1) if as_json else describe(run))


@app.command()
def tag(
    run_id: RunId,
    tags: Annotated[list[str], typer.Argument(help="one word each")],
    remove: Annotated[bool, typer.Option(help="take these tags off instead")] = False,
    server: Server = DEFAULT_SERVER,
    token: Token = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Add tags to a run's tags (or remove them); the change is recorded as yours."""
    service = connect(server, token, data_dir)
    path = "/api/runs/%d" % run_id
    with reported():
        service.need_token()  # before reading the run, so a missing token says so first
        current = service.get(path)["tags"]
        if remove:
            wanted = [t for t in current if t not in tags]
        else:
            wanted = current + [t for t in dict.fromkeys(tags) if t not in current]
        edited = service.patch(path, json={"tags": wanted, "by": os_user()})
    typer.echo("run %d tags: %s" % (run_id, ", ".join(edited["tags"]) or "none"))


@app.command()
def note(
    run_id: RunId,
    text: Annotated[str, typer.Argument(help="the run's notes (replaces what they were)")],
    server: Server = DEFAULT_SERVER,
    token: Token = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Set a run's notes; the change is recorded as yours."""
    service = connect(server, token, data_dir)
    with reported():
        service.patch("/api/runs/%d" % run_id, json={"notes": text, "by": os_user()})
    typer.echo("run %d notes set" % run_id)
