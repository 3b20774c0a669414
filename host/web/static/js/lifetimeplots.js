// A lifetime run's figures: L/L0 with the summary's fit and T95/T80/T50 above voltage,
// current density and ambient panels, all on the time under stress; the ramp to a target
// (run time before the hold) in a figure of its own, so it cannot squash the decay.

import { currentPanel } from "./currentdensity.js";
import { isNum, num, timeUnit } from "./dom.js";
import { baseLayout, line, LINE, MARK } from "./plots.js";
import { onPanel, stackLayout } from "./stackplot.js";
import { pick, stressClock } from "./stresstime.js";

const T_VALUES = [["t95", "T95", 0.95], ["t80", "T80", 0.8], ["t50", "T50", 0.5]];
const FIT_POINTS = 200;
const FIT_REACH = 2; // a T-value only the fit gives is marked up to this many data spans out
const AMBIENT = "#d35400";
const HUMID = "#16a085";
const VOLTS = "#7d3c98";

/** The stretched exponential the summary fitted, L/L0 = (L0_fit/L0) exp(-(t/tau)^beta)
 * (host/analysis/lifetime.py), over 0..tMaxS of time under stress; null without a fit. */
function fitTrace(summary, l0, tMaxS, scale) {
  const { fit_l0_cd_m2: a, fit_tau_s: tau, fit_beta: beta } = summary;
  if (![a, tau, beta].every(isNum) || tau <= 0 || !(tMaxS > 0)) return null;
  const t = Array.from({ length: FIT_POINTS }, (_, k) => (tMaxS * k) / (FIT_POINTS - 1));
  return line(t.map((v) => v / scale), t.map((v) => (a / l0) * Math.exp(-((v / tau) ** beta))),
    "fit", { line: { color: "#222", width: 1.5, dash: "dash" },
      hovertemplate: `fit: τ ${num(tau, 4)} s, β ${num(beta)}<extra></extra>` });
}

/** [{label, level, t, fitted}]: each T-value measured, else the fit's when near the data. */
function tMarks(summary, tMaxS) {
  const marks = [];
  for (const [key, label, level] of T_VALUES) {
    const measured = summary[`${key}_s`];
    const fitted = summary[`${key}_fit_s`];
    if (isNum(measured)) marks.push({ label, level, t: measured, fitted: false });
    else if (isNum(fitted) && tMaxS > 0 && fitted <= FIT_REACH * tMaxS) {
      marks.push({ label, level, t: fitted, fitted: true });
    }
  }
  return marks;
}

function markDecorations(marks, unit) {
  const shapes = marks.map((m) => ({ type: "line", xref: "x", yref: "paper", x0: m.t / unit.scale,
    x1: m.t / unit.scale, y0: 0, y1: 1, line: { color: MARK, width: 1.5, dash: m.fitted ? "dot" : "dash" } }));
  const annotations = marks.map((m, k) => ({ x: m.t / unit.scale, y: m.level, xref: "x", yref: "y",
    text: `${m.label}${m.fitted ? " (fit)" : ""} = ${num(m.t / unit.scale)} ${unit.label}`,
    showarrow: true, arrowhead: 2, ax: 45, ay: -28 - 8 * k, font: { color: MARK },
    bgcolor: "rgba(255,255,255,0.85)" }));
  const traces = marks.map((m) => ({ type: "scatter", mode: "markers", name: m.label,
    x: [m.t / unit.scale], y: [m.level], marker: { color: MARK, size: 9 } }));
  return { shapes, annotations, traces };
}

function stressFigure(run, series, clock, l0) {
  const summary = run.summary || {};
  const tMaxS = clock.t.length ? clock.t[clock.t.length - 1] : 0;
  const unit = timeUnit(tMaxS);
  const x = clock.t.map((v) => v / unit.scale);
  const lum = pick(series, "luminance_cd_m2", clock.rows);
  const current = currentPanel(run, pick(series, "current_a", clock.rows));
  const normalised = isNum(l0) && l0 > 0;
  const { layout, axes, rightAxes } = stackLayout(`time under stress (${unit.label})`, [
    { title: normalised ? "L / L0" : "luminance (cd/m²)", weight: 3 },
    { title: "V (V)", weight: 1.1 }, { title: current.title, weight: 1.1 },
    { title: "T (°C)", right: "RH (%)", weight: 1.1 }]);
  const traces = [onPanel(line(x, normalised ? lum.map((v) => (isNum(v) ? v / l0 : null)) : lum,
    normalised ? "L/L0" : "luminance"), axes[0])];
  const marks = normalised ? tMarks(summary, tMaxS) : [];
  // The fit is drawn as far as the data go, or on to a T-value only it reaches.
  const fitEndS = Math.max(tMaxS, ...marks.filter((m) => m.fitted).map((m) => m.t));
  const fit = normalised ? fitTrace(summary, l0, fitEndS, unit.scale) : null;
  if (fit) traces.push(onPanel(fit, axes[0]));
  const decorated = markDecorations(marks, unit);
  traces.push(...decorated.traces.map((t) => onPanel(t, axes[0])));
  traces.push(onPanel(line(x, pick(series, "voltage_v", clock.rows), "voltage"), axes[1]));
  traces.push(onPanel(line(x, current.y, current.title.split(" ")[0]), axes[2]));
  traces.push(onPanel(line(x, pick(series, "temperature_c", clock.rows), "temperature",
    { line: { color: AMBIENT, width: 1.5 } }), axes[3]));
  traces.push(onPanel(line(x, pick(series, "humidity_pct", clock.rows), "RH",
    { line: { color: HUMID, width: 1.5, dash: "dot" } }), rightAxes[3]));
  const stop = isNum((run.params || {}).stop_fraction) ? run.params.stop_fraction : null;
  if (normalised && stop !== null) {
    decorated.shapes.push({ type: "line", xref: "paper", yref: "y", x0: 0, x1: 1, y0: stop, y1: stop,
      line: { color: "#888", width: 1, dash: "dot" } });
  }
  layout.shapes = decorated.shapes;
  layout.annotations = decorated.annotations;
  if (normalised) layout.yaxis.rangemode = "tozero";
  const waiting = clock.start === Infinity ? " (ramping: the hold has not begun)" : "";
  const ramp = clock.start > 0 && clock.start !== Infinity ? `; the ${num(clock.start)} s ramp is cut off` : "";
  return { id: "lifetime", wide: true, height: 720, points: x.length, traces, layout,
    marker: marks.some((m) => m.label === "T50") ? "T50" : "",
    markers: marks.map((m) => m.label + (m.fitted ? "-fit" : "")).join(" "),
    title: `${normalised ? `L/L0 (L0 = ${num(l0)} cd/m²)` : "Luminance (L0 not captured yet)"}, V, `
      + `${current.title.split(" ")[0]}, T and RH vs time under stress${waiting}${ramp}` };
}

function rampFigure(run, series, ramp) {
  const t = pick(series, "t_s", ramp);
  const unit = timeUnit(t.length ? t[t.length - 1] : 0);
  const x = t.map((v) => v / unit.scale);
  const layout = baseLayout(`run time (${unit.label})`, "luminance (cd/m²)", {
    yaxis: { title: { text: "luminance (cd/m²)", font: { color: LINE } }, automargin: true },
    yaxis2: { title: { text: "V (V)", font: { color: VOLTS } }, overlaying: "y", side: "right",
      showgrid: false, automargin: true, tickmode: "auto", nticks: 5 } });
  return { id: "ramp", points: x.length, layout,
    title: "Ramp to the target (before the hold)",
    traces: [line(x, pick(series, "luminance_cd_m2", ramp), "luminance"),
      line(x, pick(series, "voltage_v", ramp), "voltage", { yaxis: "y2", line: { color: VOLTS, width: 1.5 } })] };
}

/** The lifetime figures; l0 from the summary, else what the live progress implies. */
export function lifetimeFigures(run, series, live) {
  const summary = run.summary || {};
  const l0 = isNum(summary.l0_cd_m2) ? summary.l0_cd_m2 : live.l0_cd_m2;
  const clock = stressClock(run, series);
  const figs = [stressFigure(run, series, clock, l0)];
  if (clock.ramp.length) figs.push(rampFigure(run, series, clock.ramp));
  return figs;
}
