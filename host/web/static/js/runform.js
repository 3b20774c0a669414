// The start-a-run form, built from the API's own schema (/openapi.json): the kinds, each
// kind's parameters, their defaults and limits (in each description: host/api/openapi.py),
// and the run's labels (labelfields.js). The browser checks nothing itself: the API does,
// and its message is shown beside the form.

import { api } from "./api.js";
import { el, fill } from "./dom.js";
import { labelFieldset, labelSpecs, labelValues } from "./labelfields.js";
import { loadOpenApi, resolve } from "./openapi.js";

const MAIN_FIELDS = 6; // a lifetime's four drives, its stop fraction and duration

/** One parameter from its JSON schema, or null for what a form cannot hold (objects). */
function parameter(openapi, name, raw) {
  const options = raw.anyOf ? raw.anyOf.map((o) => resolve(openapi, o)) : [resolve(openapi, raw)];
  const value = options.find((o) => o.type !== "null");
  if (!value || !["number", "integer", "boolean", "string"].includes(value.type)) return null;
  return {
    name,
    type: value.type,
    nullable: options.some((o) => o.type === "null"),
    default: raw.default,
    description: raw.description || value.description || "",
  };
}

/** [{kind, description, params: [...], skipped: [names]}] from the POST /api/runs body schema. */
export function runKinds(openapi) {
  const body = openapi.paths["/api/runs"].post.requestBody.content["application/json"].schema;
  return Object.entries(body.discriminator.mapping).map(([kind, ref]) => {
    const request = resolve(openapi, { $ref: ref });
    const params = resolve(openapi, request.properties.params);
    const out = { kind, description: params.description || "", params: [], skipped: [],
      rigDefault: (request.properties.rig || {}).default };
    for (const [name, raw] of Object.entries(params.properties || {})) {
      const p = parameter(openapi, name, raw);
      if (p) out.params.push(p);
      else out.skipped.push(name);
    }
    return out;
  });
}

/** The labels' fields, from the first kind's request (every kind's carries the same). */
export function runLabels(openapi) {
  const body = openapi.paths["/api/runs"].post.requestBody.content["application/json"].schema;
  const first = Object.values(body.discriminator.mapping)[0];
  return labelSpecs(openapi, resolve(openapi, { $ref: first }));
}

function field(kind, p) {
  const id = `f-${kind}-${p.name}`;
  const hint = [p.description, p.nullable && p.default == null ? "empty: not sent" : ""]
    .filter(Boolean).join(" · ");
  const input = p.type === "boolean"
    ? el("input", { id, name: p.name, type: "checkbox", checked: p.default === true })
    : el("input", { id, name: p.name, type: "text", autocomplete: "off",
      inputmode: p.type === "string" ? "text" : "decimal",
      value: p.default === undefined || p.default === null ? "" : String(p.default) });
  input.dataset.type = p.type;
  return el("div", { class: "field" },
    el("label", { for: id }, p.name), input, hint ? el("small", {}, hint) : null);
}

/** The value an input sends: numbers as numbers, anything else as typed (the API judges it). */
function valueOf(input) {
  if (input.dataset.type === "boolean") return input.checked;
  const text = input.value.trim();
  if (text === "") return undefined;
  if (input.dataset.type === "string") return text;
  const number = Number(text);
  return Number.isFinite(number) ? number : text;
}

/** Build the form into `container`; `onStarted(run)` is called with the API's 201 body. */
export async function renderRunForm(container, rigNames, onStarted) {
  const openapi = await loadOpenApi();
  const kinds = runKinds(openapi);
  const labels = runLabels(openapi);
  const labelBox = labelFieldset(labels);
  const error = el("p", { class: "form-error", id: "run-form-error", role: "alert",
    "aria-live": "polite" });
  const kindSelect = el("select", { name: "kind", id: "run-kind" },
    kinds.map((k) => el("option", { value: k.kind }, k.kind)));
  const rigDefault = kinds[0] && kinds[0].rigDefault;
  const rigSelect = rigNames.length
    ? el("select", { name: "rig", id: "run-rig" }, rigNames.map((n) =>
      el("option", { value: n, selected: n === rigDefault }, n)))
    : el("input", { name: "rig", id: "run-rig", type: "text", value: rigDefault || "" });
  // The models list their main parameters first; the rest keep the API's defaults unless opened.
  const sets = kinds.map((k) => el("fieldset", { class: "params", dataset: { kind: k.kind } },
    el("legend", {}, k.description || k.kind),
    el("div", { class: "fields" }, k.params.slice(0, MAIN_FIELDS).map((p) => field(k.kind, p))),
    k.params.length > MAIN_FIELDS ? el("details", { class: "more" },
      el("summary", {}, `${k.params.length - MAIN_FIELDS} more parameters (the API's defaults)`),
      el("div", { class: "fields" }, k.params.slice(MAIN_FIELDS).map((p) => field(k.kind, p))))
      : null,
    k.skipped.length ? el("small", { class: "note" },
      `also accepted through the API: ${k.skipped.join(", ")}`) : null));
  const submit = el("button", { type: "submit", id: "run-submit" }, "Start run");
  const showKind = () => {
    for (const set of sets) set.hidden = set.dataset.kind !== kindSelect.value;
  };
  kindSelect.addEventListener("change", showKind);
  showKind();
  const form = el("form", { id: "run-form", novalidate: true },
    el("div", { class: "row" },
      el("div", { class: "field" }, el("label", { for: "run-kind" }, "kind"), kindSelect),
      el("div", { class: "field" }, el("label", { for: "run-rig" }, "rig"), rigSelect)),
    labelBox, sets, el("div", { class: "actions" }, submit), error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const set = sets.find((s) => s.dataset.kind === kindSelect.value);
    const params = {};
    for (const input of set.querySelectorAll("input")) {
      const value = valueOf(input);
      if (value !== undefined) params[input.name] = value;
    }
    submit.disabled = true;
    try {
      const run = await api("/api/runs", { method: "POST",
        body: { kind: kindSelect.value, rig: rigSelect.value, params,
          ...labelValues(labelBox, labels) } });
      onStarted(run);
    } catch (e) {
      error.textContent = e.message;
    } finally {
      submit.disabled = false;
    }
  });
  fill(container, form);
}
