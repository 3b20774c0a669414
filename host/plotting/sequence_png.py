"""A sequence's figure for a report, PNG or PDF: the stress curve with its check-ups, the
check-ups' efficiencies and turn-on voltage on stress time, J-V-L before and after, and the
headline as a table. Drawn from a report (host.sequences.report) and the runs' samples."""

import io
from typing import Any

import numpy as np

from host.analysis.jvl import current_density_ma_cm2
from host.plotting.png import (
    DEFAULT_DPI,
    DRAW_LOCK,
    WIDTH_IN,
    _mark_t_values,
    _stress,
    _time_unit,
    area_mm2,
)
from host.runs.figurewords import unit_of, words
from protocol import schema

HEIGHT_IN = 12.0
FORMATS = {"png": "image/png", "pdf": "application/pdf"}
SWEEPS = (("before_run_id", "before", "tab:blue"), ("after_run_id", "after", "tab:red"))
CHECKUP = "tab:gray"


def _run(store: Any, run_id: int) -> dict[str, Any]:
    """The run as the run figure reads it: its record with events and calibration."""
    run = store.get_run(run_id).as_dict()
    run["events"] = [e.as_dict() for e in store.list_events(run_id=run_id)]
    return run


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9,
            color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def _stress_curve(ax, report: dict[str, Any], store: Any, scale: float, unit: str) -> None:
    """(a) L/L0 (PL/PL0 of a photostability) on stress time, each check-up marked."""
    head = report["headline"]
    if head["stress_run_id"] is None:
        _empty(ax, "no stress in this sequence")
        return
    run = _run(store, head["stress_run_id"])
    lifetime = run["kind"] == "lifetime"
    column = "luminance_cd_m2" if lifetime else "pl"
    cols = store.read_samples(run["id"], columns=["t_s", "flags", column])
    rows, t_s = _stress(run, cols)
    values = cols[column][rows]
    if lifetime:
        l0 = head["l0_cd_m2"] or (float(np.nanmax(values[:10])) if len(values) else 1.0)
        ax.plot(t_s / scale, values / l0, lw=1.2, color="tab:green", label="L / L0")
        _mark_t_values([ax], head, scale)
    else:
        points = (cols["flags"][rows] & schema.FLAG_PL_POINT) != 0
        lit = values[points & np.isfinite(values)]
        ref = lit[0] if len(lit) and lit[0] else 1.0
        ax.plot(t_s[points] / scale, values[points] / ref, "o-", ms=3, color="tab:blue",
                label="PL / PL0")
    for i, checkup in enumerate(report["checkups"]):
        if checkup["stress_t_s"] is None:
            continue
        x = checkup["stress_t_s"] / scale
        ax.axvline(x, color=CHECKUP, lw=0.6, ls=":")
        if checkup["l_over_l0"] is not None:
            ax.plot(x, checkup["l_over_l0"], "o", ms=5, mfc="none", color="k",
                    label="check-up" if i == 0 else None)
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("L / L0" if lifetime else "PL / PL0")
    ax.set_xlabel("time under stress (%s)" % unit)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("(a) %s" % (head["stress"] or {}).get("text"), fontsize=9, loc="left")


def _checkup_figures(left, right, report: dict[str, Any], scale: float, unit: str) -> None:
    """(b) CE and EQE (twin axes) and the turn-on voltage of each check-up on stress time."""
    done = [c for c in report["checkups"] if c["stress_t_s"] is not None and c["figures"]]
    if not done:
        _empty(left, "no check-ups")
        _empty(right, "no check-ups")
        return
    x = np.array([c["stress_t_s"] for c in done]) / scale

    def series(name: str) -> np.ndarray:
        return np.array([c["figures"].get(name) for c in done], float)

    left.plot(x, series("ce_max_cd_a"), "o-", ms=4, color="tab:purple")
    left.set_ylabel("max CE (cd/A)", color="tab:purple")
    eqe = left.twinx()
    eqe.plot(x, series("eqe_max_pct"), "s--", ms=3, color="tab:green")
    eqe.set_ylabel("max EQE (%)", color="tab:green")
    right.plot(x, series("turn_on_v"), "o-", ms=4, color="tab:brown")
    right.set_ylabel("turn-on (V)")
    for ax in (left, right):
        ax.set_xlabel("time under stress (%s)" % unit)
    left.set_title("(b) check-ups", fontsize=9, loc="left")


def _sweeps(jv, lv, report: dict[str, Any], store: Any) -> None:
    """(c) J-V and L-V (log) of the J-V-L sweeps before and after the stress."""
    drawn = False
    for key, label, color in SWEEPS:
        run_id = report["headline"][key]
        if run_id is None:
            continue
        run = _run(store, run_id)
        cols = store.read_samples(run_id, columns=["voltage_v", "current_a",
                                                   "luminance_cd_m2", "flags"])
        ends = (cols["flags"] & schema.FLAG_STEP_END) != 0
        v = cols["voltage_v"][ends]
        j = current_density_ma_cm2(cols["current_a"][ends], area_mm2(run) or 1.0)
        lum = cols["luminance_cd_m2"][ends]
        said = "%s (run %d)" % (label, run_id)
        jv.semilogy(v, np.where(j > 0, j, np.nan), "o-", ms=3, color=color, label=said)
        lv.semilogy(v, np.where(lum > 0, lum, np.nan), "s-", ms=3, color=color, label=said)
        drawn = True
    if not drawn:
        _empty(jv, "no J-V-L sweep before or after")
        _empty(lv, "no J-V-L sweep before or after")
        return
    jv.set(xlabel="voltage (V)", ylabel="J (mA/cm²)")
    lv.set(xlabel="voltage (V)", ylabel="L (cd/m²)")
    jv.legend(fontsize=8, loc="upper left")
    jv.set_title("(c) J-V-L before and after", fontsize=9, loc="left")


def _number(value: Any, name: str) -> str:
    if not isinstance(value, (int, float)):
        return "–" if value is None else str(value)
    unit = unit_of(name)
    return "%.4g%s" % (value, " " + unit if unit else "")


def headline_rows(report: dict[str, Any]) -> list[list[str]]:
    """The headline as table rows: (what, value, before, after, change)."""
    head = report["headline"]
    stress = head["stress"] or {}
    rows = [["stress", stress.get("text") or "–", "", "", ""]]
    for name in ("l0_cd_m2", "t95_s", "t80_s", "t50_s", "stop_reason"):
        rows.append([words(name), _number(head[name], name), "", "", ""])
    for name, change in head["changes"].items():
        pct = change["change_pct"]
        rows.append([words(name), "", _number(change["before"], name),
                     _number(change["after"], name),
                     "–" if pct is None else "%+.1f %%" % pct])
    return rows


def _table(ax, report: dict[str, Any]) -> None:
    """(d) the headline figures."""
    ax.set_axis_off()
    table = ax.table(cellText=headline_rows(report), loc="upper center", cellLoc="left",
                     colLabels=["", "value", "before", "after", "change"],
                     colWidths=[0.42, 0.2, 0.13, 0.13, 0.12])
    table.auto_set_font_size(False)
    table.set_fontsize(7.5)
    table.scale(1.0, 1.15)
    ax.set_title("(d) headline", fontsize=9, loc="left")


def sequence_png(report: dict[str, Any], store: Any, dpi: int = DEFAULT_DPI,
                 fmt: str = "png") -> bytes:
    """The sequence's figure as PNG (WIDTH_IN * dpi pixels wide) or PDF bytes; `report` as
    sequence_report made it, `store` the one it was made from (for the runs' samples)."""
    from matplotlib.figure import Figure  # no pyplot: no global state shared by threads

    if fmt not in FORMATS:
        raise ValueError("format %r: expected one of %s" % (fmt, ", ".join(FORMATS)))
    with DRAW_LOCK:
        fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=dpi)
        grid = fig.add_gridspec(4, 2, height_ratios=(3.0, 2.0, 2.4, 2.2))
        span_s = max([c["stress_to_s"] or 0.0 for c in report["clocks"]] + [0.0])
        scale, unit = _time_unit(span_s)
        _stress_curve(fig.add_subplot(grid[0, :]), report, store, scale, unit)
        _checkup_figures(fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1]), report,
                         scale, unit)
        _sweeps(fig.add_subplot(grid[2, 0]), fig.add_subplot(grid[2, 1]), report, store)
        _table(fig.add_subplot(grid[3, :]), report)
        device = (report["metadata"].get("device") or {})
        named = " ".join(str(device[k]) for k in ("name", "pixel") if device.get(k))
        fig.suptitle("sequence %s%s on %s (%s%s)%s" % (
            report["sequence_id"], ": " + report["name"] if report["name"] else "", report["rig"],
            report["state"], ", partial" if report["partial"] else "",
            " · " + named if named else ""), fontsize=11)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=dpi)
        return buf.getvalue()
