// The run page's device and labels: shown, edited (PATCH /api/runs/{id}: notes, tags, the
// device's names) and archived or unarchived, with the control token (asked when needed).

import { api } from "./api.js";
import { DASH, el, fill, num } from "./dom.js";
import { fillLabels, labelEdits, labelFieldset, labelSpecs } from "./labelfields.js";
import { loadOpenApi, resolve } from "./openapi.js";

const BY = "dashboard"; // who the recorded `edited` and `archived` events name
const SHOWN = [["name", "device"], ["sample_id", "sample id"], ["pixel", "pixel"], ["batch", "batch"],
  ["structure", "structure"], ["area_mm2", "area"]];

/** The label fields PATCH /api/runs/{id} takes, from the API's schema. */
async function editSpecs() {
  const openapi = await loadOpenApi();
  const body = openapi.paths["/api/runs/{run_id}"].patch.requestBody.content["application/json"].schema;
  return labelSpecs(openapi, resolve(openapi, body));
}

function facts(run) {
  const device = run.device || {};
  const rows = SHOWN.map(([key, label]) => [label, key === "area_mm2" && device[key] != null
    ? `${num(device[key], 4)} mm²` : device[key]]);
  rows.push(["operator", run.operator], ["tags", (run.tags || []).length
    ? (run.tags || []).map((t) => el("span", { class: "tag" }, t)) : null]);
  return el("dl", { id: "labels" }, rows.flatMap(([label, value]) => [el("dt", {}, label),
    el("dd", { dataset: { label } }, value ?? DASH)]),
  el("dt", {}, "notes"), el("dd", { id: "labels-notes" }, run.notes || DASH));
}

/**
 * The labels card of run `runId`: `show(run)` renders a run's labels (not while they are being
 * edited); `onRun(run)` gets the run the API answers an edit or an archive with.
 */
export function labelsBox(runId, onRun) {
  const node = el("div", { id: "labels-box" });
  const error = el("p", { class: "form-error", id: "labels-error", role: "alert" });
  let run = null;
  let editing = false;

  async function send(path, options) {
    error.textContent = "";
    try {
      const answer = await api(path, options);
      editing = false;
      onRun(answer);
      return true;
    } catch (e) {
      error.textContent = e.message;
      return false;
    }
  }

  function view() {
    const archived = Boolean(run.archived);
    fill(node, archived ? el("p", { class: "muted", id: "archived-note" }, "archived: hidden from the runs list") : null,
      facts(run),
      el("div", { class: "actions" },
        el("button", { id: "labels-edit", onclick: edit }, "Edit labels"),
        el("button", { id: archived ? "unarchive" : "archive", onclick: () =>
          send(`/api/runs/${runId}/${archived ? "unarchive" : "archive"}?by=${BY}`, { method: "POST" }) },
        archived ? "Unarchive" : "Archive")),
      error);
  }

  async function edit() {
    error.textContent = "";
    let specs;
    try {
      specs = await editSpecs();
    } catch (e) {
      error.textContent = `cannot edit: ${e.message}`;
      return;
    }
    editing = true;
    const fieldset = labelFieldset(specs, "device names, notes and tags (structure and area stay as measured)");
    fillLabels(fieldset, specs, run);
    const save = async () => {
      const changes = labelEdits(fieldset, specs, run);
      if (!Object.keys(changes).length) {
        editing = false;
        view();
        return;
      }
      await send(`/api/runs/${runId}`, { method: "PATCH", body: { ...changes, by: BY } });
    };
    fill(node, fieldset, el("div", { class: "actions" },
      el("button", { id: "labels-save", onclick: save }, "Save"),
      el("button", { id: "labels-cancel", onclick: () => { editing = false; view(); } }, "Cancel")), error);
  }

  return {
    node,
    show(latest) {
      run = latest;
      if (!editing) view();
    },
  };
}
