// One sequence, #/sequences/5: where it is in words, its steps with their runs and check-ups
// (each linking to its run page), abort, and its report once the service has one. Read again
// every 2 s until it ends.

import { api } from "./api.js";
import { el, fill, isNum } from "./dom.js";
import { isFinished } from "./live.js";
import { headline, runLabel } from "./runfacts.js";
import { clock, timesLine } from "./runtimes.js";
import { phaseWords, sequenceBadge, sequenceFinished, stepWords } from "./sequencefacts.js";
import { reportSection } from "./sequencereport.js";

const REFRESH_MS = 2000;

function runLink(run, text) {
  const running = run.state === "running" && isNum(run.progress);
  return el("span", { class: "seq-run" },
    el("a", { href: `#/runs/${run.id}`, dataset: { run: run.id } }, text || runLabel(run)), " ",
    sequenceBadge(run.state), running ? ` ${Math.round(run.progress * 100)} %` : "",
    headline(run) ? ` · ${headline(run)}` : "");
}

function checkupsList(step, runs) {
  if (!step.checkups.length) return null;
  return el("ol", { class: "seq-checkups" }, step.checkups.map((id, i) => {
    const run = runs.get(id) || { id, state: "queued" };
    return el("li", { dataset: { run: id } }, `check-up ${i + 1}: `, runLink(run));
  }));
}

function stepItem(step, specStep, runs) {
  const run = step.run_id ? runs.get(step.run_id) || { id: step.run_id, state: step.state } : null;
  return el("li", { class: "seq-step", dataset: { step: step.index, state: step.state } },
    el("div", { class: "seq-step-head" },
      el("strong", {}, `${step.index + 1}. ${step.kind}`), " ", sequenceBadge(step.state)),
    el("div", { class: "muted" }, specStep ? stepWords(specStep) : ""),
    run ? el("div", {}, step.checkups.length ? "stress: " : "run: ", runLink(run)) : null,
    checkupsList(step, runs));
}

function abortControl(sequenceId, onDone) {
  const error = el("p", { class: "form-error", id: "seq-abort-error", role: "alert" });
  const box = el("div", { class: "abort" });
  const ask = () => fill(box, el("button", { id: "seq-abort", class: "danger", onclick: confirm },
    "Abort sequence"), error);
  const confirm = () => fill(box,
    el("span", {}, "Stop the step that runs? The steps after it never start. "),
    el("button", { id: "seq-abort-confirm", class: "danger", onclick: doAbort }, "Yes, abort"), " ",
    el("button", { onclick: ask }, "Keep running"), error);
  async function doAbort() {
    error.textContent = "";
    try {
      onDone(await api(`/api/sequences/${sequenceId}/abort`, { method: "POST" }));
    } catch (e) {
      ask();
      error.textContent = e.message;
    }
  }
  ask();
  return box;
}

function deviceLine(spec) {
  const device = spec.device || {};
  const parts = [[device.name, device.sample_id, device.pixel].filter(Boolean).join(" "),
    spec.operator ? `by ${spec.operator}` : "", (spec.tags || []).join(", ")].filter(Boolean);
  return parts.length ? el("p", { class: "muted", id: "seq-device" }, parts.join(" · ")) : null;
}

/** Render sequence `sequenceId` into `root`; returns a function that stops its refresh. */
export function showSequence(root, sequenceId) {
  const head = el("section", { class: "card seq-head", id: "seq-head" },
    el("p", { class: "muted" }, `loading sequence ${sequenceId}…`));
  const trouble = el("p", { class: "form-error", id: "seq-trouble", role: "alert" });
  const steps = el("ol", { class: "seq-steps", id: "seq-steps-list" });
  const report = reportSection(sequenceId);
  fill(root,
    el("nav", { class: "crumbs" }, el("a", { href: "#/sequences" }, "← sequences")),
    head, trouble, el("section", { class: "card" }, el("h3", {}, "Steps"), steps), report.node);
  let stopped = false;
  let timer = null;
  let abortBox = null;
  let reportKey = null;

  function render(view) {
    const spec = view.spec || {};
    const runs = new Map((view.runs || []).map((r) => [r.id, r]));
    const finished = sequenceFinished(view);
    if (finished) abortBox = null;
    else if (!abortBox) abortBox = abortControl(sequenceId, render);
    fill(head,
      el("h2", {}, `Sequence #${view.id}${view.name ? ` · ${view.name}` : ""} on ${view.rig} `,
        sequenceBadge(view.state)),
      el("p", { class: "live-line", id: "seq-phase" }, phaseWords(view)),
      el("p", { class: "muted", id: "seq-times" }, timesLine(view),
        finished ? "" : ` · read at ${clock(Date.now())}`),
      deviceLine(spec),
      abortBox);
    head.dataset.state = view.state;
    fill(steps, (view.steps || []).map((s) => stepItem(s, (spec.steps || [])[s.index], runs)));
    // The report is read again when a run has ended (its figures change then), not every time.
    const key = `${view.state}:${(view.runs || []).filter(isFinished).map((r) => r.id).join(",")}`;
    if (key !== reportKey) {
      reportKey = key;
      report.load();
    }
  }

  async function refresh() {
    try {
      const view = await api(`/api/sequences/${sequenceId}`);
      if (stopped) return;
      trouble.textContent = "";
      render(view);
      if (sequenceFinished(view)) return;
    } catch (e) {
      if (stopped) return;
      trouble.textContent = `sequence ${sequenceId}: ${e.message}`;
      if (e.status === 404) return;
    }
    timer = setTimeout(refresh, REFRESH_MS);
  }
  refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
    report.stop();
  };
}
