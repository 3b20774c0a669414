// Drawing figures with plotly.js (served by the app from its package): a figure is
// {id, title, points, traces, layout} and, optionally, height (px) and wide (the whole row).
// The run page's figures per kind are built in runplots.js, the compare page's in
// compareplots.js.

export const LINE = "#1f5fa8";
export const MARK = "#c0392b";
const CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

export function plottingAvailable() {
  return typeof window.Plotly === "object" && typeof window.Plotly.react === "function";
}

export function baseLayout(xTitle, yTitle, extra = {}) {
  return {
    margin: { l: 58, r: 14, t: 10, b: 46 },
    xaxis: { title: { text: xTitle }, zeroline: false, automargin: true },
    yaxis: { title: { text: yTitle }, zeroline: false, automargin: true },
    showlegend: false,
    hovermode: "closest",
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#fff",
    ...extra,
  };
}

/** A line trace (plotly scatter). */
export function line(x, y, name, extra = {}) {
  return { type: "scatter", mode: "lines", x, y, name, line: { color: LINE, width: 1.5 }, ...extra };
}

/** Draw (or redraw in place) each figure into a child of `container`. */
export function draw(container, figs) {
  // Every box first, then the plots: a plot drawn while it was the grid's only box would keep
  // that full width after its neighbours arrive (plotly resizes on window resizes only).
  const boxes = figs.map((fig) => {
    let box = container.querySelector(`[data-figure="${fig.id}"]`);
    if (!box) {
      box = document.createElement("figure");
      box.className = "plot";
      box.dataset.figure = fig.id;
      box.append(document.createElement("figcaption"), document.createElement("div"));
      container.append(box);
    }
    return box;
  });
  for (const box of container.querySelectorAll("[data-figure]")) {
    if (!figs.some((f) => f.id === box.dataset.figure)) box.remove();
  }
  figs.forEach((fig, i) => {
    const box = boxes[i];
    box.querySelector("figcaption").textContent = fig.title;
    box.dataset.points = String(fig.points);
    box.dataset.marker = fig.marker || "";
    box.dataset.markers = fig.markers || "";
    box.style.gridColumn = fig.wide ? "1 / -1" : "";
    const div = box.querySelector("div");
    div.className = "plot-area";
    div.style.height = fig.height ? `${fig.height}px` : "";
    if (plottingAvailable()) window.Plotly.react(div, fig.traces, fig.layout, CONFIG);
    else div.textContent = "plotly.js is not available: run `make install` (the dashboard's other parts still work)";
  });
}

/** Release the plots in `container` (plotly keeps window listeners until purged). */
export function purge(container) {
  if (!plottingAvailable()) return;
  for (const div of container.querySelectorAll(".plot-area")) window.Plotly.purge(div);
}
