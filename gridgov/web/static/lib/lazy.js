// lazy.js — the heavy parts of a page (maps, charts) load after the page is usable.
//
// A page's mount() resolves as soon as its lists and numbers are on screen (that moment is the
// shell's readyAt, which the browser tests time); MapLibre, ECharts and the big GeoJSON come
// after the first paint, or when the tab or panel that shows them is opened. Work started with
// background() counts as a request in flight until it ends, so window.gridgov.settled() (and
// the browser tests) still wait for the map to be drawn.
//
//   const mapReady = background(buildMap);          // after the first paint; errors shown
//   const echarts = await ensureECharts();          // the vendor script, loaded once
//
// The page table (gridgov/web/pages.py, Page.maplibre / Page.echarts) only preloads the vendor
// files (downloaded in parallel, not run), so they never hold up the first paint.

import { stats } from "./api.js";
import { showError } from "./notice.js";

const scripts = new Map();

function config() {
  return (window.gridgov && window.gridgov.config) || {};
}

/** Resolves once the browser has painted what is on screen now (at most ~100 ms later). */
export function afterPaint() {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve();
    };
    window.requestAnimationFrame(() => window.setTimeout(finish, 0));
    window.setTimeout(finish, 100); // no frames in a hidden tab
  });
}

/**
 * Run `job()` after the first paint, counted as in flight until it ends. Resolves to what the
 * job returns, or null when it failed (the error is shown with `onError`, default showError).
 */
export function background(job, { onError = showError } = {}) {
  stats.inflight += 1;
  return afterPaint()
    .then(job)
    .catch((err) => {
      onError(err);
      return null;
    })
    .finally(() => {
      stats.inflight -= 1;
    });
}

/** Load a classic script once; resolves to `window[global]`. */
export function loadScript(src, global) {
  if (window[global]) return Promise.resolve(window[global]);
  if (scripts.has(global)) return scripts.get(global);
  const promise = new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = () => resolve(window[global]);
    script.onerror = () => {
      scripts.delete(global);
      reject(new Error(`${src.split("?")[0]} did not load (front-end not built?)`));
    };
    document.head.append(script);
  });
  scripts.set(global, promise);
  return promise;
}

/** Add a stylesheet once (`name` marks it: link[data-vendor=name]). */
export function loadStyle(href, name) {
  if (document.querySelector(`link[data-vendor="${name}"]`)) return;
  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = href;
  css.dataset.vendor = name;
  document.head.append(css);
}

/** window.echarts, loading the vendor script the first time (rejects when it is not built). */
export function ensureECharts() {
  const vendor = config().vendor || {};
  return loadScript(vendor.echarts_js || "/static/vendor/echarts.min.js", "echarts");
}
