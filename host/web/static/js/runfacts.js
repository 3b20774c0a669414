// How a run is named and summed up in one line, the same on every page.

import { duration, el, isNum, num } from "./dom.js";

export function badge(text, tone) {
  return el("span", { class: `badge ${tone}` }, text);
}

export function stateBadge(state) {
  const tone = { completed: "good", running: "run", paused: "run", queued: "muted",
    interrupted: "warn", aborted: "warn", failed: "bad" };
  return badge(state, tone[state] || "muted");
}

/** "#7 G1 A3": the run's id, device name and pixel, as plots name their traces. */
export function runLabel(run) {
  const device = run.device || {};
  return [`#${run.id}`, device.name, device.pixel].filter(Boolean).join(" ");
}

/** The one-line result of a finished run: from a list item's figures or a run's summary. */
export function headline(run) {
  const s = run.figures || run.summary || {};
  if (run.kind === "lifetime") {
    if (isNum(s.t50_s)) return `T50 ${duration(s.t50_s)}`;
    if (isNum(s.t50_fit_s)) return `T50 ≈ ${duration(s.t50_fit_s)} (fit)`;
  } else if (run.kind === "photostability" && isNum(s.final_fraction)) {
    return `PL ends at ${num(s.final_fraction)} (min ${num(s.min_fraction)})`;
  } else if (run.kind === "jvl" && isNum(s.ce_max_cd_a)) {
    return `CE max ${num(s.ce_max_cd_a)} cd/A${isNum(s.eqe_max_pct) ? ` · EQE max ${num(s.eqe_max_pct)} %` : ""}`;
  }
  return run.error || "";
}

/** The kind's main figure, short, for a table cell: T50, PL at the end, EQE (or CE) max. */
export function mainFigure(run) {
  const s = run.figures || run.summary || {};
  if (run.kind === "lifetime") {
    if (isNum(s.t50_s)) return `T50 ${duration(s.t50_s)}`;
    if (isNum(s.t50_fit_s)) return `T50 ≈ ${duration(s.t50_fit_s)} (fit)`;
  } else if (run.kind === "photostability") {
    if (isNum(s.final_fraction)) return `PL end ${num(s.final_fraction)}`;
  } else if (run.kind === "jvl") {
    if (isNum(s.eqe_max_pct)) return `EQE max ${num(s.eqe_max_pct)} %`;
    if (isNum(s.ce_max_cd_a)) return `CE max ${num(s.ce_max_cd_a)} cd/A`;
  }
  return "";
}

/** Where a run sits in a test sequence, linked: "step 2 of sequence 5" or "check-up of run
 * 12, sequence 5"; null for a run of its own. */
export function sequencePlace(run) {
  if (!run.sequence_id) return null;
  const sequence = el("a", { href: `#/sequences/${run.sequence_id}` }, `sequence ${run.sequence_id}`);
  if (run.checkup_of) {
    return el("span", {}, "check-up of ",
      el("a", { href: `#/runs/${run.checkup_of}` }, `run ${run.checkup_of}`), ", ", sequence);
  }
  return el("span", {}, isNum(run.step_index) ? `step ${run.step_index + 1} of ` : "part of ", sequence);
}
