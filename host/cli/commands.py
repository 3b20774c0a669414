"""The `lumenrig` command: serve, run, export, sim, analyze."""

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError

from host.runs.kinds import KIND_NAMES

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="lumenrig: LED and emissive-film lifetime rig.")

DEFAULT_SERVER = "http://127.0.0.1:8000"
KIND_CHOICES = " | ".join(KIND_NAMES)


def _fail(message: str, code: int = 2) -> None:
    typer.echo("error: " + message, err=True)
    raise typer.Exit(code)


@app.command()
def serve(
    rig: Annotated[Optional[list[str]], typer.Option("--rig", help="[NAME=]SPEC, repeatable")
                   ] = None,
    db: Annotated[str, typer.Option(help="sqlite:///PATH or postgresql+psycopg://...")] = (
        "sqlite:///data/lumenrig.sqlite"),
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    data_dir: Annotated[Path, typer.Option(help="token, SQLite and logs")] = Path("data"),
) -> None:
    """Serve the API, live streams and dashboard for the given rigs."""
    from host.security import TokenError, is_loopback, load_or_create_token
    from host.settings import Settings, parse_rig_args

    try:
        rigs = parse_rig_args(rig or [])
    except ValueError as exc:
        _fail(str(exc))
    if not is_loopback(host) and not os.environ.get("LUMENRIG_TOKEN", "").strip():
        _fail("refusing to bind %s (not loopback) without LUMENRIG_TOKEN set: anyone on the "
              "network could drive the rig" % host)
    try:
        token, created = load_or_create_token(data_dir)
    except TokenError as exc:
        _fail(str(exc))
    if created:
        typer.echo("control token (shown once, kept in %s): %s" % (data_dir / "token", token))
    try:
        settings = Settings(db_url=db, host=host, port=port, rigs=rigs, data_dir=data_dir,
                            token=token)
    except ValidationError as exc:
        _fail("; ".join(_validation_message(e) for e in exc.errors()))
    _check_database(settings.db_url)
    from host.service import serve_forever

    serve_forever(settings)


def _validation_message(error: dict) -> str:
    """One pydantic error as a sentence: our validators' own text, else 'field: problem'."""
    message = str(error.get("msg", "invalid"))
    if message.startswith("Value error, "):
        return message[len("Value error, "):]
    return "%s: %s" % (".".join(str(p) for p in error.get("loc", ())) or "value", message)


def _check_database(url: str) -> None:
    """Open the database once before serving, so a wrong URL or a server that is down ends
    the command with one line instead of a failed start-up and a traceback."""
    import sqlalchemy as sa

    from host.store import Store

    try:
        shown = sa.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):  # make_url raises both for bad text
        _fail("--db %r is not a database URL: use sqlite:///PATH or "
              "postgresql+psycopg://USER@HOST/DB" % url)
    try:
        Store(url).close()
    except Exception as exc:  # noqa: BLE001 - any failure to open is reported the same way
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        _fail("cannot open the database %s: %s" % (shown, reason[0] if reason else
                                                  type(exc).__name__))


def _parse_param(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise typer.BadParameter("expected key=value, got %r" % text)
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _token() -> str | None:
    token = os.environ.get("LUMENRIG_TOKEN")
    if token:
        return token
    path = Path("data") / "token"
    return path.read_text().strip() if path.exists() else None


@app.command()
def run(
    kind: Annotated[str, typer.Argument(help=KIND_CHOICES)],
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p",
                                                       help="key=value, repeatable")] = None,
    rig: Annotated[str, typer.Option(help="rig name")] = "rig1",
    server: Annotated[str, typer.Option(help="service URL")] = DEFAULT_SERVER,
    follow: Annotated[bool, typer.Option(help="show progress until the run ends")] = True,
) -> None:
    """Start a run through the service, show its progress, print its summary."""
    import httpx

    from host.cli.client import follow_run

    if kind not in KIND_NAMES:
        _fail("kind must be one of %s, got %r" % (", ".join(KIND_NAMES), kind))
    params = dict(_parse_param(p) for p in param or [])
    token = _token()
    if not token:
        _fail("no token: set LUMENRIG_TOKEN or run from the folder holding data/token")
    headers = {"Authorization": "Bearer " + token}
    try:
        response = httpx.post(server.rstrip("/") + "/api/runs", headers=headers, timeout=30,
                              json={"kind": kind, "rig": rig, "params": params})
    except httpx.HTTPError as exc:
        _fail("cannot reach %s: %s" % (server, exc))
    if response.status_code != 201:
        _fail("%s: %s" % (response.status_code, response.json().get("detail", response.text)))
    run_info = response.json()
    typer.echo("run %s started on %s" % (run_info["id"], rig), err=True)
    if not follow:
        typer.echo(json.dumps(run_info, indent=1))
        return
    final = follow_run(server, run_info["id"], headers)
    typer.echo(json.dumps(final.get("summary"), indent=1))
    if final["state"] == "interrupted":
        _fail("run %s is interrupted: rig %s has been out of reach past the run's host-loss "
              "grace; the service records the run's true end if the board comes back"
              % (final["id"], rig), 1)
    if final["state"] != "completed":
        _fail("run %s ended %s: %s" % (final["id"], final["state"], final.get("error") or ""), 1)


@app.command()
def export(
    run_id: Annotated[int, typer.Argument(min=1)],
    format: Annotated[str, typer.Option("--format", help="csv | json")] = "csv",
    server: Annotated[str, typer.Option(help="service URL")] = DEFAULT_SERVER,
    output: Annotated[Optional[Path], typer.Option("-o", help="file (default stdout)")] = None,
) -> None:
    """Write a run's export CSV (its metadata in `#` lines, then every sample; `analyze`
    reads it back to the run's summary), or the run with its samples as JSON."""
    import httpx

    if format not in ("csv", "json"):
        _fail("--format must be csv or json, got %r" % format)
    token = _token()
    headers = {"Authorization": "Bearer " + token} if token else {}
    base = server.rstrip("/") + "/api/runs/%d" % run_id
    out = output.open("wb") if output else sys.stdout.buffer
    try:
        if format == "csv":
            with httpx.stream("GET", base + "/export.csv", headers=headers, timeout=60) as r:
                if r.status_code != 200:
                    r.read()
                    _fail("%s: %s" % (r.status_code, r.json().get("detail", r.text)))
                for chunk in r.iter_bytes():
                    out.write(chunk)
        else:
            meta = httpx.get(base, headers=headers, timeout=60)
            if meta.status_code != 200:
                _fail("%s: %s" % (meta.status_code, meta.json().get("detail", meta.text)))
            samples = httpx.get(base + "/samples", headers=headers, timeout=300)
            document = dict(meta.json(), samples=samples.json())
            out.write(json.dumps(document).encode() + b"\n")
    except httpx.HTTPError as exc:
        _fail("cannot reach %s: %s" % (server, exc))
    finally:
        if output:
            out.close()


@app.command()
def analyze(
    file: Annotated[Path, typer.Argument(help="CSV with a header row")],
    kind: Annotated[str, typer.Option(help=KIND_CHOICES)],
    spectrum: Annotated[Optional[Path], typer.Option(help="EL spectrum CSV (jvl)")] = None,
    extrapolate_to: Annotated[Optional[float], typer.Option(
        help="lifetime: T50 at this starting luminance (cd/m2)")] = None,
    accel_n: Annotated[float, typer.Option(help="acceleration exponent n in L0^n*T50 = const")
                       ] = 1.7,
) -> None:
    """Analyse a CSV offline and print the summary as JSON."""
    if kind not in KIND_NAMES:
        _fail("--kind must be one of %s, got %r" % (", ".join(KIND_NAMES), kind))
    from host.analysis.commands import analyze_csv, read_spectrum_csv
    from host.analysis.errors import INPUT_ERRORS
    from host.runs import exports

    try:
        if exports.is_export(file):
            if extrapolate_to is not None:
                _fail("--extrapolate-to applies to a plain t_s,luminance_cd_m2 file; an "
                      "export gives its run's own summary")
            result = exports.summarize_export(
                file, kind, None if spectrum is None else read_spectrum_csv(spectrum))
        else:
            result = analyze_csv(file, kind, spectrum_path=spectrum,
                                 extrapolate_to=extrapolate_to, accel_n=accel_n)
    except INPUT_ERRORS as exc:
        _fail(str(exc))
    typer.echo(json.dumps(result, indent=1))


@app.command()
def sim(
    device: Annotated[str, typer.Option(help="G1 | G2 | film")] = "G1",
    accel: Annotated[str, typer.Option(
        help="device time runs at most this many times faster (>= 1), or 'max'")] = "1",
    seed: Annotated[int, typer.Option(min=0)] = 0,
    faults: Annotated[str, typer.Option(help="fault spec, see hil_sim/README.md")] = "",
) -> None:
    """Start a simulated rig on a pseudo-terminal; print its port; run until interrupted."""
    from host import simulated

    try:
        simulated.run_sim_command(device=device, accel=accel, seed=seed, faults=faults)
    except ValueError as exc:
        _fail(str(exc))


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
