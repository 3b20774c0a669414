// A sparkline: a small inline SVG of a normalised series (L/L0, PL/PL0) without axes, for the
// rig card's channel cells. Plotly (plots.js) would be one chart per cell, redrawn every poll.

const NS = "http://www.w3.org/2000/svg";
const WIDTH = 100;
const HEIGHT = 28;
const TOP = 1.05; // the ratio at the top edge: a fresh device starts at 1, a little noise above

function svg(tag, attrs, text = "") {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  node.textContent = text;
  return node;
}

/** Height of a ratio in the box: 0 at the bottom, TOP at the top, clamped. */
function y(ratio) {
  return (HEIGHT * (1 - Math.min(Math.max(ratio, 0), TOP) / TOP)).toFixed(2);
}

/** The line through [[t_s, ratio], ...] over the box's width, with a faint line at 0.5;
 * data-points counts the points drawn. */
export function sparkline(points, title, className = "sparkline") {
  const box = svg("svg", { class: className, viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    preserveAspectRatio: "none", role: "img", "aria-label": title, "data-points": points.length });
  box.append(svg("title", {}, title),
    svg("line", { class: "spark-half", x1: 0, x2: WIDTH, y1: y(0.5), y2: y(0.5) }));
  if (points.length) {
    const t0 = points[0][0];
    const span = points[points.length - 1][0] - t0 || 1;
    const xy = points.map(([t, ratio]) => `${((t - t0) / span * WIDTH).toFixed(1)},${y(ratio)}`);
    box.append(svg("polyline", { class: "spark-line", points: xy.join(" ") }));
  }
  return box;
}
