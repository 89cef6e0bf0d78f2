// api.js — fetch JSON from the gridgov API and turn error bodies into ApiError.
//
// Every server error is a JSON body {code, message} (gridgov/app.py). The UI shows both: a
// translated headline chosen by `code`, and the server's own `message`, so nothing fails silently.

/** An error from the API (or the network: status 0, code "network"). */
export class ApiError extends Error {
  constructor(status, code, message, body = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/**
 * GET a JSON document. Resolves to the parsed body; rejects with ApiError on a non-2xx answer or
 * a network failure, and with the browser's AbortError when `signal` aborts the request.
 */
export async function getJSON(path, { signal } = {}) {
  let response;
  try {
    response = await fetch(path, { signal, headers: { Accept: "application/json" } });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", String(err.message || err));
  }
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      // Not JSON (a proxy's error page, say): fall back to the status line below.
    }
    const code = (body && body.code) || "http_error";
    const message = (body && body.message) || `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, code, message, body);
  }
  return response.json();
}

/** True for an aborted fetch: a newer request replaced it, which is not an error to report. */
export function isAbort(err) {
  return err && err.name === "AbortError";
}
