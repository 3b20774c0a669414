// A run's current as current density on its pixel area: the device's area when the run gave
// one, else its calibration's pixel area (the same area the service measured it with).

import { isNum } from "./dom.js";

/** The pixel area (mm²), or null when the run has none. */
export function areaMm2(run) {
  const area = (run.device || {}).area_mm2 ?? (run.calibration || {}).pixel_area_mm2;
  return isNum(area) && area > 0 ? area : null;
}

/** {title, y}: J in mA/cm² (1 A over 1 mm² is 1e5 mA/cm², host/analysis/jvl.py), or the
 * current in mA when the run has no area. */
export function currentPanel(run, currentA) {
  const area = areaMm2(run);
  if (area === null) return { title: "I (mA)", y: currentA.map((i) => (isNum(i) ? i * 1e3 : null)) };
  return { title: "J (mA/cm²)", y: currentA.map((i) => (isNum(i) ? (i * 1e5) / area : null)) };
}
