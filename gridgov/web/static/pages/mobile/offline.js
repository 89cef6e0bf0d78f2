// offline.js — registers the phone app's service worker (pages/mobile/sw.js) so /m opens
// without network once it has been opened online. The script URL carries the asset version:
// a deploy registers a new URL, which installs the new worker and drops the old cache.
//
// window.gridgov.offline says how it went, for the browser tests: {state: "unsupported" |
// "registering" | "ready" | "failed", error?}.

/** Register the worker (after the page is usable; it never holds up the first view). */
export function registerOffline(config) {
  const status = { state: "unsupported" };
  window.gridgov.offline = status;
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return null;
  status.state = "registering";
  const url = `/static/pages/mobile/sw.js?v=${encodeURIComponent(config.v || "dev")}`;
  return navigator.serviceWorker
    .register(url, { scope: "/m", updateViaCache: "none" })
    .then(() => navigator.serviceWorker.ready)
    .then(() => {
      status.state = "ready";
    })
    .catch((err) => {
      // Not fatal: the app works online as before and keeps its outbox either way.
      status.state = "failed";
      status.error = String(err && err.message ? err.message : err);
      console.warn("gridgov: offline start unavailable:", err);
    });
}
