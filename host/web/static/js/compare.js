// The compare page, #/compare?runs=1,4,7[&time=log]: the selected runs (any kinds) overlaid and
// their figures side by side. The URL holds the selection, so a comparison can be shared.

import { api } from "./api.js";
import { el, fill } from "./dom.js";
import { compareFigures } from "./compareplots.js";
import { kindTables } from "./figuretables.js";
import { draw, purge } from "./plots.js";
import { runLabel, stateBadge } from "./runfacts.js";

const MAX_RUNS = 40; // each run is two requests and a trace per plot: beyond this it is noise
const MAX_POINTS = 2000; // per run, downsampled by the service (shape-keeping)
const KIND_ORDER = ["lifetime", "photostability", "jvl"];

/** {ids, timeAxis} from "#/compare?runs=1,4,7&time=log". */
export function parseCompareHash(hash) {
  const query = new URLSearchParams((hash.split("?")[1]) || "");
  const ids = (query.get("runs") || "").split(",").map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
  return { ids: [...new Set(ids)], timeAxis: query.get("time") === "log" ? "log" : "linear" };
}

/** The hash of a comparison: its runs in the order given, and the time axis if not linear. */
export function compareHash(ids, timeAxis = "linear") {
  return `#/compare?runs=${ids.join(",")}${timeAxis === "log" ? "&time=log" : ""}`;
}

function columnsOf({ columns, rows }) {
  const cols = Object.fromEntries(columns.map((name) => [name, []]));
  for (const row of rows) columns.forEach((name, i) => cols[name].push(row[i]));
  return cols;
}

async function loadRun(id) {
  const [run, samples] = await Promise.all([api(`/api/runs/${id}`),
    api(`/api/runs/${id}/samples?max_points=${MAX_POINTS}`)]);
  return { run, cols: columnsOf(samples) };
}

function timeToggle(timeAxis, onChange) {
  const option = (value, label) => el("label", {},
    el("input", { type: "radio", name: "time-axis", value, id: `time-${value}`,
      checked: value === timeAxis, onchange: () => onChange(value) }), ` ${label}`);
  return el("fieldset", { class: "toggle", id: "time-axis" },
    el("legend", {}, "lifetime time axis"), option("linear", "linear"), option("log", "log"));
}

/** Render the comparison for the hash into `root`; returns a function that releases it. */
export function showCompare(root, hash) {
  const { ids, timeAxis: firstAxis } = parseCompareHash(hash);
  let timeAxis = firstAxis;
  const head = el("section", { class: "card compare-head", id: "compare-head" });
  const plots = el("section", { class: "plots", id: "compare-plots" });
  const tables = el("div", { id: "compare-tables" });
  fill(root, el("nav", { class: "crumbs" }, el("a", { href: "#/" }, "← rigs and runs")),
    head, plots, tables);
  if (!ids.length) {
    fill(head, el("h2", {}, "Compare runs"), el("p", { class: "muted" },
      "No runs chosen: tick runs in the runs list and press “Compare selected”."));
    return () => {};
  }
  const shown = ids.slice(0, MAX_RUNS);
  fill(head, el("h2", {}, "Compare runs"), el("p", { class: "muted" }, `loading ${shown.length} runs…`));
  let left = false;
  let loaded = [];

  function redraw() {
    draw(plots, compareFigures(loaded, timeAxis));
  }

  function renderHead(failures) {
    const stillRunning = loaded.filter(({ run }) => ["queued", "running", "interrupted", "paused"].includes(run.state));
    fill(head,
      el("h2", {}, `Compare ${loaded.length} run${loaded.length === 1 ? "" : "s"}`),
      el("ul", { class: "compare-runs", id: "compare-runs" }, loaded.map(({ run }) =>
        el("li", { dataset: { run: run.id } }, el("a", { href: `#/runs/${run.id}` }, runLabel(run)),
          ` ${run.kind} `, stateBadge(run.state)))),
      ids.length > MAX_RUNS ? el("p", { class: "note" },
        `Only the first ${MAX_RUNS} of ${ids.length} runs are compared.`) : null,
      failures.map((f) => el("p", { class: "form-error" }, `run ${f.id}: ${f.message}`)),
      stillRunning.length ? el("p", { class: "note" }, `Still running: ${stillRunning.map(
        ({ run }) => `#${run.id}`).join(", ")}; reload the page for their newer samples.`) : null,
      loaded.some(({ run }) => run.kind === "lifetime") ? timeToggle(timeAxis, (value) => {
        timeAxis = value;
        // Keep the choice in the URL without reloading the runs (no hashchange).
        history.replaceState(null, "", compareHash(ids, timeAxis));
        redraw();
      }) : null);
  }

  (async () => {
    const answers = await Promise.allSettled(shown.map(loadRun));
    if (left) return;
    loaded = answers.filter((a) => a.status === "fulfilled").map((a) => a.value);
    const failures = answers.map((a, i) => ({ id: shown[i], answer: a }))
      .filter(({ answer }) => answer.status === "rejected")
      .map(({ id, answer }) => ({ id, message: answer.reason.message }));
    renderHead(failures);
    redraw();
    fill(tables, KIND_ORDER.map((kind) => loaded.filter(({ run }) => run.kind === kind))
      .filter((of) => of.length)
      .map((of) => kindTables(of[0].run.kind, of.map(({ run }) => run))));
    head.dataset.loaded = String(loaded.length); // for tests and scripts: the page is drawn
  })();

  return () => {
    left = true;
    purge(plots);
  };
}
