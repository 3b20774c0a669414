// Requests to /api: the bearer token where the service asks for it, errors as readable messages.

import { askToken, forgetToken, getToken } from "./token.js";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// A GET answered 401 means the service is bound beyond loopback: every request needs the
// token, and EventSource (which cannot send headers) gives way to polling.
let readsNeedToken = false;

export function readsNeedAuth() {
  return readsNeedToken;
}

/** The API's own message: `detail` of its JSON error body, else the status line. */
async function messageOf(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (typeof body.detail === "string") return body.detail;
    if (body.detail !== undefined) return JSON.stringify(body.detail);
  } catch {
    // not JSON: fall through to the status line
  }
  return `${response.status} ${response.statusText}${text ? ": " + text.slice(0, 200) : ""}`;
}

async function send(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(path, {
    method, headers, cache: "no-store",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/**
 * One API call; resolves to the parsed JSON (or the Response when `raw`).
 * A control call (POST) asks for the token first if none is kept; a 401 asks again once.
 * Throws ApiError with the API's message on any other failure.
 */
export async function api(path, { method = "GET", body, raw = false } = {}) {
  const control = method !== "GET";
  let token = getToken();
  if (control && !token) {
    token = await askToken("Starting, stopping or changing a run needs the control token.");
    if (!token) throw new ApiError(401, "no control token given");
  }
  let response = await send(method, path, body, token);
  if (response.status === 401) {
    const message = await messageOf(response);
    if (!control) readsNeedToken = true;
    if (token) forgetToken();
    token = await askToken(token ? `The token was refused: ${message}` : message);
    if (!token) throw new ApiError(401, message);
    response = await send(method, path, body, token);
  }
  if (!response.ok) throw new ApiError(response.status, await messageOf(response));
  return raw ? response : response.json();
}

/** Download a GET endpoint as a file, with the token (for binds where links need it). */
export async function download(path, filename) {
  const response = await api(path, { raw: true });
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
