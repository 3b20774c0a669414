// A run's summary and parameters for people: each figure named in words with its unit, the
// words and units as the service has them (GET /api/figures, the list the CLI uses too).

import { api } from "./api.js";
import { DASH, duration, el, isNum, num, si } from "./dom.js";

let wordsPromise = null;
const NO_WORDS = { figures: {}, suffix_units: [] };

/** The figures' words and units, fetched once per page (none when the service has no list). */
export function loadFigureWords() {
  if (!wordsPromise) wordsPromise = api("/api/figures").catch(() => NO_WORDS);
  return wordsPromise;
}

function unitOf(name, words) {
  const known = words.figures[name];
  if (known) return known.unit;
  const suffix = words.suffix_units.find(([end]) => name.endsWith(end));
  return suffix ? suffix[1] : "";
}

/** A figure's value with its unit: `629.4 s (10.5 min)`, `49.9 cd/m²`, `1.23 mA`. */
export function quantity(name, value, words) {
  if (value === null || value === undefined) return DASH;
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.length ? value.map((v) => (isNum(v) ? num(v, 4) : String(v))).join(", ") : DASH;
  if (typeof value === "object") return compact(value);
  if (!isNum(value)) return String(value);
  const unit = unitOf(name, words);
  if (unit === "s") return Math.abs(value) >= 120 ? `${num(value, 4)} s (${duration(value)})` : `${num(value, 4)} s`;
  if (unit === "A") return si(value, "A", 4);
  return unit ? `${num(value, 4)} ${unit}` : num(value, 4);
}

/** An object parameter (a spectrum) in a few words. */
function compact(value) {
  const lengths = new Set(Object.values(value).filter(Array.isArray).map((v) => v.length));
  if (lengths.size === 1) return `${[...lengths][0]} points`;
  return JSON.stringify(value);
}

/** table.kv#`id`: each figure in words (its JSON name on hover) and its value with its unit. */
export function figureTable(obj, words, id, { named = true } = {}) {
  const entries = Object.entries(obj || {}).filter(([k]) => k !== "notes");
  if (!entries.length) return el("p", { class: "muted", id }, "nothing yet");
  return el("table", { class: "kv", id }, el("tbody", {}, entries.map(([k, v]) => {
    const said = named && words.figures[k] ? words.figures[k].words : k;
    return el("tr", { dataset: { key: k } }, el("th", { title: k }, said), el("td", {}, quantity(k, v, words)));
  })));
}

/** The summary: its figures, then its notes. */
export function summaryBox(summary, words) {
  const notes = (summary && summary.notes) || [];
  return [figureTable(summary, words, "summary"),
    notes.length ? el("ul", { class: "notes", id: "summary-notes" }, notes.map((n) => el("li", {}, n))) : null];
}
