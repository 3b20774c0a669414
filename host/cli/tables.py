"""`lumenrig runs` as a table: one line per run with its device, tags and headline result."""

import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from host.cli.words import DASH, duration, is_number, local_time, num

# Piped output is not squeezed to 80 columns: a line per run, whole, for grep and less.
PIPE_WIDTH = 200


def headline(run: dict[str, Any]) -> str:
    """The run's main result from its list item's figures (or its summary): L0 and T50 for
    a lifetime, lowest and final PL for photostability, CE and EQE maxima for J-V-L."""
    figures = run.get("figures") or run.get("summary") or {}
    parts: list[str] = []
    if run["kind"] == "lifetime":
        if is_number(figures.get("l0_cd_m2")):
            parts.append("L0 %s cd/m²" % num(figures["l0_cd_m2"]))
        if is_number(figures.get("t50_s")):
            parts.append("T50 %s" % duration(figures["t50_s"]))
        elif is_number(figures.get("t50_fit_s")):
            parts.append("T50 ≈ %s (fit)" % duration(figures["t50_fit_s"]))
        elif is_number(figures.get("l_end_over_l0")):
            parts.append("L/L0 %s at the end" % num(figures["l_end_over_l0"]))
    elif run["kind"] == "photostability" and is_number(figures.get("final_fraction")):
        parts.append("PL min %s, final %s" % (num(figures.get("min_fraction")),
                                               num(figures["final_fraction"])))
    elif run["kind"] == "jvl" and is_number(figures.get("ce_max_cd_a")):
        parts.append("CE max %s cd/A" % num(figures["ce_max_cd_a"]))
        if is_number(figures.get("eqe_max_pct")):
            parts.append("EQE max %s %%" % num(figures["eqe_max_pct"]))
    if not parts and run["state"] in ("queued", "running"):
        parts.append("%d %% done" % round(100 * (run.get("progress") or 0)))
    elif not parts and run.get("error"):
        parts.append(_shortened(run["error"], 60))
    return ", ".join(parts)


def _shortened(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def device_label(run: dict[str, Any]) -> str:
    """The device's name and pixel, `G1/B2`; the sample id when it has no name."""
    device = run.get("device") or {}
    name = device.get("name") or device.get("sample_id")
    return "/".join(p for p in (name, device.get("pixel")) if p) or DASH


def runs_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column, justify in (("id", "right"), ("kind", "left"), ("rig", "left"),
                            ("state", "left"), ("device", "left"), ("tags", "left"),
                            ("result", "left"), ("created", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for run in runs:
        table.add_row(str(run["id"]), run["kind"], run["rig"], run["state"], device_label(run),
                      ",".join(run.get("tags") or ()) or DASH, headline(run),
                      local_time(run.get("created_at")))
    return table


def stdout_console() -> Console:
    """Rich on stdout: the terminal's width, or PIPE_WIDTH when piped."""
    return Console(width=None if sys.stdout.isatty() else PIPE_WIDTH)
