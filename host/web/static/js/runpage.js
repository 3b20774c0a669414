// One run: state, progress, times and ETA, live plots, abort, summary, device and labels,
// parameters, events, exports.

import { api, download, readsNeedAuth } from "./api.js";
import { DASH, duration, el, fill, isNum, num } from "./dom.js";
import { isFinished, RunFeed } from "./live.js";
import { headline, sequencePlace, stateBadge } from "./runfacts.js";
import { eventsList, lacksText, mergeEvents } from "./runevents.js";
import { labelsBox } from "./runlabels.js";
import { draw, purge } from "./plots.js";
import { figures } from "./runplots.js";
import { figureTable, loadFigureWords, summaryBox } from "./runsummary.js";
import { clock, endsAtMs, timesLine } from "./runtimes.js";

const REDRAW_MS = 300;
const EVENTS_REREAD_MS = 500; // live events come without their text: read them again, batched

function exportLinks(runId) {
  const links = [
    ["samples (CSV)", `/api/runs/${runId}/samples.csv`, `run-${runId}.csv`],
    ["run and summary (JSON)", `/api/runs/${runId}`, `run-${runId}.json`],
    ["samples (JSON)", `/api/runs/${runId}/samples`, `run-${runId}-samples.json`],
    ["plot (PNG, 1600 px wide)", `/api/runs/${runId}/plot.png`, `run-${runId}.png`],
    ["plot for print (PNG, 300 dpi)", `/api/runs/${runId}/plot.png?dpi=300`, `run-${runId}-300dpi.png`],
  ];
  return el("ul", { class: "exports" }, links.map(([label, href, name]) => el("li", {},
    el("a", { href, download: name, onclick: (e) => {
      if (!readsNeedAuth()) return; // plain link: GETs are open on this bind
      e.preventDefault();
      download(href, name).catch((err) => alert(err.message));
    } }, label))));
}

function abortControl(runId, onDone) {
  const error = el("p", { class: "form-error", id: "abort-error", role: "alert" });
  const box = el("div", { class: "abort" });
  const ask = () => fill(box, el("button", { id: "abort", class: "danger", onclick: confirm }, "Abort run"), error);
  const confirm = () => fill(box, el("span", {}, "Stop this run? The rig makes its outputs safe. "),
    el("button", { id: "abort-confirm", class: "danger", onclick: doAbort }, "Yes, abort"), " ",
    el("button", { onclick: ask }, "Keep running"), error);
  async function doAbort() {
    error.textContent = "";
    try {
      onDone(await api(`/api/runs/${runId}/abort`, { method: "POST" }));
    } catch (e) {
      ask();
      error.textContent = e.message;
    }
  }
  ask();
  return box;
}

/** The live line's facts: run time, drive, L/L0 or PL, the ETA (run time and clock time). */
function liveFacts(run, p) {
  const facts = [];
  if (isNum(p.t_s)) facts.push(`t = ${duration(p.t_s)}`);
  if (isNum(p.voltage_v)) facts.push(`${num(p.voltage_v)} V`);
  if (isNum(p.l_over_l0)) facts.push(`L/L0 = ${num(p.l_over_l0)}`);
  if (isNum(p.pl_fraction)) facts.push(`PL/PL0 = ${num(p.pl_fraction)}`);
  if (!isFinished(run) && isNum(p.eta_s)) {
    const ends = endsAtMs(p.eta_s, p.t_s, run.started_at, Date.now());
    facts.push(`ETA ≈ ${duration(p.eta_s)} of run time, ends ≈ ${clock(ends)}`);
  }
  if (!isFinished(run) && p.faint) facts.push("L0 is within 10x the noise: no ETA");
  if (isFinished(run) && headline(run)) facts.push(headline(run));
  return facts;
}

/** Render run `runId` into `root`; returns a function that stops its feed. */
export function showRun(root, runId) {
  const head = el("section", { class: "card run-head" });
  const plots = el("section", { class: "plots", id: "plots" });
  const points = el("p", { class: "muted points", id: "points" });
  const summary = el("div", { id: "summary-box" });
  const events = el("div", { id: "events-box" });
  const params = el("div", { id: "params-box" });
  const labels = labelsBox(runId, (run) => {
    feed.run = { ...feed.run, ...run };
    changed("run");
  });
  fill(root,
    el("nav", { class: "crumbs" }, el("a", { href: "#/" }, "← rigs and runs")),
    head, plots, points,
    el("div", { class: "columns" },
      el("section", { class: "card" }, el("h3", {}, "Summary"), summary),
      el("section", { class: "card" }, el("h3", {}, "Device and labels"), labels.node)),
    el("div", { class: "columns" },
      el("section", { class: "card" }, el("h3", {}, "Events"), events),
      el("section", { class: "card" }, el("h3", {}, "Export"), exportLinks(runId),
        el("h3", {}, "Parameters"), params)));
  fill(head, el("p", { class: "muted" }, `loading run ${runId}…`));

  const feed = new RunFeed(runId, changed);
  let words = null;
  let abortBox = null;
  let drawTimer = null;
  let drawnAt = 0;
  let eventsTimer = null;
  loadFigureWords().then((w) => {
    words = w;
    if (feed.run) renderTables();
  });

  function renderHead() {
    const run = feed.run;
    const p = feed.progress || {};
    const progress = isFinished(run) ? run.progress : Math.max(run.progress || 0, p.progress || 0);
    const pct = Math.round((progress || 0) * 1000) / 10;
    if (isFinished(run)) abortBox = null;
    else if (!abortBox) abortBox = abortControl(runId, (r) => { feed.run = { ...feed.run, ...r }; renderHead(); });
    fill(head,
      el("h2", {}, `Run #${run.id} · ${run.kind} on ${run.rig} `, stateBadge(run.state)),
      el("div", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100,
        "aria-valuenow": pct, id: "progress" },
      el("div", { class: "bar", style: `width: ${pct}%` }), el("span", {}, `${pct} %`)),
      el("p", { class: "live-line", id: "live-line" }, liveFacts(run, p).join(" · ") || DASH),
      el("p", { class: "muted", id: "run-times" }, timesLine(run)),
      sequencePlace(run) ? el("p", { class: "muted", id: "run-sequence" }, sequencePlace(run)) : null,
      el("p", { class: "muted", id: "link-state" }, `data: ${feed.linkState}`),
      run.error ? el("p", { class: "form-error" }, run.error) : null,
      abortBox);
  }

  function renderTables() {
    if (!words) return;
    fill(summary, summaryBox(feed.run.summary, words));
    fill(params, figureTable(feed.run.params, words, "params", { named: false }));
  }

  function redraw() {
    drawTimer = null;
    drawnAt = performance.now();
    draw(plots, figures(feed.run, feed.series, feed.live));
    points.textContent = `${feed.series.length} points plotted of ${feed.series.total} samples`;
    points.dataset.points = String(feed.series.length);
  }

  function scheduleDraw() {
    if (drawTimer) return;
    drawTimer = setTimeout(redraw, Math.max(0, REDRAW_MS - (performance.now() - drawnAt)));
  }

  /** Live events arrive without their text: read the run's events again (a few at once). */
  function rereadEvents() {
    if (eventsTimer || !(feed.run.events || []).some(lacksText)) return;
    eventsTimer = setTimeout(async () => {
      try {
        const run = await api(`/api/runs/${runId}`);
        feed.run.events = mergeEvents(feed.run.events, run.events || []);
        fill(events, eventsList(feed.run.events));
      } catch {
        // keep the messages shown; the next event or the run's end reads them again
      } finally {
        eventsTimer = null;
      }
    }, EVENTS_REREAD_MS);
  }

  function renderEvents() {
    fill(events, eventsList(feed.run.events));
    rereadEvents();
  }

  function changed(what) {
    if (what === "run") {
      renderHead();
      renderTables();
      labels.show(feed.run);
      renderEvents();
      scheduleDraw();
    } else if (what === "events") {
      renderEvents();
      scheduleDraw(); // a target reached or a dark pause moves the stress clock
    } else if (what === "series") {
      scheduleDraw();
    } else {
      renderHead();
      if (what === "progress") scheduleDraw();
    }
  }

  feed.start().catch((e) => fill(head, el("p", { class: "form-error" }, `run ${runId}: ${e.message}`)));
  return () => {
    feed.stop();
    clearTimeout(drawTimer);
    clearTimeout(eventsTimer);
    purge(plots);
  };
}
