// A run's time under stress, as its summary counts it (host/runs/summaries.py): from where the
// drive began to be held (the device's target_reached event), with the dark pauses
// (dark_begin .. dark_end events) taken out. The ramp before the hold and the pauses' own
// samples are not on this clock.

import { isNum } from "./dom.js";

function eventT(event) {
  return event.data && isNum(event.data.t_s) ? event.data.t_s : null;
}

/** Whether the run ramps to a target before its hold (luminance or current). */
export function hasTarget(run) {
  const p = run.params || {};
  return ["target_l0_cd_m2", "current_a", "current_density_ma_cm2"].some((k) => isNum(p[k]));
}

/** Run time (s) the hold began: 0 without a target, Infinity while the target is not reached. */
export function holdStartS(run) {
  const reached = (run.events || []).find((e) => e.name === "target_reached" && eventT(e) !== null);
  if (reached) return eventT(reached);
  return hasTarget(run) ? Infinity : 0;
}

/** [[begin, end], ...] run times of the dark pauses; a pause not ended yet ends at Infinity. */
export function darkSpans(run) {
  const spans = [];
  let begin = null;
  for (const event of run.events || []) {
    const t = eventT(event);
    if (t === null) continue;
    if (event.name === "dark_begin") {
      if (begin !== null) spans.push([begin, t]); // cut short by a device reset
      begin = t;
    } else if (event.name === "dark_end" && begin !== null) {
      spans.push([begin, t]);
      begin = null;
    }
  }
  if (begin !== null) spans.push([begin, Infinity]);
  return spans;
}

/**
 * The samples on the stress clock: {rows: indices into the series, t: their time under
 * stress (s)}, and {ramp: indices before the hold}.
 */
export function stressClock(run, series) {
  const runT = series.column("t_s");
  const start = holdStartS(run);
  const spans = darkSpans(run).map(([b, e]) => [Math.max(b, start), e]).filter(([b, e]) => e > b);
  const rows = [];
  const t = [];
  const ramp = [];
  runT.forEach((tRun, i) => {
    if (!isNum(tRun)) return;
    if (tRun < start) {
      ramp.push(i);
      return;
    }
    if (spans.some(([b, e]) => tRun >= b && tRun < e)) return;
    const paused = spans.reduce((sum, [b, e]) => sum + Math.min(Math.max(tRun - b, 0), e - b), 0);
    rows.push(i);
    t.push(tRun - start - paused);
  });
  return { rows, t, ramp, start };
}

/** Values of `column` at `rows`. */
export function pick(series, column, rows) {
  const values = series.column(column);
  return rows.map((i) => values[i] ?? null);
}
