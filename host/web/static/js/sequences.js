// The sequences view, #/sequences: start one from a recipe (sequenceform.js) and the list of
// sequences, newest first, each linking to its page (#/sequences/5).

import { api } from "./api.js";
import { DASH, el, fill, when } from "./dom.js";
import { sequenceBadge, stepOfSteps } from "./sequencefacts.js";
import { renderSequenceForm } from "./sequenceform.js";

const LIST_MS = 3000;

function row(s) {
  return el("tr", { dataset: { sequence: s.id } },
    el("td", {}, el("a", { href: `#/sequences/${s.id}` }, `#${s.id}`)),
    el("td", {}, s.name || DASH),
    el("td", {}, s.rig),
    el("td", {}, sequenceBadge(s.state)),
    el("td", {}, stepOfSteps(s) || DASH),
    el("td", {}, when(s.started_at || s.created_at)),
    el("td", {}, s.finished_at ? when(s.finished_at) : DASH),
    el("td", {}, s.error || ""));
}

function table(sequences) {
  const heads = ["sequence", "name", "rig", "state", "step", "started", "ended", "error"];
  return el("div", { class: "table-wrap" }, el("table", { class: "runs sequences" },
    el("thead", {}, el("tr", {}, heads.map((h) => el("th", {}, h)))),
    el("tbody", {}, sequences.map(row))));
}

/** Render the view into `root`; returns a function that stops its polling. */
export function showSequences(root, { navigate }) {
  const formBox = el("div", { id: "sequence-form-box" }, el("p", { class: "muted" }, "loading recipes…"));
  const listBox = el("div", { id: "sequences-table" }, el("p", { class: "muted" }, "loading sequences…"));
  fill(root,
    el("nav", { class: "crumbs" }, el("a", { href: "#/" }, "← rigs and runs")),
    el("section", { class: "card", id: "new-sequence" }, el("h2", {}, "Start a sequence"), formBox),
    el("section", {}, el("h2", {}, "Sequences"), listBox));
  let stopped = false;
  let timer = null;
  async function load() {
    try {
      const { sequences } = await api("/api/sequences");
      if (stopped) return;
      fill(listBox, sequences.length ? table(sequences)
        : el("p", { class: "muted" }, "No sequences yet: start one above."));
      listBox.dataset.rows = String(sequences.length);
    } catch (e) {
      if (!stopped) fill(listBox, el("p", { class: "form-error" }, `sequences: ${e.message}`));
    }
    if (!stopped) timer = setTimeout(load, LIST_MS);
  }
  load();
  renderSequenceForm(formBox, (sequence) => navigate(`#/sequences/${sequence.id}`))
    .catch((e) => fill(formBox, el("p", { class: "form-error" }, `the form: ${e.message}`)));
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
