"""`lumenrig lab`: the services of the lab sharing the database, each with the rigs it serves
and whether it is online, from any service of the lab."""

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from host.cli.options import DEFAULT_SERVER, DataDir, Server, Token, connect, reported
from host.cli.tables import stdout_console
from host.cli.words import DASH
from host.settings import DEFAULT_DATA_DIR

app = typer.Typer()


def lab_table(sites: list[dict[str, Any]], rigs: list[dict[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("site", "state", "last heartbeat", "rigs", "API"):
        table.add_column(column, overflow="fold")
    for site in sites:
        served = sorted("%s%s" % (r["name"], "" if r["connected"] else " (not connected)")
                        for r in rigs if r.get("site") == site["name"])
        age_s = site["heartbeat_age_s"]
        table.add_row(site["name"], "online" if site["online"] else "offline",
                      DASH if age_s is None else "%.0f s ago" % age_s,
                      ", ".join(served) or DASH, site["api_url"] or DASH)
    return table


@app.command()
def lab(
    as_json: Annotated[bool, typer.Option("--json", help="the service's JSON instead of text")
                       ] = False,
    server: Server = DEFAULT_SERVER,
    token: Token = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """The lab's sites (services on one database): online or not, last heartbeat, the rigs
    each serves, where its API answers."""
    service = connect(server, token, data_dir)
    with reported():
        sites = service.get("/api/sites")
        rigs = service.get("/api/rigs")
    if as_json:
        typer.echo(json.dumps({"sites": sites, "rigs": rigs}, indent=1))
    else:
        stdout_console().print(lab_table(sites, rigs))
