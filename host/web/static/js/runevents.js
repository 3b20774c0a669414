// A run's events, newest first, in words with units: the service's `text` of each (device
// integers decoded with the run's calibration, host/runs/eventtext.py); a live event comes
// without it, and the page reads the run's events again.

import { duration, el, isNum, when } from "./dom.js";

/** Whether an event still needs its text from GET /api/runs/{id}. */
export function lacksText(event) {
  return typeof event.text !== "string";
}

export function eventsList(events) {
  const list = (events || []).slice().reverse();
  if (!list.length) return el("p", { class: "muted" }, "no events");
  return el("ul", { class: "events", id: "events" }, list.map((e) => {
    const runT = e.data && isNum(e.data.t_s) ? el("span", { class: "muted" }, ` at ${duration(e.data.t_s)} run time`) : null;
    return el("li", { dataset: { name: e.name } }, el("time", {}, when(e.t)), " ",
      el("span", { class: "text" }, lacksText(e) ? e.message || e.name : e.text), runT);
  }));
}

/** `held` with `fresh` (a re-read list, texts included) in place of the events it has. */
export function mergeEvents(held, fresh) {
  const ids = new Set(fresh.map((e) => e.id));
  return fresh.concat((held || []).filter((e) => !ids.has(e.id)))
    .sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
}
