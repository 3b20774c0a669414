"""`lumenrig sequence`: start a test sequence from a recipe file, follow it, show its steps,
list, abort; and the bundled recipes. The sequence belongs to the rig: Ctrl-C ends the
command, never the sequence."""

import json
import time
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import httpx
import typer
from rich.table import Table

from host.cli.api import Refused, Service, Unreachable, detail_of
from host.cli.options import (
    DEFAULT_SERVER,
    EXIT_INTERRUPTED,
    DataDir,
    Server,
    Token,
    connect,
    fail,
    os_user,
    reported,
)
from host.cli.tables import headline, stdout_console
from host.cli.words import DASH, duration, local_time
from host.sequences import recipes
from host.settings import DEFAULT_DATA_DIR

app = typer.Typer(name="sequence", no_args_is_help=True,
                  help="Test sequences: steps run in order on one rig, from a recipe file.")

SequenceId = Annotated[int, typer.Argument(min=1, help="sequence id")]
AsJson = Annotated[bool, typer.Option("--json", help="the service's JSON instead of text")]
FINISHED = ("completed", "aborted", "failed")  # host.store.records.SEQUENCE_FINISHED
# A stress's check-up phases (host.sequences.runner) in words; "stress" and "final" say none.
PHASE_WORDS = {"pausing": "pausing for a check-up", "checkup": "check-up",
               "resuming": "resuming after its check-up"}
FOLLOW_PERIOD_S = 1.0  # how often --follow asks the service (a sequence has no live stream)


def _known_state(value: Optional[str]) -> Optional[str]:
    """Checked here, not by a typer choice, so other commands do not import the store."""
    if value is not None:
        from host.store.records import SEQUENCE_STATES

        if value not in SEQUENCE_STATES:
            raise typer.BadParameter("%r is not one of %s"
                                     % (value, ", ".join(SEQUENCE_STATES)))
    return value


def _recipe(given: str) -> recipes.Recipe:
    """A file, else a bundled recipe's name (`jvl-before-after`)."""
    path = Path(given)
    try:
        if path.exists() or path.suffix or not recipes.is_recipe_name(given):
            return recipes.read_recipe(path)
        return recipes.bundled_recipe(given)
    except recipes.RecipeError as exc:
        fail(str(exc))


# ---- start -----------------------------------------------------------------------------------

def _where(where: str) -> str:
    """`steps.1.lifetime.params.voltage_v` as `step 1 (lifetime): params.voltage_v`."""
    parts = where.split(".")
    if len(parts) < 2 or parts[0] != "steps" or not parts[1].isdigit():
        return where
    head = "step %s" % parts[1]
    if len(parts) >= 3:
        head += " (%s)" % parts[2]
    return head if len(parts) <= 3 else "%s: %s" % (head, ".".join(parts[3:]))


def _problems(answer: dict[str, Any]) -> list[str]:
    """Each problem of a 422 as `step N (KIND): FIELD: what`, in the service's own words
    (its `detail` sentences, which carry the value given; `errors` for the rest)."""
    detail = str(answer.get("detail") or "")
    errors = [e for e in answer["errors"] if isinstance(e, dict)]
    starts: list[int] = []
    for error in errors:
        prefix = "%s:" % error.get("where")
        at = detail.find(prefix, starts[-1] + 1 if starts else 0)
        if at < 0 or (starts and detail[at - 2:at] != "; "):
            break
        starts.append(at)
    sentences = [detail[a:b].rstrip("; ") for a, b in zip(starts, starts[1:] + [len(detail)])]
    out = []
    for index, error in enumerate(errors):
        where = str(error.get("where"))
        if index < len(sentences):
            what = sentences[index][len(where) + 1:].strip()
        else:
            what = str(error.get("message"))
        if what.startswith("Value error, "):
            what = what[len("Value error, "):]
        out.append("%s: %s" % (_where(where), what))
    return out


def _post_sequence(service: Service, body: dict[str, Any], source: str) -> dict[str, Any]:
    """POST /api/sequences; a refusal for its fields ends the command listing each one."""
    service.need_token()
    try:
        response = httpx.post(service.server + "/api/sequences", json=body,
                              headers=service.headers, timeout=30)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise Unreachable("cannot reach %s: %s" % (service.server, exc)) from None
    if response.status_code == 422:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if isinstance(answer, dict) and answer.get("errors"):
            fail("422: %s was refused (steps count from 0):\n%s"
                 % (source, "\n".join("  " + p for p in _problems(answer))))
    if response.status_code >= 400:
        raise Refused(response.status_code, detail_of(response))
    return response.json()


@app.command()
def start(
    recipe: Annotated[str, typer.Argument(
        help="a recipe file (YAML or JSON), or a bundled recipe's name (`lumenrig sequence "
             "recipes` lists them)")],
    rig: Annotated[str, typer.Option(help="the rig to run it on")],
    channel: Annotated[Optional[int], typer.Option(
        min=0, max=7, help="the rig's channel (default: the recipe's, else 0)",
        show_default=False)] = None,
    follow: Annotated[bool, typer.Option(help="show each step until the sequence ends")
                      ] = False,
    as_json: AsJson = False,
    server: Server = DEFAULT_SERVER,
    token: Token = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Start a test sequence from a recipe on a rig; print its id (the service checks every
    step first: a refusal names each step and field).

    With --follow: the steps as they go, then the steps table; exit 1 unless it completed;
    Ctrl-C leaves it running on the rig (exit 130)."""
    found = _recipe(recipe)
    body = found.request(rig, channel)
    body.setdefault("operator", os_user())
    service = connect(server, token, data_dir)
    with reported():
        started = _post_sequence(service, body, str(found.path))
    sequence_id = started["id"]
    count = len(started["steps"])
    typer.echo("sequence %d started on %s: %s (%d step%s)"
               % (sequence_id, started["rig"], started.get("name") or found.name, count,
                  "" if count == 1 else "s"), err=True)
    typer.echo("`lumenrig sequence show %d` to see it, `lumenrig sequence abort %d` to stop it"
               % (sequence_id, sequence_id), err=True)
    if not follow:
        typer.echo(json.dumps(started, indent=1) if as_json else str(sequence_id))
        return
    try:
        final = _follow(service, started)
    except KeyboardInterrupt:
        _goes_on(sequence_id, started["rig"])
    _finish(final, as_json)


# ---- follow ----------------------------------------------------------------------------------

def _status(view: dict[str, Any]) -> str:
    """Where the sequence is, in one line: its step, that step's run and how far it is."""
    if view["state"] != "running":
        return "sequence %d %s" % (view["id"], view["state"])
    steps = view["steps"]
    index = view["step_index"]
    if index >= len(steps):
        return "sequence %d finishing" % view["id"]
    step = steps[index]
    line = "step %d (%s): %s" % (index, step["kind"], step["state"])
    if step["kind"] == "wait":
        return line + " for %s" % duration(step.get("duration_s"))
    runs = {run["id"]: run for run in view.get("runs") or ()}
    run = runs.get(step["run_id"])
    if run is not None:  # in tens of %: a week's stress says something twice a day
        line += ", run %d %d %% done" % (run["id"], 10 * int(10 * (run.get("progress") or 0)))
    phase = view.get("phase")
    if phase == "checkup" and step["checkups"]:
        line += ", check-up run %d" % step["checkups"][-1]
    elif phase in PHASE_WORDS:
        line += ", " + PHASE_WORDS[phase]
    return line


def _follow(service: Service, view: dict[str, Any]) -> dict[str, Any]:
    """Say each change of where the sequence is until it ends; return its final view. A
    service that stops answering is waited for (it goes on with the sequence on restart)."""
    path = "/api/sequences/%d" % view["id"]
    said = None
    while view["state"] not in FINISHED:
        line = _status(view)
        if line != said:
            typer.echo(line, err=True)
            said = line
        time.sleep(FOLLOW_PERIOD_S)
        try:
            view = service.get(path)
        except Unreachable:
            if said != "service not answering; trying again":
                said = "service not answering; trying again"
                typer.echo(said, err=True)
        except Refused as exc:
            fail(str(exc), exc.exit_code)
    return view


def _goes_on(sequence_id: int, rig: str) -> NoReturn:
    typer.echo("sequence %d goes on on %s; `lumenrig sequence show %d` to see it, `lumenrig "
               "sequence abort %d` to stop it" % (sequence_id, rig, sequence_id, sequence_id),
               err=True)
    raise typer.Exit(EXIT_INTERRUPTED)


def _finish(final: dict[str, Any], as_json: bool) -> None:
    """The final view (steps table or JSON) on stdout; exit 1 unless it completed."""
    _print_view(final, as_json)
    if final["state"] != "completed":
        fail("sequence %d ended %s: %s" % (final["id"], final["state"], final.get("error")
                                            or ""), 1)


# ---- show, list, abort -----------------------------------------------------------------------

def _steps_table(view: dict[str, Any]) -> Table:
    runs = {run["id"]: run for run in view.get("runs") or ()}
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column, justify in (("step", "right"), ("kind", "left"), ("state", "left"),
                            ("run", "right"), ("check-ups", "left"), ("result", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for step in view["steps"]:
        run = runs.get(step["run_id"])
        kind = step["kind"]
        if kind == "wait":
            kind = "wait %s" % duration(step.get("duration_s"))
        table.add_row(str(step["index"]), kind, step["state"],
                      DASH if run is None else str(run["id"]),
                      ", ".join(str(c) for c in step["checkups"]) or DASH,
                      DASH if run is None else headline(run) or DASH)
    return table


def _heading(view: dict[str, Any]) -> list[str]:
    state = view["state"]
    if state == "running":
        state += ", at step %d" % view["step_index"]
        if view.get("phase") in PHASE_WORDS:
            state += " (%s)" % PHASE_WORDS[view["phase"]]
    lines = ["sequence %d: %s on %s channel %d, %s" % (
        view["id"], view.get("name") or "unnamed", view["rig"], view.get("channel", 0), state),
        "created %s, started %s, finished %s" % tuple(
            local_time(view.get(k), seconds=True)
            for k in ("created_at", "started_at", "finished_at"))]
    if view.get("error"):
        lines.append("error: %s" % view["error"])
    return lines


def _print_view(view: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(view, indent=1))
        return
    typer.echo("\n".join(_heading(view)))
    stdout_console().print(_steps_table(view))


@app.command()
def show(sequence_id: SequenceId, as_json: AsJson = False, server: Server = DEFAULT_SERVER,
         token: Token = None, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """One sequence: its state and each step's state, run, check-ups and headline result."""
    service = connect(server, token, data_dir)
    with reported():
        view = service.get("/api/sequences/%d" % sequence_id)
    _print_view(view, as_json)


def _done(item: dict[str, Any]) -> str:
    """Steps done of all: a running sequence has done those before its current step."""
    total = item.get("steps") or 0
    done = total if item["state"] == "completed" else min(item["step_index"], total)
    return "%d/%d" % (done, total)


@app.command("list")
def list_sequences(
    rig: Annotated[Optional[str], typer.Option(show_default=False)] = None,
    state: Annotated[Optional[str], typer.Option(
        callback=_known_state, help="queued, running, completed, aborted or failed",
        show_default=False)] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="at most this many")] = 50,
    as_json: AsJson = False,
    server: Server = DEFAULT_SERVER,
    token: Token = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """List sequences, newest first: id, name, rig, state, steps done, created."""
    params = {name: value for name, value in (("rig", rig), ("state", state))
              if value is not None}
    service = connect(server, token, data_dir)
    with reported():
        found = service.get("/api/sequences", params=dict(params, limit=limit))["sequences"]
    if as_json:
        typer.echo(json.dumps(found, indent=1))
        return
    if not found:
        typer.echo("no sequences%s" % (" match" if params else " yet"), err=True)
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column, justify in (("id", "right"), ("name", "left"), ("rig", "left"),
                            ("state", "left"), ("done", "right"), ("created", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for item in found:
        table.add_row(str(item["id"]), item.get("name") or DASH, item["rig"], item["state"],
                      _done(item), local_time(item.get("created_at")))
    stdout_console().print(table)


@app.command()
def abort(sequence_id: SequenceId, server: Server = DEFAULT_SERVER, token: Token = None,
          data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Abort a sequence: the step that runs stops (outputs safe), the rest never start;
    print the state it ended in."""
    service = connect(server, token, data_dir)
    with reported():
        # The service answers once the step's run has ended (its last samples filed).
        ended = service.post("/api/sequences/%d/abort" % sequence_id, timeout_s=90)
    typer.echo(ended["state"])


# ---- recipes ---------------------------------------------------------------------------------

@app.command("recipes")
def list_recipes(as_json: AsJson = False) -> None:
    """The bundled recipes (this checkout's recipes/ folder): name, title, what each does.
    Start one by name or copy its file and edit it."""
    found, errors = recipes.bundled_recipes()
    for error in errors:
        typer.echo("error: %s" % error, err=True)
    if as_json:
        typer.echo(json.dumps([{"name": r.name, "title": r.title, "path": str(r.path),
                                "description": r.description, "spec": r.spec}
                               for r in found], indent=1))
        return
    if not found:
        fail("no recipes in %s" % recipes.RECIPES_DIR, 1)
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("name", "title", "steps"):
        table.add_column(column)
    for r in found:
        steps = r.spec.get("steps")
        kinds = [s.get("kind", "?") for s in steps if isinstance(s, dict)] if isinstance(
            steps, list) else []
        table.add_row(r.name, r.title or DASH, ", ".join(kinds) or DASH)
    stdout_console().print(table)
    typer.echo("in %s; `lumenrig sequence start NAME --rig RIG` starts one" % recipes.RECIPES_DIR,
               err=True)
