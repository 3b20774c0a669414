"""Static PNG figures of a run for reports (matplotlib, no display needed): the dashboard's
run-page panels in one image, WIDTH_IN inches wide at the dpi asked for."""

import io
import threading
from typing import Any

import numpy as np

from host.analysis import dark
from host.analysis.jvl import (
    current_density_ma_cm2,
    current_efficiency_cd_a,
    eqe_per_cd_a,
    power_efficiency_lm_w,
)
from host.runs.figurewords import unit_of, words
from host.runs.kinds import KINDS
from host.runs.summaries import hold_start_s
from photometry.spectrum import as_spectrum
from protocol import schema

WIDTH_IN = 8.0
# Matplotlib is not thread-safe (its font and text-layout caches are shared), and the API
# draws in worker threads: one figure is drawn at a time.
DRAW_LOCK = threading.Lock()
DEFAULT_DPI = 200  # 1600 px wide
DPI_RANGE = (50, 400)  # 400-6400 px wide; above, a lifetime figure passes 50 megapixels
HEIGHT_IN = {"lifetime": 9.0, "photostability": 6.0, "jvl": 10.0}
T_MARKS = (("t95", "T95"), ("t80", "T80"), ("t50", "T50"))
MARK = "tab:red"

Cols = dict[str, np.ndarray]


def _time_unit(span_s: float) -> tuple[float, str]:
    """(seconds per unit, unit) for an axis spanning span_s, as the dashboard picks them."""
    if span_s < 300:
        return 1.0, "s"
    return (60.0, "min") if span_s < 3 * 3600 else (3600.0, "h")


def area_mm2(run: dict[str, Any]) -> float | None:
    """The pixel area current density is taken on: the device's, else the calibration's."""
    device = run.get("device") or {}
    area = device.get("area_mm2") or (run.get("calibration") or {}).get("pixel_area_mm2")
    return float(area) if area else None


def _stress(run: dict[str, Any], cols: Cols) -> tuple[np.ndarray, np.ndarray]:
    """(rows, time under stress in s): the samples of the hold (no ramp, no dark pause) and
    their time from the hold's start with the pauses taken out, the summary's time axis."""
    events = run.get("events") or []
    start = hold_start_s(events)
    off = (cols["flags"].astype(np.int64) & (schema.FLAG_RAMP | schema.FLAG_DARK)) != 0
    rows = ~off & (cols["t_s"] >= start)
    return rows, dark.drive_time_s(cols["t_s"][rows], start, dark.pauses(events))


def _ambient(ax, t: np.ndarray, cols: Cols, rows: np.ndarray) -> None:
    ax.plot(t, cols["temperature_c"][rows], color="tab:orange", lw=1)
    ax.set_ylabel("T (°C)", color="tab:orange")
    rh = ax.twinx()
    rh.plot(t, cols["humidity_pct"][rows], color="tab:cyan", lw=1)
    rh.set_ylabel("RH (%)", color="tab:cyan")


def _mark_t_values(axes: list, summary: dict[str, Any], scale: float) -> None:
    """T95/T80/T50 as vertical lines through every panel, labelled on the first; the fit's
    value (dotted, "fit") where the data never reached it."""
    for key, label in T_MARKS:
        measured, fitted = summary.get(key + "_s"), summary.get(key + "_fit_s")
        t = measured if measured is not None else fitted
        if t is None:
            continue
        for ax in axes:
            ax.axvline(t / scale, color=MARK, lw=0.9, ls="--" if measured is not None else ":")
        axes[0].annotate("%s%s" % (label, "" if measured is not None else " (fit)"),
                         (t / scale, 1.0), xycoords=("data", "axes fraction"),
                         xytext=(3, -12), textcoords="offset points", color=MARK, fontsize=8)


def _lifetime(fig, run: dict[str, Any], cols: Cols) -> None:
    summary = run.get("summary") or {}
    rows, t_s = _stress(run, cols)
    scale, unit = _time_unit(float(t_s.max()) if len(t_s) else 0.0)
    t = t_s / scale
    lum = cols["luminance_cd_m2"][rows]
    l0 = summary.get("l0_cd_m2") or (float(np.nanmax(lum[:10])) if len(lum) else 1.0)
    axes = fig.subplots(4, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1.2, 1.2, 1.2)})
    axes[0].plot(t, lum / l0, lw=1.2, color="tab:green", label="L / L0")
    tau, beta, fit_l0 = (summary.get(k) for k in ("fit_tau_s", "fit_beta", "fit_l0_cd_m2"))
    if tau and beta and fit_l0 and len(t_s):
        grid_s = np.linspace(0.0, float(t_s.max()), 400)
        axes[0].plot(grid_s / scale, fit_l0 / l0 * np.exp(-((grid_s / tau) ** beta)), lw=1,
                     color="k", ls="--", label="fit: τ %.4g s, β %.3g" % (tau, beta))
    axes[0].set_ylabel("L / L0")
    axes[0].set_ylim(0, 1.15)
    axes[0].legend(loc="lower left", fontsize=8)
    axes[1].plot(t, cols["voltage_v"][rows], color="tab:purple", lw=1)
    axes[1].set_ylabel("V (V)")
    area = area_mm2(run)
    current = cols["current_a"][rows]
    if area:
        axes[2].plot(t, current_density_ma_cm2(current, area), color="tab:blue", lw=1)
        axes[2].set_ylabel("J (mA/cm²)")
    else:
        axes[2].plot(t, current * 1e3, color="tab:blue", lw=1)
        axes[2].set_ylabel("I (mA)")
    _ambient(axes[3], t, cols, rows)
    _mark_t_values(list(axes), summary, scale)
    axes[3].set_xlabel("time under stress (%s), from the hold's start" % unit)
    fig.align_ylabels(axes)


def _photostability(fig, run: dict[str, Any], cols: Cols) -> None:
    rows, t_s = _stress(run, cols)
    scale, unit = _time_unit(float(t_s.max()) if len(t_s) else 0.0)
    t = t_s / scale
    pl = cols["pl"][rows]
    lit = pl[np.isfinite(pl) & (pl > 0)]
    ref = lit[0] if len(lit) else 1.0
    points = (cols["flags"][rows] & schema.FLAG_PL_POINT) != 0
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1.2)})
    top.plot(t, pl / ref, lw=0.8, color="tab:blue", alpha=0.5, label="monitor")
    top.plot(t[points], pl[points] / ref, "o-", color="tab:blue", label="PL points")
    top.set_ylabel("PL / PL0")
    top.legend(loc="lower left", fontsize=8)
    _ambient(bottom, t, cols, rows)
    bottom.set_xlabel("exposure time (%s)" % unit)
    params = run.get("params") or {}
    if params.get("laser_power_mw_cm2") is not None:
        top.set_title("laser %g mW/cm² at %g nm" % (params["laser_power_mw_cm2"],
                                                    params.get("wavelength_nm") or 0),
                      fontsize=9)


def _eqe_pct_per_cd_a(run: dict[str, Any]) -> float | None:
    """EQE (%) per cd/A from the run's spectrum, else the rig's (as its summary has it)."""
    spectrum = ((run.get("params") or {}).get("spectrum")
                or (run.get("calibration") or {}).get("reference_spectrum"))
    try:
        return 100.0 * eqe_per_cd_a(as_spectrum(spectrum)) if spectrum else None
    except ValueError:
        return None


def _jvl(fig, run: dict[str, Any], cols: Cols) -> None:
    step_end = (cols["flags"] & schema.FLAG_STEP_END) != 0
    v = cols["voltage_v"][step_end]
    j = current_density_ma_cm2(cols["current_a"][step_end], area_mm2(run) or 1.0)
    lum = cols["luminance_cd_m2"][step_end]
    ce = current_efficiency_cd_a(lum, j)
    lit = lum >= 1.0  # below 1 cd/m2 the ratios are noise (host.analysis.jvl)
    ce = np.where(lit, ce, np.nan)
    axes = fig.subplots(3, 2).ravel()
    axes[0].semilogy(v, np.where(j > 0, j, np.nan), "o-", ms=3, color="tab:blue")
    axes[0].set(xlabel="voltage (V)", ylabel="J (mA/cm²)")
    axes[1].semilogy(v, np.where(lum > 0, lum, np.nan), "s-", ms=3, color="tab:green")
    axes[1].set(xlabel="voltage (V)", ylabel="L (cd/m²)")
    per = _eqe_pct_per_cd_a(run)
    for ax, y, label in ((axes[2], ce, "CE (cd/A)"),
                         (axes[3], ce * per if per else np.full_like(ce, np.nan), "EQE (%)"),
                         (axes[4], power_efficiency_lm_w(ce, v), "PE (lm/W)")):
        ax.semilogx(np.where(j > 0, j, np.nan), y, "o-", ms=3, color="tab:purple")
        ax.set(xlabel="J (mA/cm²)", ylabel=label)
    if per is None:
        axes[3].set_title("no EL spectrum: EQE unknown", fontsize=9)
    axes[5].axis("off")
    summary = run.get("summary") or {}
    said = ["%s: %.4g %s" % (words(name), summary[name], unit_of(name))
            for name in KINDS["jvl"].figures if isinstance(summary.get(name), (int, float))]
    axes[5].text(0, 1, "\n".join(said), va="top", fontsize=9, transform=axes[5].transAxes)


def run_plot_png(run: dict[str, Any], cols: Cols, dpi: int = DEFAULT_DPI) -> bytes:
    """PNG bytes of a run's figure, WIDTH_IN * dpi pixels wide; `run` as GET /api/runs/{id}
    answers it (events and calibration included), `cols` its stored sample columns."""
    from matplotlib.figure import Figure  # no pyplot: no global state shared by threads

    kind = run["kind"]
    with DRAW_LOCK:
        fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN[kind]), dpi=dpi)
        {"lifetime": _lifetime, "photostability": _photostability, "jvl": _jvl}[kind](
            fig, run, cols)
        device = run.get("device") or {}
        named = " ".join(str(device[k]) for k in ("name", "pixel") if device.get(k))
        fig.suptitle("run %s: %s on %s (%s)%s" % (run["id"], kind, run["rig"], run["state"],
                                                  " · " + named if named else ""))
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        return buf.getvalue()
