// The run page's plots per kind, drawn with plotly.js (served by the app from its package).

import { isNum, num, timeUnit } from "./dom.js";

const LINE = "#1f5fa8";
const MARK = "#c0392b";
const CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

export function plottingAvailable() {
  return typeof window.Plotly === "object" && typeof window.Plotly.react === "function";
}

export function baseLayout(xTitle, yTitle, extra = {}) {
  return {
    margin: { l: 58, r: 14, t: 10, b: 46 },
    xaxis: { title: { text: xTitle }, zeroline: false, automargin: true },
    yaxis: { title: { text: yTitle }, zeroline: false, automargin: true },
    showlegend: false,
    hovermode: "closest",
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#fff",
    ...extra,
  };
}

function line(x, y, name, extra = {}) {
  return { type: "scatter", mode: "lines", x, y, name, line: { color: LINE, width: 1.5 }, ...extra };
}

/** Run time at which the constant-voltage stress began (after a luminance-target ramp). */
function holdStartS(run) {
  const reached = (run.events || []).find((e) => e.name === "target_reached");
  return reached && reached.data && isNum(reached.data.t_s) ? reached.data.t_s : 0;
}

function lifetimeFigure(run, series, live) {
  const t = series.column("t_s");
  const lum = series.column("luminance_cd_m2");
  const summary = run.summary || {};
  const l0 = isNum(summary.l0_cd_m2) ? summary.l0_cd_m2 : live.l0_cd_m2;
  const unit = timeUnit(t.length ? t[t.length - 1] : 0);
  const x = t.map((v) => v / unit.scale);
  const xTitle = `time (${unit.label})`;
  if (!isNum(l0) || l0 <= 0) {
    return [{ id: "lifetime", title: "Luminance (L0 not captured yet)", points: x.length,
      traces: [line(x, lum, "luminance")],
      layout: baseLayout(xTitle, "luminance (cd/m²)") }];
  }
  const ratio = lum.map((v) => (isNum(v) ? v / l0 : null));
  const stop = isNum(run.params && run.params.stop_fraction) ? run.params.stop_fraction : 0.5;
  const shapes = [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: stop, y1: stop,
    line: { color: "#888", width: 1, dash: "dot" } }];
  const annotations = [];
  const hold = holdStartS(run);
  const t50 = isNum(summary.t50_s) ? summary.t50_s : null;
  const t50Fit = isNum(summary.t50_fit_s) ? summary.t50_fit_s : null;
  const marked = t50 ?? t50Fit;
  if (marked !== null) {
    const xt = (marked + hold) / unit.scale;
    const label = `${t50 !== null ? "T50" : "T50 (fit)"} = ${num(marked / unit.scale)} ${unit.label}`;
    shapes.push({ type: "line", x0: xt, x1: xt, yref: "paper", y0: 0, y1: 1,
      line: { color: MARK, width: 2, dash: t50 !== null ? "dash" : "dot" } });
    annotations.push({ x: xt, y: 0.5, text: label, showarrow: true, arrowhead: 2, ax: 50,
      ay: -40, font: { color: MARK }, bgcolor: "rgba(255,255,255,0.85)" });
  }
  const traces = [line(x, ratio, "L/L0")];
  if (marked !== null) {
    traces.push({ type: "scatter", mode: "markers", x: [(marked + hold) / unit.scale], y: [0.5],
      name: "T50", marker: { color: MARK, size: 9 } });
  }
  return [{ id: "lifetime", title: `L/L0 vs time (L0 = ${num(l0)} cd/m²)`, points: x.length,
    marker: marked !== null ? "T50" : "", traces,
    layout: baseLayout(xTitle, "L / L0", { shapes, annotations,
      yaxis: { title: { text: "L / L0" }, rangemode: "tozero", automargin: true } }) }];
}

function photostabilityFigure(run, series) {
  const t = series.column("t_s");
  const pl = series.column("pl");
  const first = pl.find((v) => isNum(v) && v > 0);
  const unit = timeUnit(t.length ? t[t.length - 1] : 0);
  const x = t.map((v) => v / unit.scale);
  const y = pl.map((v) => (isNum(v) && first ? v / first : null));
  const summary = run.summary || {};
  const traces = [line(x, y, "PL / PL0")];
  const annotations = [];
  if (isNum(summary.min_fraction) && isNum(summary.t_min_s)) {
    const xm = summary.t_min_s / unit.scale;
    traces.push({ type: "scatter", mode: "markers", x: [xm], y: [summary.min_fraction],
      marker: { color: MARK, size: 9 }, name: "minimum" });
    annotations.push({ x: xm, y: summary.min_fraction, text: `min ${num(summary.min_fraction)}`,
      showarrow: true, arrowhead: 2, ax: 30, ay: 30, font: { color: MARK } });
  }
  return [{ id: "photostability", title: "Normalised PL vs time", points: x.length, traces,
    layout: baseLayout(`time (${unit.label})`, "PL / PL0", { annotations }) }];
}

function jvlFigures(run, series) {
  const areaMm2 = Number((run.calibration || {}).pixel_area_mm2) || 1.0;
  const v = series.column("voltage_v");
  const current = series.column("current_a");
  const lum = series.column("luminance_cd_m2");
  // J in mA/cm2 from the pixel area; CE = L / J with J in A/m2 (cd/A).
  const jMaCm2 = current.map((i) => (isNum(i) ? (i * 1e3) / (areaMm2 * 1e-2) : null));
  const ce = current.map((i, k) => (isNum(i) && i > 0 && isNum(lum[k]) && lum[k] > 0
    ? lum[k] / (i / (areaMm2 * 1e-6)) : null));
  const marker = { mode: "lines+markers", marker: { size: 4, color: LINE } };
  const positive = (arr) => arr.map((y) => (isNum(y) && y > 0 ? y : null));
  return [
    { id: "jv", title: "J-V", points: v.length, traces: [line(v, jMaCm2, "J", marker)],
      layout: baseLayout("voltage (V)", "J (mA/cm²)") },
    { id: "lv", title: "L-V", points: v.length, traces: [line(v, positive(lum), "L", marker)],
      layout: baseLayout("voltage (V)", "luminance (cd/m²)", {
        yaxis: { type: "log", title: { text: "luminance (cd/m²)" }, automargin: true } }) },
    { id: "cej", title: "CE-J (EQE is not in the samples: its maximum is in the summary)", points: v.length,
      traces: [line(positive(jMaCm2), ce, "CE", marker)],
      layout: baseLayout("J (mA/cm²)", "CE (cd/A)", {
        xaxis: { type: "log", title: { text: "J (mA/cm²)" }, automargin: true } }) },
  ];
}

/** The figures for a run: [{id, title, points, traces, layout}]. */
export function figures(run, series, live) {
  if (run.kind === "lifetime") return lifetimeFigure(run, series, live);
  if (run.kind === "photostability") return photostabilityFigure(run, series);
  return jvlFigures(run, series);
}

/** Draw (or redraw in place) each figure into a child of `container`. */
export function draw(container, figs) {
  // Every box first, then the plots: a plot drawn while it was the grid's only box would keep
  // that full width after its neighbours arrive (plotly resizes on window resizes only).
  const boxes = figs.map((fig) => {
    let box = container.querySelector(`[data-figure="${fig.id}"]`);
    if (!box) {
      box = document.createElement("figure");
      box.className = "plot";
      box.dataset.figure = fig.id;
      box.append(document.createElement("figcaption"), document.createElement("div"));
      container.append(box);
    }
    return box;
  });
  for (const box of container.querySelectorAll("[data-figure]")) {
    if (!figs.some((f) => f.id === box.dataset.figure)) box.remove();
  }
  figs.forEach((fig, i) => {
    const box = boxes[i];
    box.querySelector("figcaption").textContent = fig.title;
    box.dataset.points = String(fig.points);
    box.dataset.marker = fig.marker || "";
    const div = box.querySelector("div");
    div.className = "plot-area";
    if (plottingAvailable()) window.Plotly.react(div, fig.traces, fig.layout, CONFIG);
    else div.textContent = "plotly.js is not available: run `make install` (the dashboard's other parts still work)";
  });
}

/** Release the plots in `container` (plotly keeps window listeners until purged). */
export function purge(container) {
  if (!plottingAvailable()) return;
  for (const div of container.querySelectorAll(".plot-area")) window.Plotly.purge(div);
}
