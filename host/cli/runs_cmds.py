"""Client commands that start, follow, stop and export runs through the service: run, follow,
abort, export. The run belongs to the rig: Ctrl-C ends the command, never the run."""

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import httpx
import typer

from host.cli.api import Refused, Service, Unreachable, detail_of
from host.cli.client import finish, follow_run, goes_on
from host.cli.options import (
    DEFAULT_SERVER,
    DataDir,
    KindName,
    RunId,
    Server,
    Token,
    connect,
    fail,
    os_user,
    reported,
)
from host.settings import DEFAULT_DATA_DIR
from protocol import schema

app = typer.Typer()

Label = Annotated[Optional[str], typer.Option(show_default=False)]


def _parse_param(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise typer.BadParameter("expected key=value, got %r" % text)
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _labels(device: dict[str, Any], operator: str | None, notes: str | None,
            tags: list[str] | None) -> dict[str, Any]:
    """The request's device, operator, notes and tags; the API checks their bounds."""
    given = {name: value for name, value in device.items() if value is not None}
    labels: dict[str, Any] = {"operator": operator or os_user(), "tags": tags or []}
    if given:
        labels["device"] = given
    if notes is not None:
        labels["notes"] = notes
    return labels


def _the_one_rig(service: Service) -> str:
    """The name of the rig the service serves itself, when it serves exactly one (its name
    may be a lab name or `SITE.rigN`, not `rig1`); else exit 2 naming them."""
    own = [rig["name"] for rig in service.get("/api/rigs") if not rig.get("remote")]
    if len(own) == 1:
        return own[0]
    fail("name the rig with --rig: the service at %s serves %s" % (
        service.server, ", ".join(own) if own else "no rig of its own"))


@app.command()
def run(
    kind: Annotated[KindName, typer.Argument(help="run kind")],
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p",
                                                       help="key=value, repeatable")] = None,
    rig: Annotated[Optional[str], typer.Option(
        help="rig name (default: the service's own rig, when it serves one)",
        show_default=False)] = None,
    channel: Annotated[int, typer.Option(
        min=0, max=schema.MAX_CHANNELS - 1,
        help="the rig's channel (pixel) to run on")] = 0,
    device_name: Label = None,
    sample_id: Label = None,
    pixel: Label = None,
    batch: Label = None,
    structure: Annotated[Optional[str], typer.Option(
        help="layer stack, e.g. ITO/PEDOT:PSS/TFB/CsPbBr3/TPBi/LiF/Al", show_default=False)
                         ] = None,
    area_mm2: Annotated[Optional[float], typer.Option(
        help="the pixel's emitting area (mm2): replaces the calibration's for this run",
        show_default=False)] = None,
    operator: Annotated[Optional[str], typer.Option(
        help="who runs it (default: the OS user)", show_default=False)] = None,
    notes: Label = None,
    tag: Annotated[Optional[list[str]], typer.Option(
        "--tag", help="one word, repeatable", show_default=False)] = None,
    server: Server = DEFAULT_SERVER,
    token: Token = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    follow: Annotated[bool, typer.Option(help="show progress until the run ends")] = True,
) -> None:
    """Start a run through the service, show its progress, print its summary.

    Exit 1 unless it completed; Ctrl-C leaves it running on the rig (exit 130)."""
    params = dict(_parse_param(p) for p in param or [])
    device = {"name": device_name, "sample_id": sample_id, "pixel": pixel, "batch": batch,
              "structure": structure, "area_mm2": area_mm2}
    service = connect(server, token, data_dir)
    started: dict[str, Any] | None = None
    try:
        with reported():
            body = {"kind": kind.value, "rig": rig or _the_one_rig(service), "channel": channel,
                    "params": params, **_labels(device, operator, notes, tag)}
            started = service.post("/api/runs", json=body)
            typer.echo("run %s started on %s" % (started["id"], started["rig"]), err=True)
            if not follow:
                typer.echo(json.dumps(started, indent=1))
                return
            final = follow_run(service, started)
    except KeyboardInterrupt:
        goes_on(started and started["id"], started and started["rig"])
    finish(final)


@app.command()
def follow(run_id: RunId, server: Server = DEFAULT_SERVER, token: Token = None,
           data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Follow a run to its end as `run` does, and print its summary.

    Progress on stderr, the summary JSON on stdout; exit 1 unless it completed; Ctrl-C
    leaves it running (exit 130)."""
    service = connect(server, token, data_dir)
    rig = None
    try:
        with reported():
            current = service.get("/api/runs/%d" % run_id)
            rig = current["rig"]
            typer.echo("following run %d on %s" % (run_id, rig), err=True)
            final = follow_run(service, current)
    except KeyboardInterrupt:
        goes_on(run_id, rig)
    finish(final)


@app.command()
def abort(run_id: RunId, server: Server = DEFAULT_SERVER, token: Token = None,
          data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Stop a run (the device makes its outputs safe); print the state it ended in."""
    service = connect(server, token, data_dir)
    with reported():
        # The service answers once the run has ended (the rig's last samples filed).
        ended = service.post("/api/runs/%d/abort" % run_id, timeout_s=90)
    typer.echo(ended["state"])


@app.command()
def export(
    run_id: RunId,
    format: Annotated[str, typer.Option("--format", help="csv | json")] = "csv",
    output: Annotated[Optional[Path], typer.Option("-o", help="file (default stdout)")] = None,
    server: Server = DEFAULT_SERVER,
    token: Token = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Write a run's export CSV, or the run with its samples as JSON.

    The CSV has the run's metadata in `#` lines, then every sample; `analyze` reads it back
    to the run's summary."""
    if format not in ("csv", "json"):
        fail("--format must be csv or json, got %r" % format)
    service = connect(server, token, data_dir)
    path = "/api/runs/%d" % run_id
    out = output.open("wb") if output else sys.stdout.buffer
    try:
        with reported():
            if format == "csv":
                _stream_to(out, service, path + "/export.csv")
            else:
                document = dict(service.get(path, timeout_s=60),
                                samples=service.get(path + "/samples", timeout_s=300))
                out.write(json.dumps(document).encode() + b"\n")
    finally:
        if output:
            out.close()


def _stream_to(out, service, path: str) -> None:
    """Copy a streamed answer to `out` as it arrives (a long run's export is large)."""
    try:
        with httpx.stream("GET", service.server + path, headers=service.headers,
                          timeout=60) as response:
            if response.status_code != 200:
                response.read()
                raise Refused(response.status_code, detail_of(response))
            for chunk in response.iter_bytes():
                out.write(chunk)
    except httpx.HTTPError as exc:
        raise Unreachable("cannot reach %s: %s" % (service.server, exc)) from None
