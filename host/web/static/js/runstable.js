// The overview's runs list: filters that re-query GET /api/runs, a row per run with its device
// and headline figures, and a selection that opens the compare page.

import { api } from "./api.js";
import { compareHash } from "./compare.js";
import { DASH, el, fill, num, when } from "./dom.js";
import { listFilterValues, loadOpenApi } from "./openapi.js";
import { mainFigure, stateBadge } from "./runfacts.js";
import { splitTags } from "./labelfields.js";

const PAGE = 100;
const TYPING_MS = 250; // re-query once typing pauses, not on every key

// Kept for the tab: coming back from a run or a comparison finds the same filters and picks.
const kept = { filters: { q: "", kind: "", state: "", tag: "" }, selected: new Set() };

/** The GET /api/runs query for the filters (empty ones left out). */
export function runsQuery(filters, limit = PAGE) {
  const query = new URLSearchParams();
  if (filters.q.trim()) query.set("q", filters.q.trim());
  if (filters.kind) query.set("kind", filters.kind);
  if (filters.state) query.set("state", filters.state);
  for (const tag of splitTags(filters.tag)) query.append("tag", tag);
  query.set("limit", String(limit));
  return `/api/runs?${query}`;
}

function filtering(filters) {
  return Object.values(filters).some((v) => v.trim() !== "");
}

function choice(name, label, values, current) {
  return el("select", { name, id: `runs-${name}`, "aria-label": label },
    el("option", { value: "" }, `any ${name}`),
    values.map((v) => el("option", { value: v, selected: v === current }, v)));
}

function row(run, selected, onPick) {
  const device = run.device || {};
  const figures = run.figures || {};
  const running = run.state === "running";
  return el("tr", { dataset: { run: run.id } },
    el("td", { class: "pick" }, el("input", { type: "checkbox", class: "pick",
      "aria-label": `select run #${run.id}`, checked: selected.has(run.id),
      dataset: { run: run.id }, onchange: (e) => onPick(run.id, e.target.checked) })),
    el("td", {}, el("a", { href: `#/runs/${run.id}` }, `#${run.id}`)),
    el("td", { class: "device" }, device.name || DASH),
    el("td", {}, device.pixel || DASH),
    el("td", { class: "tags" }, (run.tags || []).map((t) => el("span", { class: "tag" }, t))),
    el("td", {}, run.kind),
    el("td", {}, stateBadge(run.state),
      running ? ` ${Math.round((run.progress || 0) * 100)} %` : null),
    el("td", { class: "num" }, run.kind === "lifetime" ? num(figures.l0_cd_m2) : DASH),
    el("td", {}, mainFigure(run) || run.error || DASH),
    el("td", {}, when(run.started_at || run.created_at)));
}

function table(runs, selected, onPick) {
  const heads = ["", "run", "device", "pixel", "tags", "kind", "state", "L0 (cd/m²)",
    "T50 / main figure", "started"];
  return el("div", { class: "table-wrap" }, el("table", { class: "runs" },
    el("thead", {}, el("tr", {}, heads.map((h) => el("th", {}, h)))),
    el("tbody", {}, runs.map((run) => row(run, selected, onPick)))));
}

/**
 * The runs section: returns {node, load}; `load()` fetches the list with the current filters
 * (the overview calls it on its timer). `navigate(hash)` opens the compare page.
 */
export function runsList({ navigate }) {
  const { filters, selected } = kept;
  const tableBox = el("div", { id: "runs-table" }, el("p", { class: "muted" }, "loading runs…"));
  const more = el("p", { class: "muted note", id: "runs-more" });
  const compare = el("button", { type: "button", id: "compare-selected",
    onclick: () => navigate(compareHash([...selected].sort((a, b) => a - b))) });
  const clear = el("button", { type: "button", class: "link", id: "clear-selected",
    onclick: () => {
      selected.clear();
      tableBox.querySelectorAll("input.pick").forEach((box) => { box.checked = false; });
      showSelection();
    } }, "clear selection");
  function showSelection() {
    compare.textContent = `Compare selected (${selected.size})`;
    compare.disabled = selected.size === 0;
    clear.hidden = selected.size === 0;
  }
  const onPick = (id, on) => {
    if (on) selected.add(id);
    else selected.delete(id);
    showSelection();
  };

  let asked = 0; // only the newest request's answer is shown
  async function load() {
    const mine = ++asked;
    try {
      const page = await api(runsQuery(filters));
      if (mine !== asked) return;
      fill(tableBox, page.runs.length ? table(page.runs, selected, onPick)
        : el("p", { class: "muted" }, filtering(filters) ? "No runs match these filters."
          : "No runs yet: start one above."));
      tableBox.dataset.rows = String(page.runs.length);
      more.textContent = page.next_cursor
        ? `The newest ${PAGE} runs that match; narrow the filters to find older ones.` : "";
    } catch (e) {
      if (mine === asked) fill(tableBox, el("p", { class: "form-error" }, `runs: ${e.message}`));
    }
  }

  let typing = null;
  const text = (name, label, placeholder) => el("input", { type: "search", name,
    id: `runs-${name}`, "aria-label": label, placeholder, value: filters[name],
    autocomplete: "off",
    oninput: (e) => {
      filters[name] = e.target.value;
      clearTimeout(typing);
      typing = setTimeout(load, TYPING_MS);
    } });
  const kindBox = el("span", {}, choice("kind", "kind", [], filters.kind));
  const stateBox = el("span", {}, choice("state", "state", [], filters.state));
  const form = el("form", { class: "runs-filters", id: "runs-filters",
    onsubmit: (e) => e.preventDefault(),
    // Selects re-query on change; text boxes on input, and on change too (a box emptied by a
    // script or an autofill may say nothing else).
    onchange: (e) => {
      if (!(e.target.name in filters) || filters[e.target.name] === e.target.value) return;
      filters[e.target.name] = e.target.value;
      clearTimeout(typing);
      load();
    } },
  text("q", "text in device, operator, notes or tags", "search device, operator, notes, tags"),
  kindBox, stateBox, text("tag", "tags (all of them)", "tags, comma-separated"));
  // The kinds and states the API accepts, from its schema.
  loadOpenApi().then((openapi) => {
    fill(kindBox, choice("kind", "kind", listFilterValues(openapi, "kind"), filters.kind));
    fill(stateBox, choice("state", "state", listFilterValues(openapi, "state"), filters.state));
  }).catch(() => {}); // the filters still work typed into the URL; the form shows its own error
  showSelection();
  const node = el("div", { id: "runs" }, form,
    el("div", { class: "actions compare-bar" }, compare, clear), tableBox, more);
  return { node, load };
}
