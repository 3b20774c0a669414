// Panels stacked on one shared x axis (plotly subplots by axis domains): the top panel is
// yaxis, the next yaxis2, and so on; a panel may carry a second quantity on its right (the
// axis after the stack's last).

import { baseLayout } from "./plots.js";

const GAP = 0.035; // between panels, as a fraction of the plot's height

/**
 * The layout of a stack: `panels` top to bottom, each {title, weight, right?: title of a
 * right-hand axis, log?}. Returns {layout, axes: ["y", "y2", ...], rightAxes: {index: "yN"}}.
 */
export function stackLayout(xTitle, panels, extra = {}) {
  const total = panels.reduce((sum, p) => sum + p.weight, 0);
  const usable = 1 - GAP * (panels.length - 1);
  const layout = baseLayout(xTitle, "", extra);
  const axes = [];
  const rightAxes = {};
  let top = 1;
  let extraAxis = panels.length + 1;
  panels.forEach((panel, i) => {
    const height = (usable * panel.weight) / total;
    const domain = [Math.max(0, top - height), top];
    const name = i === 0 ? "y" : `y${i + 1}`;
    axes.push(name);
    layout[i === 0 ? "yaxis" : `yaxis${i + 1}`] = {
      domain, title: { text: panel.title }, zeroline: false, automargin: true,
      type: panel.log ? "log" : "linear", anchor: "x" };
    if (panel.right) {
      const right = `y${extraAxis}`;
      rightAxes[i] = right;
      layout[`yaxis${extraAxis}`] = { title: { text: panel.right }, overlaying: name, side: "right",
        zeroline: false, automargin: true, showgrid: false, anchor: "x", tickmode: "auto", nticks: 4 };
      extraAxis += 1;
    }
    top = domain[0] - GAP;
  });
  layout.xaxis = { ...layout.xaxis, anchor: axes[axes.length - 1] };
  layout.margin = { ...layout.margin, r: Object.keys(rightAxes).length ? 50 : layout.margin.r };
  return { layout, axes, rightAxes };
}

/** The y axis a panel's trace goes on (plotly's "y", "y2", ...). */
export function onPanel(trace, yAxis) {
  return { ...trace, xaxis: "x", yaxis: yAxis };
}
