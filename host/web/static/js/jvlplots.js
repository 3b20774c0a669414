// A J-V-L sweep's figures: J-V and L-V, and the efficiencies against J (CE, EQE, PE), with J
// and L on log axes.

import { currentPanel } from "./currentdensity.js";
import { isNum, num } from "./dom.js";
import { baseLayout, line, LINE } from "./plots.js";

const LOG_J = { type: "log", title: { text: "J (mA/cm²)" }, automargin: true };

function positive(values) {
  return values.map((y) => (isNum(y) && y > 0 ? y : null));
}

/** EQE (%) per cd/A: the summary's EQE is its CE times one factor of the EL spectrum
 * (host/analysis/jvl.py eqe_per_cd_a), so their maxima give it; null without a spectrum. */
export function eqePerCdA(summary) {
  const { eqe_max_pct: eqe, ce_max_cd_a: ce } = summary || {};
  return isNum(eqe) && isNum(ce) && ce > 0 ? eqe / ce : null;
}

function eqeTitle(run, perCdA) {
  if (perCdA !== null) return `EQE-J (EQE = ${num(perCdA, 4)} % per cd/A of CE, from the EL spectrum)`;
  if (!run.summary) return "EQE-J (drawn when the sweep is summarised)";
  return "EQE-J (no EL spectrum: EQE unknown)";
}

export function jvlFigures(run, series) {
  const v = series.column("voltage_v");
  const lum = series.column("luminance_cd_m2");
  const j = currentPanel(run, series.column("current_a"));
  const jTitle = j.title;
  const jPositive = positive(j.y);
  // CE = L / J with J in A/m² (1 mA/cm² = 10 A/m²); PE = pi CE / V, a Lambertian emitter
  // (host/analysis/jvl.py).
  const ce = jPositive.map((jv, k) => (jv !== null && isNum(lum[k]) && lum[k] > 0 ? lum[k] / (jv * 10) : null));
  const pe = ce.map((c, k) => (c !== null && isNum(v[k]) && v[k] > 0 ? (Math.PI * c) / v[k] : null));
  const perCdA = eqePerCdA(run.summary);
  const eqe = ce.map((c) => (c !== null && perCdA !== null ? c * perCdA : null));
  const marker = { mode: "lines+markers", marker: { size: 4, color: LINE } };
  const logJ = { ...LOG_J, title: { text: jTitle } };
  const againstJ = (id, title, y, yTitle) => ({ id, title, points: v.length,
    traces: [line(jPositive, y, id, marker)], layout: baseLayout(jTitle, yTitle, { xaxis: logJ }) });
  return [
    { id: "jv", title: "J-V", points: v.length, traces: [line(v, jPositive, "J", marker)],
      layout: baseLayout("voltage (V)", jTitle, { yaxis: logJ }) },
    { id: "lv", title: "L-V", points: v.length, traces: [line(v, positive(lum), "L", marker)],
      layout: baseLayout("voltage (V)", "luminance (cd/m²)", {
        yaxis: { type: "log", title: { text: "luminance (cd/m²)" }, automargin: true } }) },
    againstJ("cej", "CE-J", ce, "CE (cd/A)"),
    againstJ("eqej", eqeTitle(run, perCdA), eqe, "EQE (%)"),
    againstJ("pej", "PE-J (Lambertian)", pe, "PE (lm/W)"),
  ];
}
