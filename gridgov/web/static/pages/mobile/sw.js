// sw.js — the service worker of the supervisor's phone app (/m): the app opens without network
// once it has been opened online.
//
// Registered by pages/mobile/offline.js as /static/pages/mobile/sw.js?v=<asset version> with
// scope "/m" (the static files answer this script with `Service-Worker-Allowed: /m`). A scope is
// a URL prefix, so "/m" also covers "/map": everything that is not the app's own page or one of
// its files passes through untouched.
//
// What is kept (Cache Storage "gridgov-m-<version>"):
//   - the page /m itself (the shell HTML with the user's name, as the open page shows it);
//   - every file the page names: shell.css, the page's stylesheet, the module graph the shell
//     preloads (lib/*, pages/mobile.js and pages/mobile/*), MapLibre's script and stylesheet;
//   - the labels of both languages (/i18n/<lang>.json).
// Installing reads /m (with the session cookie) and caches it and the files its <link> and
// <script> tags and its config name, so the list follows the page without being kept here.
//
// Strategy: network first for all of these (a deploy or a new label shows up at once when
// online), the kept copy when the network fails or takes longer than NETWORK_WAIT_MS while a
// copy exists (a bad signal). API answers are never kept: /api/* does not even reach this
// worker (a static route to the network where the browser has them, else the fetch handler
// lets it pass), and the page's own outbox deals with API failures. A new version (a new ?v=)
// installs beside the old one and deletes the old caches when it activates. A logout, or /m
// answering with the login page, drops the kept page.

const VERSION = new URL(self.location.href).searchParams.get("v") || "dev";
const PREFIX = "gridgov-m-";
const CACHE = `${PREFIX}${VERSION}`;
const APP = "/m";
const LANGS = ["zh-CN", "en"];
/** Straight to the network, past this worker: the API and the other pages under the scope. */
const BYPASS = ["/api/*", "/map*"];
const NETWORK_WAIT_MS = 6000;

function sameOrigin(url) {
  return url.origin === self.location.origin;
}

/** The files the page names in its HTML (link href, script src, config vendor URLs). */
function filesOf(html) {
  const out = new Set();
  for (const m of html.matchAll(/<(?:link|script)\b[^>]*?\b(?:href|src)="([^"]+)"/g)) out.add(m[1]);
  for (const m of html.matchAll(/"(\/static\/vendor\/maplibre-gl\.(?:js|css)\?v=[^"]+)"/g)) out.add(m[1]);
  for (const lang of LANGS) out.add(`/i18n/${lang}.json`);
  return [...out].filter((u) => u.startsWith("/static/") || u.startsWith("/i18n/"));
}

/** /m answered with (a redirect to) the login page: the session is gone. */
function isLogin(response) {
  if (response.type === "opaqueredirect" || response.redirected) return true;
  return Boolean(response.url) && new URL(response.url).pathname === "/login";
}

self.addEventListener("install", (event) => {
  if (event.addRoutes && self.URLPattern) {
    const rules = BYPASS.map((pathname) => ({
      condition: { urlPattern: new URLPattern({ pathname }) },
      source: "network",
    }));
    event.addRoutes(rules).catch(() => null);
  }
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const page = await fetch(APP, { credentials: "same-origin", cache: "no-store" });
      if (!page.ok || isLogin(page)) throw new Error("the app page did not load; not installed");
      const html = await page.clone().text();
      await cache.put(APP, page);
      // One file failing (a vendor file not built) must not keep the rest out.
      await Promise.all(
        filesOf(html).map((url) =>
          cache.add(new Request(url, { credentials: "same-origin" })).catch(() => null),
        ),
      );
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

/** Which requests this worker answers, and under which cache key (null: not ours). */
function cacheKey(request) {
  if (request.method !== "GET") return null;
  const url = new URL(request.url);
  if (!sameOrigin(url)) return null;
  if (request.mode === "navigate") return url.pathname === APP ? APP : null;
  if (url.pathname.startsWith("/static/") || url.pathname.startsWith("/i18n/")) return request.url;
  return null;
}

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(key);
  const network = fetch(request).then(async (response) => {
    if (key === APP && isLogin(response)) {
      await cache.delete(APP); // the session is gone: keep no page with a name in it
    } else if (response.ok && response.type === "basic") {
      await cache.put(key, response.clone());
    }
    return response;
  });
  if (!kept) return network;
  const timeout = new Promise((resolve) => setTimeout(() => resolve(null), NETWORK_WAIT_MS));
  try {
    const first = await Promise.race([network.catch(() => null), timeout]);
    if (first) return first;
  } catch {
    // fall through to the kept copy
  }
  network.catch(() => null); // a late answer still refreshes the cache
  return kept;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method === "POST" && sameOrigin(url) && url.pathname === "/api/auth/logout") {
    // Logged out from the app: the kept page (it names the user) goes with the session.
    event.waitUntil(caches.open(CACHE).then((cache) => cache.delete(APP)));
    return;
  }
  const key = cacheKey(request);
  if (key) event.respondWith(networkFirst(request, key));
});
