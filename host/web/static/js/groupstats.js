// Means and spreads of run figures per group, and CSV text for any table: pure functions.

import { isNum } from "./dom.js";

/** {n, mean, sd} of the finite numbers in `values`; sd is the sample standard deviation
 * (n - 1 in the denominator: the runs are a sample of the device), null below two values. */
export function meanSd(values) {
  const xs = values.filter(isNum);
  const n = xs.length;
  if (!n) return { n, mean: null, sd: null };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean, sd: null };
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  return { n, mean, sd: Math.sqrt(ss / (n - 1)) };
}

/** Map group -> items, groups in name order (`last`, e.g. "(no tag)", at the end);
 * `keysOf(item)` gives an item's groups (a run with two tags is in both). */
export function groupBy(items, keysOf, last = null) {
  const groups = new Map();
  for (const item of items) {
    for (const key of keysOf(item)) {
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(item);
    }
  }
  const order = (a, b) => (a === last) - (b === last)
    || a.localeCompare(b, undefined, { sensitivity: "base", numeric: true });
  return new Map([...groups].sort(([a], [b]) => order(a, b)));
}

/** [{group, runs, stats: {figure: {n, mean, sd}}}] for `figureKeys` of `figuresOf(item)`. */
export function groupStats(groups, figureKeys, figuresOf) {
  return [...groups].map(([group, items]) => ({
    group,
    runs: items.length,
    stats: Object.fromEntries(figureKeys.map((key) =>
      [key, meanSd(items.map((item) => (figuresOf(item) || {})[key]))])),
  }));
}

function csvField(value) {
  if (value === null || value === undefined) return "";
  const text = typeof value === "number" ? (Number.isFinite(value) ? String(value) : "") : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV text (RFC 4180, CRLF) of a header and rows of plain values. */
export function toCsv(header, rows) {
  return [header, ...rows].map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}

/** A link that downloads `csv` as `filename`, made in the page (no request). */
export function csvHref(csv) {
  return `data:text/csv;charset=utf-8,${encodeURIComponent(csv)}`;
}
