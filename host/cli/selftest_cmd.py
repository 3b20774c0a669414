"""`lumenrig selftest RIG`: the rig's full self-test as a table; the exit code says whether
every check passed."""

from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.table import Table

from host.cli.options import DEFAULT_SERVER, DataDir, Server, Token, connect, fail, reported
from host.cli.tables import stdout_console
from host.cli.words import DASH
from host.settings import DEFAULT_DATA_DIR

app = typer.Typer()

# The full test moves the shutter and reads every photodiode range: a few seconds at most,
# more when the rig retries a lost reply.
REQUEST_TIMEOUT_S = 60.0


def _shown(check: dict[str, Any], key: str) -> str:
    value = check.get(key)
    if value is None:
        return DASH
    unit = check.get("unit")
    return "%s %s" % (value, unit) if unit and key in ("value", "limit") else str(value)


def _result(check: dict[str, Any]) -> str:
    state = check["state"]
    return state + (": " + check["detail"] if check.get("detail") else "")


def selftest_table(checks: list[dict[str, Any]]) -> Table:
    """A row per check; a board of several channels gets a channel column first."""
    channels = len({check.get("channel", 0) for check in checks}) > 1
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("channel",) * channels + ("check", "result", "value", "limit", "advice"):
        table.add_column(column, overflow="fold")
    for check in checks:
        row = (check["name"], _result(check), _shown(check, "value"),
               _shown(check, "limit"), check.get("advice") or "")
        table.add_row(*((str(check.get("channel", 0)),) * channels + row))
    return table


@app.command()
def selftest(
    rig: Annotated[str, typer.Argument(help="the rig's name (rig1, ...)")],
    server: Server = DEFAULT_SERVER,
    token: Token = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Check a rig's board (chips, interlock, supply, shutter, photodiode dark): a table,
    exit 0 when every check passes, 1 when one fails."""
    service = connect(server, token, data_dir)
    with reported():
        result = service.post("/api/rigs/%s/selftest" % quote(rig, safe=""),
                              timeout_s=REQUEST_TIMEOUT_S)
    stdout_console().print(selftest_table(result["checks"]))
    if not result["passed"]:
        fail("rig %s failed its self-test: %s" % (rig, ", ".join(result.get("failed") or ())), 1)
    typer.echo("rig %s passed every check" % rig, err=True)
