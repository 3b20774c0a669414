"""Static PNG plots of a run for reports and e-mails (matplotlib, no display needed)."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from protocol import schema  # noqa: E402


def _finite(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def _lifetime(ax, cols: dict, summary: dict) -> None:
    t, lum = _finite(cols["t_s"], cols["luminance_cd_m2"])
    l0 = summary.get("l0_cd_m2") or (lum[: max(1, len(lum) // 50)].max() if len(lum) else 1.0)
    ax.plot(t, lum / l0, lw=1.2, color="tab:green", label="L / L0")
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    if summary.get("t50_s") is not None:
        ax.axvline(summary["t50_s"], color="tab:red", lw=1, ls="--",
                   label="T50 = %.0f s" % summary["t50_s"])
    ax.set_xlabel("time (s)")
    ax.set_ylabel("L / L0")
    ax.set_ylim(0, 1.15)
    ax.legend(loc="upper right")


def _photostability(ax, cols: dict, summary: dict) -> None:
    t, pl = _finite(cols["t_s"], cols["pl"])
    points = (cols["flags"] & schema.FLAG_PL_POINT) != 0
    if len(pl):
        ref = pl[0] if pl[0] > 0 else np.nanmax(pl)
        ax.plot(t / 60, pl / ref, lw=0.8, color="tab:blue", alpha=0.5, label="monitor")
        tp, plp = _finite(cols["t_s"][points], cols["pl"][points])
        if len(plp):
            ax.plot(tp / 60, plp / plp[0], "o-", color="tab:blue", label="PL points")
    ax.set_xlabel("irradiation time (min)")
    ax.set_ylabel("normalised PL")
    ax.legend(loc="lower right")


def _jvl(fig, cols: dict, summary: dict, pixel_area_mm2: float) -> None:
    step_end = (cols["flags"] & schema.FLAG_STEP_END) != 0
    v = cols["voltage_v"][step_end]
    j_ma_cm2 = cols["current_a"][step_end] * 1e3 / (pixel_area_mm2 * 1e-2)
    lum = cols["luminance_cd_m2"][step_end]
    ax1 = fig.add_subplot(1, 2, 1)
    ax1.semilogy(v, np.clip(j_ma_cm2, 1e-6, None), "o-", ms=3, color="tab:blue")
    ax1.set_xlabel("voltage (V)")
    ax1.set_ylabel("J (mA/cm2)", color="tab:blue")
    ax1b = ax1.twinx()
    ax1b.semilogy(v, np.clip(lum, 1e-3, None), "s-", ms=3, color="tab:green")
    ax1b.set_ylabel("L (cd/m2)", color="tab:green")
    ax2 = fig.add_subplot(1, 2, 2)
    ce = np.where(j_ma_cm2 > 0, lum / (j_ma_cm2 * 10), np.nan)
    ax2.plot(j_ma_cm2, ce, "o-", ms=3, color="tab:purple")
    ax2.set_xscale("symlog", linthresh=1e-2)
    ax2.set_xlabel("J (mA/cm2)")
    ax2.set_ylabel("CE (cd/A)")


def run_plot_png(run: dict, cols: dict, pixel_area_mm2: float = 1.0) -> bytes:
    """PNG bytes of a run's main plot; `cols` are the stored sample columns (numpy)."""
    summary = run.get("summary") or {}
    fig = plt.figure(figsize=(9, 4.5) if run["kind"] == "jvl" else (7, 4.5), dpi=100)
    try:
        if run["kind"] == "lifetime":
            _lifetime(fig.add_subplot(1, 1, 1), cols, summary)
        elif run["kind"] == "photostability":
            _photostability(fig.add_subplot(1, 1, 1), cols, summary)
        else:
            _jvl(fig, cols, summary, pixel_area_mm2)
        fig.suptitle("run %s: %s on %s (%s)" % (run["id"], run["kind"], run["rig"], run["state"]))
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)
