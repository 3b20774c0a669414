// The dashboard's entry: hash routes (#/ the overview, #/runs/42 a run, #/compare?runs=1,4 a
// comparison, #/sequences the sequences, #/sequences/5 one) and the token status.

import { showCompare } from "./compare.js";
import { el, fill } from "./dom.js";
import { showOverview } from "./overview.js";
import { showRun } from "./runpage.js";
import { showSequence } from "./sequencepage.js";
import { showSequences } from "./sequences.js";
import { askToken, forgetToken, getToken } from "./token.js";

const root = document.getElementById("view");
let leave = () => {};

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function route() {
  leave();
  const hash = location.hash;
  const run = hash.match(/^#\/runs\/(\d+)$/);
  const sequence = hash.match(/^#\/sequences\/(\d+)$/);
  window.scrollTo(0, 0);
  if (run) leave = showRun(root, Number(run[1]));
  else if (sequence) leave = showSequence(root, Number(sequence[1]));
  else if (/^#\/sequences\/?$/.test(hash)) leave = showSequences(root, { navigate });
  else if (/^#\/compare(\?|$)/.test(hash)) leave = showCompare(root, hash);
  else leave = showOverview(root, { navigate });
}

function tokenStatus() {
  const box = document.getElementById("token-status");
  if (getToken()) {
    fill(box, "control token kept for this tab ",
      el("button", { class: "link", id: "token-forget", onclick: forgetToken }, "forget"));
  } else {
    fill(box, el("button", { class: "link", id: "token-set", onclick: () => askToken("") },
      "enter control token"));
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("tokenchange", tokenStatus);
tokenStatus();
route();
