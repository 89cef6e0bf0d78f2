// api.js — call the gridgov API: JSON in and out, uploads, idempotency keys, errors as ApiError.
//
// Every server error is a JSON body {code, message, where?, problems?} (gridgov/app.py). An
// ApiError keeps all of it, so a page shows a translated headline chosen by `code` and the
// server's own `message` (lib/notice.js), and a form can mark the field named in `where.field`.
//
// A 401 (no session, or it expired) from any call sends the user to /login?next=<this page>
// after running the beforeLogin() hooks (forms save their drafts there), unless the call says
// {auth: "none"} (the login form itself, public pages that only try). The login page sends the
// user back to `next`.
//
//   const detail = await getJSON(`/api/cases/${no}`);
//   await postJSON(`/api/cases/${no}/actions`, {action, payload, expected_version});
//   await postJSON("/api/cases", body, {idempotencyKey: key});
//   const photo = await upload("/api/media", file);   // multipart, field "file"

/** An error from the API (or the network: status 0, code "network"). `retryAfter`: the
 * seconds the server asked to wait (its Retry-After header on a 429 or 503), else null. */
export class ApiError extends Error {
  constructor(status, code, message, body = null, retryAfter = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.body = body;
    this.retryAfter = retryAfter;
    /** True when the page is already on its way to the login page: nothing to show. */
    this.redirecting = false;
  }

  /** Where the server located the problem ({field, state, version, …}); {} when it did not. */
  get where() {
    return (this.body && this.body.where) || {};
  }

  /** Per-field problems of a 422 ([{field, message}]); [] when there are none. */
  get problems() {
    return (this.body && this.body.problems) || [];
  }
}

/** Requests in flight and seen, for tests and the shell's settled() (see lib/shell.js). */
export const stats = { inflight: 0, requests: 0, errors: [] };

export const LOGIN_PATH = "/login";
const hooks = new Set();
let leaving = false;

/** Run `fn` just before the page leaves for the login page (save drafts there). */
export function beforeLogin(fn) {
  hooks.add(fn);
  return () => hooks.delete(fn);
}

/** This page as a `next` value: path and query. */
export function currentPath() {
  return window.location.pathname + window.location.search;
}

export function loginURL(next = currentPath()) {
  return `${LOGIN_PATH}?next=${encodeURIComponent(next)}`;
}

/** Save what can be saved and go to the login page, which brings the user back here. */
export function redirectToLogin() {
  if (leaving) return;
  leaving = true;
  for (const fn of hooks) {
    try {
      fn();
    } catch (err) {
      console.warn("gridgov: beforeLogin hook failed", err);
    }
  }
  try {
    window.sessionStorage.setItem("gridgov.session_lost", "1");
  } catch {
    // Storage disabled: the login page just shows no notice.
  }
  window.location.assign(loginURL());
}

/** A fresh client request id for the Idempotency-Key header. */
export function newIdempotencyKey() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * One API call. Options:
 *   json            a value sent as the JSON body
 *   form            a FormData sent as multipart (uploads)
 *   idempotencyKey  sent as the Idempotency-Key header (resubmits never duplicate)
 *   signal          an AbortSignal (aborts reject with the browser's AbortError)
 *   auth            "redirect" (default: a 401 goes to the login page) or "none"
 *   headers         extra headers
 * Resolves to the parsed JSON body (null for an empty answer); rejects with ApiError.
 */
export async function request(method, path, options = {}) {
  const { json, form, idempotencyKey, signal, auth = "redirect", headers = {} } = options;
  const init = { method, signal, headers: { Accept: "application/json", ...headers } };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form; // the browser sets the multipart boundary
  }
  if (idempotencyKey) init.headers["Idempotency-Key"] = idempotencyKey;
  stats.inflight += 1;
  stats.requests += 1;
  let response;
  try {
    try {
      response = await fetch(path, init);
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new ApiError(0, "network", String(err.message || err));
    }
    if (!response.ok) throw await errorOf(response, auth);
    if (response.status === 204) return null;
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  } finally {
    stats.inflight -= 1;
  }
}

/** Retry-After as whole seconds (it is either seconds or an HTTP date); null when absent. */
export function parseRetryAfter(value, now = Date.now()) {
  if (value == null || String(value).trim() === "") return null;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

async function errorOf(response, auth) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's error page, say): fall back to the status line below.
  }
  const code = (body && body.code) || "http_error";
  const message = (body && body.message) || `${response.status} ${response.statusText}`;
  const retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
  const err = new ApiError(response.status, code, message, body, retryAfter);
  stats.errors.push({ status: response.status, code, message });
  if (response.status === 401 && auth !== "none") {
    err.redirecting = true;
    redirectToLogin();
  }
  return err;
}

export function getJSON(path, options = {}) {
  return request("GET", path, options);
}

export function postJSON(path, data, options = {}) {
  return request("POST", path, { ...options, json: data });
}

export function putJSON(path, data, options = {}) {
  return request("PUT", path, { ...options, json: data });
}

export function patchJSON(path, data, options = {}) {
  return request("PATCH", path, { ...options, json: data });
}

export function deleteJSON(path, options = {}) {
  return request("DELETE", path, options);
}

/** Upload one file as multipart/form-data (field `field`, default "file") with extra fields. */
export function upload(path, file, { field = "file", fields = {}, ...options } = {}) {
  const form = new FormData();
  form.append(field, file, file.name || "upload");
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return request("POST", path, { ...options, form });
}

/** The logged-in user; a dead session goes to the login page (use before a submit that the
 * server would also accept anonymously, e.g. POST /api/cases). */
export function ensureSession() {
  return getJSON("/api/auth/me");
}

/** True for an aborted fetch: a newer request replaced it, which is not an error to report. */
export function isAbort(err) {
  return Boolean(err) && err.name === "AbortError";
}

/** A query string from an object, skipping empty values; arrays repeat the name. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value == null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => q.append(name, v));
    else q.append(name, String(value));
  }
  const text = q.toString();
  return text ? `?${text}` : "";
}
