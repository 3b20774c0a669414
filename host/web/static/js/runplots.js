// The run page's figures for a run of any kind: [{id, title, points, traces, layout, ...}]
// as plots.js draws them.

import { jvlFigures } from "./jvlplots.js";
import { lifetimeFigures } from "./lifetimeplots.js";
import { photostabilityFigures } from "./photoplots.js";

export function figures(run, series, live) {
  if (run.kind === "lifetime") return lifetimeFigures(run, series, live);
  if (run.kind === "photostability") return photostabilityFigures(run, series);
  return jvlFigures(run, series);
}
