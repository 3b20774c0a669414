// The rig card's self-test: the board's last result (quick at every connection, full on
// request), each failed check with what to do, and a button that runs the full test (the
// control token; the shutter moves). The card is redrawn every poll, so what is in flight
// is kept here, by rig.

import { api } from "./api.js";
import { el } from "./dom.js";
import { badge } from "./runfacts.js";

const inFlight = new Map(); // rig name -> "running" or the error of the last try

function verdict(last) {
  if (!last) return badge("not run yet", "muted");
  const when = last.at ? ` · ${new Date(last.at).toLocaleTimeString()}` : "";
  return last.passed ? badge(`passed (${last.scope}${when})`, "good")
    : badge(`${last.failed.length} failed (${last.scope}${when})`, "bad");
}

function failedChecks(last) {
  const failed = ((last && last.checks) || []).filter((check) => check.state === "fail");
  if (!failed.length) return null;
  return el("ul", { class: "selftest-failed" }, failed.map((check) => el("li", {},
    check.channel ? `ch${check.channel} · ` : "",
    el("strong", {}, check.name), check.detail ? `: ${check.detail}` : "",
    check.advice ? el("div", { class: "note" }, check.advice) : "")));
}

/** The card's self-test block; `redraw` redraws the cards (after the test, or its error). */
export function selftestBlock(rig, running, redraw) {
  const state = inFlight.get(rig.name);
  const start = async () => {
    inFlight.set(rig.name, "running");
    redraw();
    try {
      await api(`/api/rigs/${encodeURIComponent(rig.name)}/selftest`, { method: "POST" });
      inFlight.delete(rig.name);
    } catch (e) {
      inFlight.set(rig.name, e.message);
    }
    redraw();
  };
  const busy = state === "running";
  return el("div", { class: "selftest" },
    el("div", {}, "self-test ", verdict(rig.selftest), " ",
      el("button", { class: "link selftest-run", disabled: busy || running || !rig.connected,
        title: "full self-test: every chip, the shutter's travel, the photodiode's dark in each range",
        onclick: start }, busy ? "testing…" : "run full self-test")),
    state && !busy ? el("p", { class: "form-error", role: "alert" }, state) : "",
    failedChecks(rig.selftest));
}
