"""`lumenrig calibrate`: store a rig's photodiode calibration from a JSON file or from the
version a run used, or show the rig's current one. The service's model judges the fields."""

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional
from urllib.parse import quote

import typer

from host.cli.calibration_text import summary_lines
from host.cli.options import (
    DEFAULT_SERVER,
    DataDir,
    Server,
    Token,
    connect,
    fail,
    reported,
)
from host.cli.words import local_time
from host.settings import DEFAULT_DATA_DIR

app = typer.Typer()

PROCEDURE = "docs/calibration.md"
JSON_KINDS = {list: "list", str: "string", int: "number", float: "number", bool: "boolean",
              type(None): "null"}


class _NotJsonNumber(ValueError):
    """NaN, Infinity or a number too large for a float: Python reads them, JSON has none."""


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")) or value != value:
        raise _NotJsonNumber(text)
    return value


def _not_json(path: Path, why: str) -> NoReturn:
    fail("%s is not a calibration file: %s; the fields are in %s" % (path, why, PROCEDURE))


def read_calibration(path: Path) -> dict[str, Any]:
    """The JSON object in `path`, checked only as far as the service cannot say it better
    (readable, JSON, an object, finite numbers); every field is left to the service."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM from a Windows editor is fine
    except FileNotFoundError:
        fail("%s: no such file" % path)
    except IsADirectoryError:
        fail("%s is a folder, not a calibration file" % path)
    except UnicodeDecodeError:
        _not_json(path, "it is not UTF-8 text")
    except OSError as exc:
        fail("cannot read %s: %s" % (path, exc.strerror))
    try:
        data = json.loads(text, parse_float=_finite, parse_constant=_finite)
    except json.JSONDecodeError as exc:
        _not_json(path, "not JSON: %s at line %d, column %d" % (exc.msg, exc.lineno, exc.colno))
    except _NotJsonNumber as exc:
        _not_json(path, "%s is not a JSON number" % exc)
    except RecursionError:
        _not_json(path, "its JSON is nested too deeply to read")
    if not isinstance(data, dict):
        _not_json(path, "it holds a JSON %s, not an object {\"pd_radius_mm\": ...}"
                  % JSON_KINDS.get(type(data), "value"))
    if isinstance(data.get("calibration"), dict) and "pd_radius_mm" not in data:
        _not_json(path, "it holds a stored version (GET /api/calibrations/{id}), whose "
                        "\"calibration\" object is what a file holds; "
                        "`lumenrig calibrate RIG --from-run N` copies a run's version")
    return data


def _stored(version: dict[str, Any]) -> str:
    return "calibration %d set on %s at %s" % (version["id"], version["rig"],
                                                local_time(version["set_at"], seconds=True))


@app.command()
def calibrate(
    rig: Annotated[str, typer.Argument(help="the rig's name (as `serve` names it)")],
    file: Annotated[Optional[Path], typer.Argument(
        help="calibration JSON (%s; example docs/examples/calibration-g1.json)" % PROCEDURE,
        show_default=False)] = None,
    from_run: Annotated[Optional[int], typer.Option(
        "--from-run", min=1, metavar="RUN_ID",
        help="copy the calibration version this run was measured with", show_default=False)
                        ] = None,
    show: Annotated[bool, typer.Option("--show", help="print the rig's current calibration")
                    ] = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="JSON instead of text: the stored version; with --show the "
                       "calibration itself, a file this command takes back")] = False,
    server: Server = DEFAULT_SERVER,
    token: Token = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Store a rig's photodiode calibration from FILE or from the version run RUN_ID used (a
    new version each time; runs name the one they used), or --show the current one."""
    given = [name for name, value in (("FILE", file), ("--from-run", from_run),
                                      ("--show", show or None)) if value is not None]
    if len(given) != 1:
        fail("give one of FILE, --from-run RUN_ID or --show%s"
             % (" (got %s)" % " and ".join(given) if given else ""))
    calibration = read_calibration(file) if file is not None else None
    service = connect(server, token, data_dir)
    path = "/api/rigs/%s" % quote(rig, safe="")
    if show:
        _show(service.get, path, rig, as_json)
        return
    source = None
    with reported():
        service.need_token()  # before reading the run, so a missing token says so first
        if from_run is not None:
            calibration, source = _version_of_run(service.get, from_run)
        stored = service.put(path + "/calibration", json=calibration)
    if as_json:
        typer.echo(json.dumps(stored, indent=1))
        return
    typer.echo(_stored(stored))
    if source is not None:
        typer.echo("copied from calibration %d (%s, set %s), which run %d was measured with"
                   % (source["id"], source["rig"], local_time(source["set_at"], seconds=True),
                      from_run))
    typer.echo("\n".join(summary_lines(stored["calibration"])))


def _version_of_run(get: Any, run_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(calibration, stored version) of the version the run names: the version, not the
    run's own copy, whose pixel area a run's device area may have replaced."""
    calibration_id = get("/api/runs/%d" % run_id).get("calibration_id")
    if calibration_id is None:
        fail("run %d was started on a rig without a calibration: there is none to copy"
             % run_id)
    version = get("/api/calibrations/%d" % calibration_id)
    return version["calibration"], version


def _show(get: Any, path: str, rig: str, as_json: bool) -> None:
    with reported():
        described = get(path)
    calibration = described.get("calibration")
    if calibration is None:
        fail("%s has no calibration yet: store one with `lumenrig calibrate %s FILE.json` (%s)"
             % (rig, rig, PROCEDURE))
    if described.get("calibration_error"):
        typer.echo("warning: %s's calibration no longer passes the service's checks, and runs "
                   "needing it are refused: %s" % (rig, described["calibration_error"]),
                   err=True)
    if as_json:
        typer.echo(json.dumps(calibration, indent=1))
        return
    typer.echo("%s's current calibration" % rig)
    typer.echo("\n".join(summary_lines(calibration)))
