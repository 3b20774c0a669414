// A sequence's report on its page (GET /api/sequences/{id}/report and report.png): the
// headline (the stress, L0, T-values, the J-V-L figures before and after), a row per check-up
// on stress time, the conditions, and the report's figure. Hidden while the service has no
// report for it (404: an unknown sequence, or a service without the endpoint).

import { api, download, readsNeedAuth } from "./api.js";
import { DASH, el, fill, isNum, num } from "./dom.js";
import { clock } from "./runtimes.js";
import { figureTable, loadFigureWords, quantity } from "./runsummary.js";

const T_VALUES = ["l0_cd_m2", "t95_s", "t80_s", "t50_s", "stop_reason"];
const RETRIES = 6; // a failed read is asked again after 2, 4, ... 64 s
const RETRY_MS = 2000;
const CHECKUP_FIGURES = ["eqe_max_pct", "ce_max_cd_a", "pe_max_lm_w", "l_max_cd_m2", "turn_on_v"];

function said(key, words) {
  return (words.figures[key] && words.figures[key].words) || key.replace(/_/g, " ");
}

/** A failure that asking again may cure: the service busy or gone a moment, not a 4xx. */
function mayPass(error) {
  return !(error.status >= 400 && error.status < 500);
}

function runLink(id) {
  return isNum(id) ? el("a", { href: `#/runs/${id}` }, `#${id}`) : DASH;
}

function kvTable(id, rows) {
  return el("table", { class: "kv", id }, el("tbody", {}, rows.map(([key, label, value]) =>
    el("tr", { dataset: { key } }, el("th", { title: key }, label), el("td", {}, value)))));
}

/** The stress, its run, L0 and T-values, and the stress kind's other figures. */
function headlineTable(headline, words) {
  const rows = [];
  if (headline.stress && headline.stress.text) {
    rows.push(["stress", "stress", el("span", {}, headline.stress.text, " (run ",
      runLink(headline.stress_run_id), ")")]);
  }
  for (const key of T_VALUES) {
    if (key in headline) rows.push([key, said(key, words), quantity(key, headline[key], words)]);
  }
  for (const [key, value] of Object.entries(headline.stress_figures || {})) {
    if (!T_VALUES.includes(key) && value !== null && typeof value !== "object") {
      rows.push([key, said(key, words), quantity(key, value, words)]);
    }
  }
  return rows.length ? kvTable("report-headline", rows) : null;
}

/** The J-V-L figures before and after the stress, and how much they changed. */
function changesTable(headline, words) {
  const changes = Object.entries(headline.changes || {});
  if (!changes.length) return null;
  return el("div", { class: "table-wrap" }, el("table", { class: "runs", id: "report-changes" },
    el("thead", {}, el("tr", {}, el("th", {}, "J-V-L"),
      el("th", {}, "before (", runLink(headline.before_run_id), ")"),
      el("th", {}, "after (", runLink(headline.after_run_id), ")"), el("th", {}, "change"))),
    el("tbody", {}, changes.map(([key, c]) => el("tr", { dataset: { key } },
      el("th", { title: key }, said(key, words)), el("td", {}, quantity(key, c.before, words)),
      el("td", {}, quantity(key, c.after, words)),
      el("td", {}, quantity(key, c.change, words),
        isNum(c.change_pct) ? ` (${c.change_pct > 0 ? "+" : ""}${num(c.change_pct)} %)` : ""))))));
}

/** One row per check-up: its run, when on the stress clock, L/L0 then, its J-V-L figures. */
function checkupTable(checkups, words) {
  if (!Array.isArray(checkups) || !checkups.length) return null;
  const keys = CHECKUP_FIGURES.filter((k) => checkups.some((c) => (c.figures || {})[k] !== undefined));
  return el("div", { class: "table-wrap" }, el("table", { class: "runs", id: "report-checkups" },
    el("thead", {}, el("tr", {}, ["check-up", "stress time", "L/L0"].map((h) => el("th", {}, h)),
      keys.map((k) => el("th", { title: k }, said(k, words))))),
    el("tbody", {}, checkups.map((c) => el("tr", { dataset: { run: c.run_id } },
      el("td", {}, runLink(c.run_id), c.state && c.state !== "completed" ? ` ${c.state}` : ""),
      el("td", {}, quantity("stress_t_s", c.stress_t_s, words)),
      el("td", {}, isNum(c.l_over_l0) ? num(c.l_over_l0) : DASH),
      keys.map((k) => el("td", {}, quantity(k, (c.figures || {})[k], words))))))));
}

/** The conditions, as given and as the service knows them (empty ones left out). */
function conditions(metadata, words) {
  const filled = Object.fromEntries(Object.entries(metadata || {}).filter(([, v]) =>
    v !== null && v !== undefined && v !== "" && !(Array.isArray(v) && !v.length)));
  if (!Object.keys(filled).length) return null;
  return el("details", { class: "more", id: "report-conditions" },
    el("summary", {}, "conditions (ISOS-style)"), figureTable(filled, words, "report-metadata"));
}

function exportLinks(sequenceId) {
  const base = `/api/sequences/${sequenceId}`;
  const links = [["report (JSON)", `${base}/report`, `sequence-${sequenceId}-report.json`],
    ["report figure (PNG)", `${base}/report.png`, `sequence-${sequenceId}-report.png`],
    ["report figure (PDF)", `${base}/report.pdf`, `sequence-${sequenceId}-report.pdf`]];
  return el("ul", { class: "exports" }, links.map(([label, href, name]) => el("li", {},
    el("a", { href, download: name, onclick: (e) => {
      if (!readsNeedAuth()) return; // plain link: GETs are open on this bind
      e.preventDefault();
      download(href, name).catch((err) => alert(err.message));
    } }, label))));
}

/**
 * The report section for `sequenceId`: {node, load, stop}. `load()` reads the report and its
 * figure again; the section stays hidden until the first answer, and hides on a 404.
 */
export function reportSection(sequenceId) {
  const status = el("p", { class: "muted", id: "report-status" });
  const body = el("div", { id: "report-body" });
  const figure = el("figure", { class: "plot report-figure", id: "report-figure", hidden: true });
  const againButton = el("button", { type: "button", class: "link", id: "report-again",
    onclick: () => load() }, "read it again");
  const node = el("section", { class: "card", id: "seq-report", hidden: true },
    el("h3", {}, "Report"), status, body, figure, exportLinks(sequenceId));
  let asked = 0;
  let imageUrl = null;
  let stopped = false;

  /** Ask again after a failure that may pass (a busy service's 5xx, a dropped connection),
   * while this is still the latest read: the page stops refreshing once the sequence has
   * ended, so a final report or figure lost to one failed request would never come. */
  function again(mine, tries, retry) {
    if (stopped || mine !== asked || tries >= RETRIES) return false;
    setTimeout(() => { if (!stopped && mine === asked) retry(); }, RETRY_MS * 2 ** tries);
    return true;
  }

  /** The figure for the report just read (`partial` as it was: marked on the figure). */
  async function loadImage(mine, partial, tries = 0) {
    try {
      // Through api() so a bind that needs the token for reads gets it; a blob for the <img>.
      const response = await api(`/api/sequences/${sequenceId}/report.png`, { raw: true });
      const blob = await response.blob();
      if (stopped || mine !== asked) return;
      if (imageUrl) URL.revokeObjectURL(imageUrl);
      imageUrl = URL.createObjectURL(blob);
      fill(figure, el("img", { src: imageUrl, id: "report-png",
        alt: `the report figure of sequence ${sequenceId}` }));
      figure.dataset.partial = String(Boolean(partial));
      delete figure.dataset.error;
      figure.hidden = false;
    } catch (e) {
      if (stopped || mine !== asked) return;
      figure.dataset.error = e.message;
      if (mayPass(e) && again(mine, tries, () => loadImage(mine, partial, tries + 1))) return;
      figure.hidden = true; // no figure: the tables stand alone
    }
  }

  async function load(tries = 0) {
    const mine = tries ? asked : ++asked;
    try {
      const [report, words] = await Promise.all([api(`/api/sequences/${sequenceId}/report`),
        loadFigureWords()]);
      if (stopped || mine !== asked) return;
      fill(status, report.partial ? [`partial: the figures so far, read at ${clock(Date.now())} · `,
        againButton] : null);
      const headline = report.headline || {};
      fill(body, headlineTable(headline, words), changesTable(headline, words),
        report.checkups && report.checkups.length ? el("h4", {}, "Check-ups") : null,
        checkupTable(report.checkups, words), conditions(report.metadata, words));
      node.hidden = false;
      loadImage(mine, report.partial);
    } catch (e) {
      if (stopped || mine !== asked) return;
      if (e.status !== 404) fill(status, el("span", { class: "form-error" }, `report: ${e.message}`,
        mayPass(e) && again(mine, tries, () => load(tries + 1)) ? " (asking again)" : ""));
      node.hidden = e.status === 404;
    }
  }

  function stop() {
    stopped = true;
    if (imageUrl) URL.revokeObjectURL(imageUrl);
  }
  return { node, load, stop };
}
