// The start-a-sequence form: a recipe (GET /api/recipes) as editable JSON with its steps in
// words, a rig, the device and labels (the API's own fields, labelfields.js). The browser
// checks nothing but the JSON's syntax: the API judges the rest, and a 422's problems are
// listed beside the form, each with its `where`, and the step it names is marked.

import { api, ApiError } from "./api.js";
import { el, fill } from "./dom.js";
import { labelFieldset, labelSpecs, labelValues } from "./labelfields.js";
import { loadOpenApi, resolve } from "./openapi.js";
import { stepWords } from "./sequencefacts.js";
import { askToken, forgetToken, getToken } from "./token.js";

const OWN = "";  // the recipe picker's value for "write your own"
const TEMPLATE = { name: "my sequence", steps: [{ kind: "jvl", params: {} }] };

/** The recipes the service offers ([] when it has none or no such endpoint). */
async function loadRecipes() {
  try {
    return (await api("/api/recipes")).recipes || [];
  } catch (e) {
    if (e.status === 404) return [];
    throw e;
  }
}

async function loadRigNames() {
  try {
    return (await api("/api/rigs")).filter((r) => !r.remote).map((r) => r.name);
  } catch {
    return []; // the rig is typed in then
  }
}

/** The label fields of POST /api/sequences, with ids of their own (seq-device-name, ...). */
async function sequenceLabels() {
  try {
    const openapi = await loadOpenApi();
    const body = openapi.paths["/api/sequences"].post.requestBody.content["application/json"].schema;
    return labelSpecs(openapi, resolve(openapi, body))
      .map((s) => ({ ...s, id: s.id.replace(/^run-/, "seq-") }));
  } catch {
    return [];
  }
}

/**
 * POST /api/sequences with the token (asked for when none is kept, again once on a 401).
 * Unlike api(), a refusal keeps the API's `errors` list: ApiError with `problems`.
 */
async function postSequence(body) {
  const send = (token) => fetch("/api/sequences", { method: "POST", cache: "no-store",
    headers: { Accept: "application/json", "Content-Type": "application/json",
      Authorization: `Bearer ${token}` },
    body: JSON.stringify(body) });
  let token = getToken() || await askToken("Starting a sequence needs the control token.");
  if (!token) throw new ApiError(401, "no control token given");
  let response = await send(token);
  if (response.status === 401) {
    forgetToken();
    token = await askToken("The token was refused.");
    if (!token) throw new ApiError(401, "no control token given");
    response = await send(token);
  }
  const answer = await response.json().catch(() => ({}));
  if (response.ok) return answer;
  const detail = typeof answer.detail === "string" ? answer.detail
    : `${response.status} ${response.statusText}`;
  throw Object.assign(new ApiError(response.status, detail), { problems: answer.errors || [] });
}

/** The step a problem's `where` names ("steps.1.lifetime.params.voltage_v" -> 1), or null. */
function problemStep(where) {
  const match = /^steps\.(\d+)(\.|$)/.exec(where || "");
  return match ? Number(match[1]) : null;
}

function stepsList(spec) {
  const steps = Array.isArray(spec && spec.steps) ? spec.steps : [];
  if (!steps.length) return el("p", { class: "muted" }, "no steps");
  return el("ol", { class: "seq-steps-preview" }, steps.map((step, i) =>
    el("li", { dataset: { step: i } }, step && step.kind ? stepWords(step) : "a step without a kind")));
}

/** Build the form into `container`; `onStarted(sequence)` gets the API's 201 body. */
export async function renderSequenceForm(container, onStarted) {
  const [recipes, rigNames, labels] = await Promise.all([loadRecipes(), loadRigNames(),
    sequenceLabels()]);
  const recipeSelect = el("select", { id: "seq-recipe", name: "recipe" },
    recipes.map((r) => el("option", { value: r.name }, r.title ? `${r.title} (${r.name})` : r.name)),
    el("option", { value: OWN }, "write your own"));
  const about = el("p", { class: "muted", id: "seq-recipe-about" });
  const rigSelect = rigNames.length
    ? el("select", { id: "seq-rig", name: "rig" }, rigNames.map((n) => el("option", { value: n }, n)))
    : el("input", { id: "seq-rig", name: "rig", type: "text", autocomplete: "off" });
  const labelBox = labelFieldset(labels);
  labelBox.id = "seq-labels";
  const preview = el("div", { id: "seq-steps" });
  const json = el("textarea", { id: "seq-json", name: "spec", rows: 16, spellcheck: "false",
    class: "code", "aria-label": "the sequence as JSON (name, steps, metadata)" });
  const jsonError = el("p", { class: "form-error", id: "seq-json-error", role: "alert" });
  const error = el("p", { class: "form-error", id: "seq-error", role: "alert", "aria-live": "polite" });
  const problems = el("ul", { class: "problems", id: "seq-problems", hidden: true });
  const submit = el("button", { type: "submit", id: "seq-submit" }, "Start sequence");

  /** The textarea's JSON, or null (its syntax error shown). */
  function parsed() {
    try {
      const spec = JSON.parse(json.value);
      if (!spec || typeof spec !== "object" || Array.isArray(spec)) throw new Error("not an object");
      jsonError.textContent = "";
      return spec;
    } catch (e) {
      jsonError.textContent = `The JSON: ${e.message}`;
      return null;
    }
  }

  function showProblems(list) {
    fill(problems, list.map((p) => el("li", { dataset: { where: p.where } },
      el("code", {}, p.where), " ", p.message)));
    problems.hidden = !list.length;
    const marked = new Set(list.map((p) => problemStep(p.where)).filter((i) => i !== null));
    for (const item of preview.querySelectorAll("li[data-step]")) {
      item.classList.toggle("has-problem", marked.has(Number(item.dataset.step)));
    }
  }

  function showSteps() {
    const spec = parsed();
    if (spec) fill(preview, stepsList(spec));
  }

  function pickRecipe() {
    const recipe = recipes.find((r) => r.name === recipeSelect.value);
    about.textContent = recipe ? recipe.description || "" : "Write the steps as JSON below.";
    json.value = JSON.stringify(recipe ? recipe.spec : TEMPLATE, null, 2);
    error.textContent = "";
    showSteps();
    showProblems([]);
  }

  recipeSelect.addEventListener("change", pickRecipe);
  json.addEventListener("input", showSteps);
  const form = el("form", { id: "sequence-form", novalidate: true },
    el("div", { class: "row" },
      el("div", { class: "field" }, el("label", { for: "seq-recipe" }, "recipe"), recipeSelect),
      el("div", { class: "field" }, el("label", { for: "seq-rig" }, "rig"), rigSelect)),
    about,
    labels.length ? labelBox : null,
    el("div", { class: "columns seq-spec" },
      el("div", {}, el("h3", {}, "Steps"), preview),
      el("div", { class: "field" }, el("label", { for: "seq-json" },
        "the sequence (JSON: name, steps, metadata; the rig and labels above are added)"),
      json, jsonError)),
    el("div", { class: "actions" }, submit), error, problems);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    showProblems([]);
    const spec = parsed();
    if (!spec) return;
    const given = labelValues(labelBox, labels);
    const body = { ...spec, ...given, rig: rigSelect.value.trim() };
    if (given.device) body.device = { ...(spec.device || {}), ...given.device };
    submit.disabled = true;
    try {
      onStarted(await postSequence(body));
    } catch (e) {
      error.textContent = e.status === 422 ? "The API refused the sequence:" : e.message;
      showProblems(e.problems && e.problems.length ? e.problems
        : e.status === 422 ? [{ where: "body", message: e.message }] : []);
    } finally {
      submit.disabled = false;
    }
  });
  fill(container, form);
  pickRecipe();
}
