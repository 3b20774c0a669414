// A photostability run's figure: PL normalised to its first lit sample above the film's
// temperature and humidity, on the exposure time (dark pauses taken out, as the summary
// counts it); the laser's power and wavelength in the caption.

import { isNum, num, timeUnit } from "./dom.js";
import { line, MARK } from "./plots.js";
import { onPanel, stackLayout } from "./stackplot.js";
import { pick, stressClock } from "./stresstime.js";

export function photostabilityFigures(run, series) {
  const clock = stressClock(run, series);
  const pl = pick(series, "pl", clock.rows);
  const first = pl.find((v) => isNum(v) && v > 0);
  const unit = timeUnit(clock.t.length ? clock.t[clock.t.length - 1] : 0);
  const x = clock.t.map((v) => v / unit.scale);
  const { layout, axes, rightAxes } = stackLayout(`exposure time (${unit.label})`, [
    { title: "PL / PL0", weight: 3 }, { title: "T (°C)", right: "RH (%)", weight: 1.2 }]);
  const traces = [onPanel(line(x, pl.map((v) => (isNum(v) && first ? v / first : null)), "PL / PL0"), axes[0]),
    onPanel(line(x, pick(series, "temperature_c", clock.rows), "temperature",
      { line: { color: "#d35400", width: 1.5 } }), axes[1]),
    onPanel(line(x, pick(series, "humidity_pct", clock.rows), "RH",
      { line: { color: "#16a085", width: 1.5, dash: "dot" } }), rightAxes[1])];
  const summary = run.summary || {};
  layout.annotations = [];
  if (isNum(summary.min_fraction) && isNum(summary.t_min_s)) {
    const xm = summary.t_min_s / unit.scale;
    traces.push(onPanel({ type: "scatter", mode: "markers", x: [xm], y: [summary.min_fraction],
      marker: { color: MARK, size: 9 }, name: "minimum" }, axes[0]));
    layout.annotations.push({ x: xm, y: summary.min_fraction, xref: "x", yref: "y",
      text: `min ${num(summary.min_fraction)}`, showarrow: true, arrowhead: 2, ax: 30, ay: 30,
      font: { color: MARK } });
  }
  const p = run.params || {};
  const laser = isNum(p.laser_power_mw_cm2)
    ? ` (laser ${num(p.laser_power_mw_cm2)} mW/cm²${isNum(p.wavelength_nm) ? ` at ${num(p.wavelength_nm)} nm` : ""})`
    : "";
  return [{ id: "photostability", wide: true, height: 560, points: x.length, traces, layout,
    title: `Normalised PL, T and RH vs exposure time${laser}` }];
}
