// The compare page's tables: each kind's figures per run, then their mean and spread per device
// name and per tag, each with a CSV download built in the page.

import { DASH, el, isNum, num } from "./dom.js";
import { csvHref, groupBy, groupStats, toCsv } from "./groupstats.js";
import { runLabel } from "./runfacts.js";

// The figures each kind is compared on (summary keys, with units): the list's headline figures,
// and for a lifetime the stretched-exponential fit's tau and beta too.
export const FIGURES = {
  lifetime: [["l0_cd_m2", "L0 (cd/m²)"], ["t95_s", "T95 (s)"], ["t80_s", "T80 (s)"],
    ["t50_s", "T50 (s)"], ["t50_fit_s", "T50 fit (s)"], ["fit_tau_s", "τ fit (s)"],
    ["fit_beta", "β fit"], ["l_end_over_l0", "L end / L0"]],
  photostability: [["min_fraction", "PL min / PL0"], ["t_min_s", "t at min (s)"],
    ["final_fraction", "PL end / PL0"]],
  jvl: [["eqe_max_pct", "EQE max (%)"], ["ce_max_cd_a", "CE max (cd/A)"],
    ["pe_max_lm_w", "PE max (lm/W)"], ["l_max_cd_m2", "L max (cd/m²)"],
    ["turn_on_v", "turn-on (V)"]],
};

const NO_NAME = "(no device name)";
const NO_TAG = "(no tag)";

function csvLink(id, filename, header, rows) {
  return el("a", { class: "csv", id, href: csvHref(toCsv(header, rows)), download: filename },
    "download CSV");
}

function tableBlock(title, id, heads, bodyRows, csv) {
  return el("div", { class: "figure-table" },
    el("h4", {}, title, " ", csv),
    el("div", { class: "table-wrap" }, el("table", { class: "runs figures", id },
      el("thead", {}, el("tr", {}, heads.map((h) => el("th", {}, h)))),
      el("tbody", {}, bodyRows))));
}

function runsTable(kind, runs, figures) {
  const keys = figures.map(([k]) => k);
  const id = `figures-${kind}`;
  const rows = runs.map((run) => {
    const s = run.summary || {};
    return el("tr", { dataset: { run: run.id } },
      el("td", {}, el("a", { href: `#/runs/${run.id}` }, runLabel(run))),
      el("td", {}, (run.tags || []).join(", ") || DASH), el("td", {}, run.state),
      keys.map((k) => el("td", { class: "num" }, num(s[k], 4))));
  });
  const csv = csvLink(`csv-${id}`, `compare-${kind}-runs.csv`,
    ["run", "device_name", "sample_id", "pixel", "batch", "tags", "state", ...keys],
    runs.map((run) => {
      const d = run.device || {};
      return [run.id, d.name, d.sample_id, d.pixel, d.batch, (run.tags || []).join(" "),
        run.state, ...keys.map((k) => (run.summary || {})[k])];
    }));
  return tableBlock(`${kind}: each run`, id, ["run", "tags", "state", ...figures.map(([, l]) => l)],
    rows, csv);
}

function statText({ n, mean, sd }, runs) {
  if (!isNum(mean)) return DASH;
  const spread = isNum(sd) ? ` ± ${num(sd, 3)}` : "";
  return `${num(mean, 4)}${spread}${n < runs ? ` (n=${n})` : ""}`;
}

function groupTable(kind, by, label, runs, figures, keysOf, none) {
  const keys = figures.map(([k]) => k);
  const id = `by-${by}-${kind}`;
  const stats = groupStats(groupBy(runs, keysOf, none), keys, (run) => run.summary);
  const rows = stats.map((g) => el("tr", { dataset: { group: g.group } },
    el("th", {}, g.group), el("td", { class: "num" }, String(g.runs)),
    keys.map((k) => el("td", { class: "num" }, statText(g.stats[k], g.runs)))));
  const csv = csvLink(`csv-${id}`, `compare-${kind}-by-${by}.csv`,
    [by, "runs", ...keys.flatMap((k) => [`${k}_n`, `${k}_mean`, `${k}_sd`])],
    stats.map((g) => [g.group, g.runs,
      ...keys.flatMap((k) => [g.stats[k].n, g.stats[k].mean, g.stats[k].sd])]));
  return tableBlock(`${kind}: mean ± standard deviation per ${label}`, id,
    [label, "runs", ...figures.map(([, l]) => l)], rows, csv);
}

/** The tables for one kind's runs (full runs, as GET /api/runs/{id} answers). */
export function kindTables(kind, runs) {
  const figures = FIGURES[kind] || [];
  return el("section", { class: "card", dataset: { kind } },
    el("h3", {}, `${kind} figures`),
    runsTable(kind, runs, figures),
    groupTable(kind, "device", "device name", runs, figures,
      (run) => [(run.device || {}).name || NO_NAME], NO_NAME),
    groupTable(kind, "tag", "tag", runs, figures,
      (run) => ((run.tags || []).length ? run.tags : [NO_TAG]), NO_TAG),
    el("p", { class: "note" }, "± is the sample standard deviation (n − 1) over the group's runs; "
      + "(n=k): only k of its runs have that figure. A run with several tags counts in each."));
}
