// Small DOM and number-formatting helpers; text always goes in as text, never as HTML.

/** el("div", {class: "x", onclick: f}, child, "text", ...) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/** Replace a node's children. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

export const DASH = "–";

export function isNum(value) {
  return typeof value === "number" && Number.isFinite(value);
}

/** A number with `digits` significant figures, or a dash for null/NaN. */
export function num(value, digits = 3) {
  if (!isNum(value)) return DASH;
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e6 || abs < 1e-3) return value.toExponential(digits - 1);
  return String(Number(value.toPrecision(digits)));
}

/** Value in SI with a prefix: si(0.00123, "A") -> "1.23 mA". */
export function si(value, unit, digits = 3) {
  if (!isNum(value)) return DASH;
  const prefixes = [[1e-12, "p"], [1e-9, "n"], [1e-6, "µ"], [1e-3, "m"], [1, ""], [1e3, "k"]];
  const abs = Math.abs(value);
  let chosen = prefixes[0];
  for (const p of prefixes) if (abs >= p[0]) chosen = p;
  if (value === 0) chosen = [1, ""];
  return `${num(value / chosen[0], digits)} ${chosen[1]}${unit}`;
}

/** A duration for people: 42 s, 12.5 min, 3.2 h, 2.1 d. */
export function duration(seconds) {
  if (!isNum(seconds)) return DASH;
  const abs = Math.abs(seconds);
  if (abs < 120) return `${num(seconds, 3)} s`;
  if (abs < 7200) return `${num(seconds / 60, 3)} min`;
  if (abs < 172800) return `${num(seconds / 3600, 3)} h`;
  return `${num(seconds / 86400, 3)} d`;
}

/** The time unit a plot's axis uses for a span of `maxSeconds`. */
export function timeUnit(maxSeconds) {
  if (!isNum(maxSeconds) || maxSeconds < 300) return { label: "s", scale: 1 };
  if (maxSeconds < 3 * 3600) return { label: "min", scale: 60 };
  return { label: "h", scale: 3600 };
}

/** ISO time to a short local time. */
export function when(iso) {
  if (!iso) return DASH;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
