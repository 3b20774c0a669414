// One run: state, progress and ETA, live plots, abort, summary, parameters, events, exports.

import { api, download, readsNeedAuth } from "./api.js";
import { DASH, duration, el, fill, isNum, num, when } from "./dom.js";
import { isFinished, RunFeed } from "./live.js";
import { headline, stateBadge } from "./runfacts.js";
import { draw, figures, purge } from "./plots.js";

const REDRAW_MS = 300;

function value(key, v) {
  if (v === null || v === undefined) return DASH;
  if (Array.isArray(v)) return v.length ? v.join("; ") : DASH;
  if (typeof v === "object") return JSON.stringify(v);
  if (typeof v !== "number") return String(v);
  if (key.endsWith("_s") && Math.abs(v) >= 120) return `${num(v, 4)} (${duration(v)})`;
  return num(v, 4);
}

function table(obj, id) {
  const entries = Object.entries(obj || {});
  if (!entries.length) return el("p", { class: "muted", id }, "nothing yet");
  return el("table", { class: "kv", id }, el("tbody", {}, entries.map(([k, v]) =>
    el("tr", { dataset: { key: k } }, el("th", {}, k), el("td", {}, value(k, v))))));
}

function exportLinks(runId) {
  const links = [
    ["samples (CSV)", `/api/runs/${runId}/samples.csv`, `run-${runId}.csv`],
    ["run and summary (JSON)", `/api/runs/${runId}`, `run-${runId}.json`],
    ["samples (JSON)", `/api/runs/${runId}/samples`, `run-${runId}-samples.json`],
    ["plot (PNG)", `/api/runs/${runId}/plot.png`, `run-${runId}.png`],
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

/** Render run `runId` into `root`; returns a function that stops its feed. */
export function showRun(root, runId) {
  const head = el("section", { class: "card run-head" });
  const plots = el("section", { class: "plots", id: "plots" });
  const points = el("p", { class: "muted points", id: "points" });
  const summary = el("div", { id: "summary-box" });
  const events = el("div", { id: "events-box" });
  const params = el("div", { id: "params-box" });
  fill(root,
    el("nav", { class: "crumbs" }, el("a", { href: "#/" }, "← rigs and runs")),
    head, plots, points,
    el("div", { class: "columns" },
      el("section", { class: "card" }, el("h3", {}, "Summary"), summary),
      el("section", { class: "card" }, el("h3", {}, "Export"), exportLinks(runId),
        el("h3", {}, "Parameters"), params)),
    el("section", { class: "card" }, el("h3", {}, "Events"), events));
  fill(head, el("p", { class: "muted" }, `loading run ${runId}…`));

  const feed = new RunFeed(runId, changed);
  let abortBox = null;
  let drawTimer = null;
  let drawnAt = 0;

  function renderHead() {
    const run = feed.run;
    const p = feed.progress || {};
    const progress = isFinished(run) ? run.progress : Math.max(run.progress || 0, p.progress || 0);
    const pct = Math.round((progress || 0) * 1000) / 10;
    const facts = [];
    if (isNum(p.t_s)) facts.push(`t = ${duration(p.t_s)}`);
    if (isNum(p.voltage_v)) facts.push(`${num(p.voltage_v)} V`);
    if (isNum(p.l_over_l0)) facts.push(`L/L0 = ${num(p.l_over_l0)}`);
    if (isNum(p.pl_fraction)) facts.push(`PL/PL0 = ${num(p.pl_fraction)}`);
    if (!isFinished(run) && isNum(p.eta_s)) facts.push(`ETA ≈ ${duration(p.eta_s)} (run time)`);
    if (!isFinished(run) && p.faint) facts.push("L0 is within 10x the noise: no ETA");
    if (isFinished(run) && headline(run)) facts.push(headline(run));
    const finished = isFinished(run);
    if (finished) abortBox = null;
    else if (!abortBox) abortBox = abortControl(runId, (r) => { feed.run = { ...feed.run, ...r }; renderHead(); });
    fill(head,
      el("h2", {}, `Run #${run.id} · ${run.kind} on ${run.rig} `, stateBadge(run.state)),
      el("div", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100,
        "aria-valuenow": pct, id: "progress" },
      el("div", { class: "bar", style: `width: ${pct}%` }), el("span", {}, `${pct} %`)),
      el("p", { class: "live-line", id: "live-line" }, facts.join(" · ") || DASH),
      el("p", { class: "muted", id: "link-state" },
        `started ${when(run.started_at || run.created_at)} · data: ${feed.linkState}`),
      run.error ? el("p", { class: "form-error" }, run.error) : null,
      abortBox);
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

  function renderEvents() {
    const list = (feed.run.events || []).slice().reverse();
    fill(events, list.length ? el("ul", { class: "events", id: "events" }, list.map((e) =>
      el("li", { dataset: { name: e.name } }, el("time", {}, when(e.t)), " ",
        el("strong", {}, e.name), " ", e.message)))
      : el("p", { class: "muted" }, "no events"));
  }

  function changed(what) {
    if (what === "run") {
      renderHead();
      fill(summary, table(feed.run.summary, "summary"));
      fill(params, table(feed.run.params, "params"));
      renderEvents();
      scheduleDraw();
    } else if (what === "events") {
      renderEvents();
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
    purge(plots);
  };
}
