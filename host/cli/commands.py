"""The `lumenrig` command: serve, sim, analyze and backup here; the client commands (run,
follow, abort, export, runs, show, tag, note, calibrate) in runs_cmds, find_cmds and
calibrate_cmds, on the same app."""

import faulthandler
import json
import os
import signal
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError

from host import simulated
from host.cli import (
    calibrate_cmds,
    find_cmds,
    lab_cmd,
    runs_cmds,
    selftest_cmd,
    sequence_cmds,
)
from host.cli.options import fail as _fail
from host.runs.kindnames import KIND_NAMES
from host.settings import DEFAULT_DATA_DIR

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="lumenrig: LED and emissive-film lifetime rig.")
app.add_typer(runs_cmds.app)
app.add_typer(find_cmds.app)
app.add_typer(calibrate_cmds.app)
app.add_typer(selftest_cmd.app)
app.add_typer(lab_cmd.app)
app.add_typer(sequence_cmds.app)

KIND_CHOICES = " | ".join(KIND_NAMES)
DISTRIBUTION = "lumenrig"  # pyproject.toml [project] name


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo("%s %s" % (DISTRIBUTION, version(DISTRIBUTION)))
        except PackageNotFoundError:
            _fail("%s is not installed in this Python (pip install -e .): no version to tell"
                  % DISTRIBUTION, 1)
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="print the installed version and exit")] = False) -> None:
    """Options before the command: --version."""
    # `kill -USR1 PID` prints where every thread of a command that seems stuck is.
    faulthandler.register(signal.SIGUSR1, all_threads=True)


@app.command()
def serve(
    rig: Annotated[Optional[list[str]], typer.Option("--rig", help="[NAME=]SPEC, repeatable")
                   ] = None,
    db: Annotated[str, typer.Option(
        help="sqlite:///PATH or postgresql+psycopg://... (default: DATA_DIR/lumenrig.sqlite)",
        show_default=False)] = "",
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    data_dir: Annotated[Path, typer.Option(
        help="token, SQLite and logs (LUMENRIG_DATA_DIR sets the default)")] = DEFAULT_DATA_DIR,
    mqtt: Annotated[str, typer.Option(
        envvar="LUMENRIG_MQTT", show_default=False,
        help="publish telemetry to the broker at mqtt://HOST:PORT/PREFIX?queue=N (port 1883, "
             "prefix lumenrig, queue 1000 messages: all but HOST optional)")] = "",
    site: Annotated[str, typer.Option(
        envvar="LUMENRIG_SITE", show_default=False,
        help="this service's name in the lab and in the MQTT topics (default: the host "
             "name)")] = "",
) -> None:
    """Serve the API, live streams and dashboard for the given rigs (and MQTT telemetry)."""
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
                            token=token, mqtt_url=mqtt, **({"site": site} if site else {}))
    except ValidationError as exc:
        _fail("; ".join(_validation_message(e) for e in exc.errors()))
    _check_database(settings.db_url)
    _claim_in_the_lab(settings)
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


def _claim_in_the_lab(settings) -> None:
    """Take this service's site and its rigs' names before serving: a name another online
    service of the lab holds ends the command with who holds it."""
    from host.lab import claim
    from host.store import ClaimRefused, Store

    with Store(settings.db_url) as store:
        try:
            claim(store, settings.site, settings.instance, settings.api_url, settings.rigs)
        except ClaimRefused as exc:
            _fail("%s (a service that stopped without a word goes offline 15 s after its "
                  "last heartbeat)" % exc)


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
def backup(
    target: Annotated[Path, typer.Argument(help="the copy to write (a new file)")],
    db: Annotated[str, typer.Option(
        help="the database to copy (default: DATA_DIR/lumenrig.sqlite)", show_default=False)
                  ] = "",
    data_dir: Annotated[Path, typer.Option(
        help="the service's data folder (LUMENRIG_DATA_DIR sets the default)")
                        ] = DEFAULT_DATA_DIR,
) -> None:
    """Copy the SQLite database to a new file, safely while the service is running."""
    from host.settings import database_url_in
    from host.store.backup import BackupError, backup_sqlite

    try:
        size_bytes = backup_sqlite(db or database_url_in(data_dir), target)
    except BackupError as exc:
        _fail(str(exc), 1)
    typer.echo("%s (%.1f MB)" % (target, size_bytes / 1e6))


# `lumenrig sim`: the simulator's own command (hil_sim/cli.py), one definition of its options.
app.command("sim")(simulated.sim_command)


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
