// A run's labels as form fields: what the run measures (device name, sample id, pixel, batch)
// and who ran it, notes and tags. Built from the API's schema (hints are its descriptions):
// the run form's from POST /api/runs (empty fields are not sent), the run page's editor's
// from PATCH /api/runs/{id} (what changed is sent). The API judges the rest.

import { el } from "./dom.js";
import { nonNull, resolve } from "./openapi.js";

// The device block's descriptive fields the form offers (structure and area_mm2 change what is
// measured and stay API-only: a typo there would silently rescale a run's luminance).
const DEVICE_FIELDS = [["name", "device name"], ["sample_id", "sample id"], ["pixel", "pixel"],
  ["batch", "batch"]];

function describe(openapi, raw) {
  if (!raw) return "";
  const value = nonNull(openapi, raw) || {};
  return raw.description || value.description || "";
}

function hintOf(text) {
  return text ? el("small", {}, text) : null;
}

/** The labels' field specs from the request schema (any kind's: they share RunTarget). */
export function labelSpecs(openapi, request) {
  const props = request.properties || {};
  const device = props.device ? nonNull(openapi, props.device) : null;
  const deviceProps = (device && resolve(openapi, device).properties) || {};
  const specs = DEVICE_FIELDS.filter(([name]) => deviceProps[name]).map(([name, label]) => ({
    id: `run-device-${name.replace("_", "-")}`, group: "device", name, label,
    hint: describe(openapi, deviceProps[name]) }));
  if (props.operator) specs.push({ id: "run-operator", name: "operator", label: "operator",
    hint: describe(openapi, props.operator) });
  if (props.tags) specs.push({ id: "run-tags", name: "tags", label: "tags",
    hint: `comma-separated; ${describe(openapi, props.tags)}; each ${
      describe(openapi, (nonNull(openapi, props.tags) || {}).items) || "one word"}` });
  if (props.notes) specs.push({ id: "run-notes", name: "notes", label: "notes", multiline: true,
    hint: describe(openapi, props.notes) });
  return specs;
}

/** The fieldset for `specs`. */
export function labelFieldset(specs, legend = "device under test and labels (optional)") {
  return el("fieldset", { class: "params labels", id: "run-labels" },
    el("legend", {}, legend),
    el("div", { class: "fields" }, specs.map((s) => el("div", { class: `field${s.multiline ? " wide" : ""}` },
      el("label", { for: s.id }, s.label),
      s.multiline
        ? el("textarea", { id: s.id, name: s.name, rows: 2 })
        : el("input", { id: s.id, name: s.name, type: "text", autocomplete: "off" }),
      hintOf(s.hint)))));
}

/** Tags as typed: split at commas (and spaces, which a tag cannot hold), empty ones dropped. */
export function splitTags(text) {
  return text.split(/[,\s]+/).map((t) => t.trim()).filter(Boolean);
}

/** The request's label members for what is filled in: {device?, operator?, notes?, tags?}. */
export function labelValues(fieldset, specs) {
  const out = {};
  const device = {};
  for (const s of specs) {
    const text = fieldset.querySelector(`#${s.id}`).value.trim();
    if (!text) continue;
    if (s.group === "device") device[s.name] = text;
    else if (s.name === "tags") out.tags = splitTags(text);
    else out[s.name] = text;
  }
  if (Object.keys(device).length) out.device = device;
  return out;
}

function shown(run, spec) {
  if (spec.group === "device") return (run.device || {})[spec.name] ?? "";
  if (spec.name === "tags") return (run.tags || []).join(", ");
  return run[spec.name] ?? "";
}

/** Put the run's labels into the fields. */
export function fillLabels(fieldset, specs, run) {
  for (const s of specs) fieldset.querySelector(`#${s.id}`).value = shown(run, s);
}

/** The PATCH body of what differs from the run: {notes?, tags?, device?: {name: text or null
 * (cleared)}}; {} when nothing does. */
export function labelEdits(fieldset, specs, run) {
  const out = {};
  const device = {};
  for (const s of specs) {
    const text = fieldset.querySelector(`#${s.id}`).value.trim();
    if (s.name === "tags") {
      const tags = splitTags(text);
      if (tags.join(",") !== (run.tags || []).join(",")) out.tags = tags;
    } else if (text !== String(shown(run, s)).trim()) {
      if (s.group === "device") device[s.name] = text || null;
      else out[s.name] = text;
    }
  }
  if (Object.keys(device).length) out.device = device;
  return out;
}
