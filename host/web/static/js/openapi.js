// The API's own schema (/openapi.json), fetched once per page: the run form and the runs
// filters build themselves from it, so they follow the API without a copy of its lists.

let openapiPromise = null;

export function loadOpenApi() {
  if (!openapiPromise) {
    openapiPromise = fetch("/openapi.json").then((r) => {
      if (!r.ok) throw new Error(`/openapi.json: ${r.status}`);
      return r.json();
    });
    openapiPromise.catch(() => { openapiPromise = null; }); // let a later call try again
  }
  return openapiPromise;
}

/** Follow `$ref`s from `node` to the schema they name. */
export function resolve(openapi, node) {
  let current = node;
  while (current && current.$ref) {
    const path = current.$ref.replace(/^#\//, "").split("/");
    current = path.reduce((obj, key) => obj[key], openapi);
  }
  return current;
}

/** The schema of a nullable field without its null branch (anyOf [X, null] -> X). */
export function nonNull(openapi, raw) {
  const options = raw.anyOf ? raw.anyOf.map((o) => resolve(openapi, o)) : [resolve(openapi, raw)];
  return options.find((o) => o.type !== "null") || null;
}

/** The values a GET /api/runs query parameter takes (its enum), or []. */
export function listFilterValues(openapi, name) {
  const parameters = openapi.paths["/api/runs"].get.parameters || [];
  const param = parameters.find((p) => p.name === name);
  const schema = param ? nonNull(openapi, param.schema) : null;
  return (schema && schema.enum) || [];
}
