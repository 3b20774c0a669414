// How a sequence and its steps are put in words, the same on the list, the page and the form.

import { duration, isNum, num } from "./dom.js";
import { badge } from "./runfacts.js";

const TONE = { completed: "good", running: "run", starting: "run", waiting: "run", paused: "warn",
  queued: "muted", pending: "muted", interrupted: "warn", aborted: "warn", failed: "bad" };

/** A sequence's or a step's state as a badge (a step is also pending, starting, waiting). */
export function sequenceBadge(state) {
  return badge(state, TONE[state] || "muted");
}

const FINISHED = ["completed", "aborted", "failed"];

export function sequenceFinished(sequence) {
  return FINISHED.includes(sequence.state);
}

/** "step 2 of 3" from a list item or a view (step_index counts from 0; past the end when done). */
export function stepOfSteps(sequence) {
  const count = Array.isArray(sequence.steps) ? sequence.steps.length : sequence.steps;
  if (!count) return "";
  return `step ${Math.min((sequence.step_index ?? 0) + 1, count)} of ${count}`;
}

function volts(value) {
  return isNum(value) ? `${num(value)} V` : "?";
}

function sweepWords(p = {}) {
  return `J-V-L ${volts(p.start_v ?? 0)} → ${volts(p.stop_v ?? 14)}, step ${volts(p.step_v ?? 0.2)},`
    + ` dwell ${duration(p.dwell_s ?? 0.5)}`;
}

function driveWords(p = {}) {
  if (isNum(p.voltage_v)) return `at ${num(p.voltage_v)} V`;
  if (isNum(p.target_l0_cd_m2)) return `from L0 = ${num(p.target_l0_cd_m2)} cd/m²`;
  if (isNum(p.current_density_ma_cm2)) return `at ${num(p.current_density_ma_cm2)} mA/cm²`;
  if (isNum(p.current_a)) return `at ${num(p.current_a * 1e3)} mA`;
  return "";
}

function checkupWords(c) {
  if (!c) return "";
  const when = [];
  if (isNum(c.every_s)) when.push(`every ${duration(c.every_s)} of stress`);
  if ((c.at_fractions || []).length) when.push(`at L/L0 = ${c.at_fractions.map((f) => num(f)).join(", ")}`);
  return `; check-ups ${when.join(" and ")}: ${sweepWords((c.step || {}).params)}`;
}

/** One step of a sequence request in a line: what it does and when it stops. */
export function stepWords(step) {
  const p = step.params || {};
  if (step.kind === "jvl") return sweepWords(p);
  if (step.kind === "wait") return `wait ${duration(step.duration_s)}, outputs off`;
  if (step.kind === "lifetime") {
    const stop = `until L/L0 = ${num(p.stop_fraction ?? 0.5)}`;
    const most = isNum(p.max_duration_s) ? ` (at most ${duration(p.max_duration_s)})` : "";
    return `lifetime ${driveWords(p)} ${stop}${most}${checkupWords(step.checkups)}`;
  }
  if (step.kind === "photostability") {
    const power = isNum(p.laser_power_mw_cm2) ? ` at ${num(p.laser_power_mw_cm2)} mW/cm²` : "";
    return `photostability${power} for ${duration(p.duration_s ?? 7200)}${checkupWords(step.checkups)}`;
  }
  return step.kind;
}

const PHASE = {
  stress: "stress running",
  pausing: "pausing the stress for a check-up",
  checkup: "stress paused · check-up running",
  resuming: "check-up done · resuming the stress",
  final: "stress ended · last check-up running",
};

/** Where a sequence is, in words: its state, and what the current step is doing. */
export function phaseWords(view) {
  if (view.state === "completed") return "completed: every step done";
  if (view.state === "aborted") return "aborted";
  if (view.state === "failed") return `failed${view.error ? `: ${view.error}` : ""}`;
  if (view.state === "queued") return "queued";
  const step = (view.steps || [])[view.step_index];
  if (!step) return "finishing";
  const where = stepOfSteps(view);
  if (view.phase && PHASE[view.phase]) return `${where}: ${PHASE[view.phase]}`;
  if (step.state === "waiting") return `${where}: waiting, outputs off`;
  if (step.state === "starting" || step.state === "queued") return `${where}: starting its run`;
  if (step.state === "paused") return `${where}: stress paused`;
  const kind = { jvl: "J-V-L sweep", lifetime: "stress", photostability: "exposure" }[step.kind];
  return `${where}: ${kind || step.kind} ${step.state}`;
}
