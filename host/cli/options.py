"""What every client command takes (--server, --token, --data-dir), and how a command ends
on an error: one line on stderr and an exit code, never a traceback."""

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer

from host.cli.api import Service, ServiceError, find_token
from host.runs.kindnames import KIND_NAMES

DEFAULT_SERVER = "http://127.0.0.1:8000"
EXIT_INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C (128 + SIGINT)

# The run kinds as a choice, so a wrong one gets typer's own message listing them.
KindName = Enum("KindName", [(name, name) for name in KIND_NAMES], type=str)  # type: ignore[misc]

Server = Annotated[str, typer.Option("--server", help="service URL")]
RunId = Annotated[int, typer.Argument(min=1, help="run id")]
Token = Annotated[Optional[str], typer.Option(
    "--token", help="bearer token (default: LUMENRIG_TOKEN, else DATA_DIR/token)",
    show_default=False)]
# The same default `serve` uses, so the token `serve` wrote is found from any folder.
DataDir = Annotated[Path, typer.Option(
    "--data-dir", help="the service's data folder, where `serve` keeps its token "
                       "(LUMENRIG_DATA_DIR sets the default)")]


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo("error: " + message, err=True)
    raise typer.Exit(code)


@contextmanager
def reported() -> Iterator[None]:
    """Inside: a refused request or an unreachable service ends the command with its line."""
    try:
        yield
    except ServiceError as exc:
        fail(str(exc), exc.exit_code)


def connect(server: str, token: str | None, data_dir: Path) -> Service:
    with reported():
        return Service(server, find_token(token, data_dir), data_dir)


def os_user() -> str:
    """Who is at the keyboard as the OS says (recorded as who started or edited a run)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return "cli"
