// The compare page's overlays: one trace per run, named "#id device pixel".
// Each function takes [{run, cols}] (a run as GET /api/runs/{id} answers it, its samples as
// {column: [values]}) and returns figures for plots.js draw(), or [] when no run fits.

import { isNum, timeUnit } from "./dom.js";
import { eqePerCdA } from "./jvlplots.js";
import { baseLayout } from "./plots.js";
import { runLabel } from "./runfacts.js";
import { stressClock } from "./stresstime.js";

// Sample flag bits (protocol/schema.py).
const FLAG_PL_POINT = 16;
const FLAG_STEP_END = 128;
const FLAG_RAMP = 512;
const FLAG_DARK = 1024;

const LEGEND = { showlegend: true, legend: { orientation: "h", y: -0.22, x: 0 } };

function trace(run, x, y, extra = {}) {
  return { type: "scatter", mode: "lines", x, y, name: runLabel(run), meta: { run: run.id },
    line: { width: 1.5 }, ...extra };
}

/** Indices of the rows to plot: those `keep(i)` accepts. */
function rowsWhere(cols, keep) {
  const n = (cols.seq || cols.t_s || []).length;
  const out = [];
  for (let i = 0; i < n; i += 1) if (keep(i)) out.push(i);
  return out;
}

/**
 * A lifetime run's decay on stress time, as its run page and its T-values count it: L/L0
 * against the time since the hold began with dark pauses taken out (stresstime.js), without
 * the ramp's or dark pauses' samples.
 */
export function lifetimeCurve({ run, cols }) {
  const summary = run.summary || {};
  const lum = cols.luminance_cd_m2 || [];
  const flags = cols.flags || [];
  const clock = stressClock(run, { column: (name) => cols[name] || [] });
  const kept = clock.rows.map((row, k) => [row, clock.t[k]])
    .filter(([i]) => isNum(lum[i]) && !((flags[i] || 0) & (FLAG_RAMP | FLAG_DARK)));
  const l0 = isNum(summary.l0_cd_m2) && summary.l0_cd_m2 > 0 ? summary.l0_cd_m2
    : (kept.length ? lum[kept[0][0]] : null);
  if (!isNum(l0) || l0 <= 0) return null;
  return { t: kept.map(([, t]) => t), ratio: kept.map(([i]) => lum[i] / l0) };
}

export function lifetimeFigures(items, timeAxis = "linear") {
  const curves = items.filter((it) => it.run.kind === "lifetime")
    .map((it) => ({ run: it.run, curve: lifetimeCurve(it) })).filter((c) => c.curve);
  if (!curves.length) return [];
  const longest = Math.max(...curves.map((c) => c.curve.t[c.curve.t.length - 1] || 0));
  const unit = timeUnit(longest);
  const xTitle = `time under stress (${unit.label})${timeAxis === "log" ? ", log" : ""}`;
  const points = curves.reduce((a, c) => a + c.curve.t.length, 0);
  return [{ id: "lifetime", title: "Lifetime: L / L0 vs time", points,
    traces: curves.map(({ run, curve }) => trace(run, curve.t.map((v) => v / unit.scale), curve.ratio)),
    layout: baseLayout(xTitle, "L / L0", { ...LEGEND,
      xaxis: { type: timeAxis === "log" ? "log" : "linear", title: { text: xTitle }, automargin: true },
      yaxis: { title: { text: "L / L0" }, rangemode: "tozero", automargin: true },
      shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: 0.5, y1: 0.5,
        line: { color: "#888", width: 1, dash: "dot" } }] }) }];
}

/** PL normalised to its first point: the scheduled PL points (what the summary uses), or
 * every PL reading when the downsampled rows hold none of them. */
export function photostabilityCurve({ cols }) {
  const t = cols.t_s || [];
  const pl = cols.pl || [];
  const flags = cols.flags || [];
  let rows = rowsWhere(cols, (i) => isNum(pl[i]) && ((flags[i] || 0) & FLAG_PL_POINT));
  if (!rows.length) rows = rowsWhere(cols, (i) => isNum(pl[i]) && !((flags[i] || 0) & FLAG_DARK));
  const first = rows.map((i) => pl[i]).find((v) => v > 0);
  if (!first) return null;
  return { t: rows.map((i) => t[i]), fraction: rows.map((i) => pl[i] / first) };
}

export function photostabilityFigures(items) {
  const curves = items.filter((it) => it.run.kind === "photostability")
    .map((it) => ({ run: it.run, curve: photostabilityCurve(it) })).filter((c) => c.curve);
  if (!curves.length) return [];
  const unit = timeUnit(Math.max(...curves.map((c) => c.curve.t[c.curve.t.length - 1] || 0)));
  const xTitle = `time (${unit.label})`;
  return [{ id: "photostability", title: "Photostability: PL / PL0 vs time",
    points: curves.reduce((a, c) => a + c.curve.t.length, 0),
    traces: curves.map(({ run, curve }) => trace(run, curve.t.map((v) => v / unit.scale),
      curve.fraction, { mode: "lines+markers", marker: { size: 4 } })),
    layout: baseLayout(xTitle, "PL / PL0", LEGEND) }];
}

/** A sweep's settled points (each step's last sample; every sample if none is flagged), with
 * J in mA/cm2 on the run's calibration area and CE in cd/A. */
export function jvlCurve({ run, cols }) {
  const area = Number((run.calibration || {}).pixel_area_mm2) || null;
  const v = cols.voltage_v || [];
  const current = cols.current_a || [];
  const lum = cols.luminance_cd_m2 || [];
  const flags = cols.flags || [];
  let rows = rowsWhere(cols, (i) => isNum(v[i]) && ((flags[i] || 0) & FLAG_STEP_END));
  if (!rows.length) rows = rowsWhere(cols, (i) => isNum(v[i]));
  if (!area || !rows.length) return null;
  const jMaCm2 = rows.map((i) => (isNum(current[i]) ? current[i] / (area * 1e-2) * 1e3 : null));
  const l = rows.map((i) => (isNum(lum[i]) && lum[i] > 0 ? lum[i] : null));
  // CE = L / J with J in A/m2 (10x mA/cm2).
  const ce = jMaCm2.map((j, k) => (isNum(j) && j > 0 && l[k] !== null ? l[k] / (j * 10) : null));
  const perCdA = eqePerCdA(run.summary);
  return { v: rows.map((i) => v[i]), j: jMaCm2, l, ce,
    eqe: ce.map((c) => (perCdA !== null && isNum(c) ? c * perCdA : null)),
    jPositive: jMaCm2.map((j) => (isNum(j) && j > 0 ? j : null)) };
}

export function jvlFigures(items) {
  const curves = items.filter((it) => it.run.kind === "jvl")
    .map((it) => ({ run: it.run, curve: jvlCurve(it) })).filter((c) => c.curve);
  if (!curves.length) return [];
  const points = curves.reduce((a, c) => a + c.curve.v.length, 0);
  const dots = { mode: "lines+markers", marker: { size: 4 } };
  return [
    { id: "jv", title: "J-V", points,
      traces: curves.map(({ run, curve }) => trace(run, curve.v, curve.j, dots)),
      layout: baseLayout("voltage (V)", "J (mA/cm²)", LEGEND) },
    { id: "lv", title: "L-V", points,
      traces: curves.map(({ run, curve }) => trace(run, curve.v, curve.l, dots)),
      layout: baseLayout("voltage (V)", "luminance (cd/m²)", { ...LEGEND,
        yaxis: { type: "log", title: { text: "luminance (cd/m²)" }, automargin: true } }) },
    { id: "cej", title: "CE-J", points,
      traces: curves.map(({ run, curve }) => trace(run, curve.jPositive, curve.ce, dots)),
      layout: baseLayout("J (mA/cm²)", "CE (cd/A)", { ...LEGEND,
        xaxis: { type: "log", title: { text: "J (mA/cm²)" }, automargin: true } }) },
    // EQE from each run's own CE and EL spectrum (a run without a spectrum has none).
    { id: "eqej", title: "EQE-J", points,
      traces: curves.map(({ run, curve }) => trace(run, curve.jPositive, curve.eqe, dots)),
      layout: baseLayout("J (mA/cm²)", "EQE (%)", { ...LEGEND,
        xaxis: { type: "log", title: { text: "J (mA/cm²)" }, automargin: true } }) },
  ];
}

/** Every overlay the runs call for, lifetime first. */
export function compareFigures(items, timeAxis) {
  return [...lifetimeFigures(items, timeAxis), ...photostabilityFigures(items), ...jvlFigures(items)];
}
