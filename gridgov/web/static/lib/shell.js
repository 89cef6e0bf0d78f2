// shell.js — starts every page rendered by the shell template (gridgov/web/templates/shell.html).
//
// It reads the page config the server embedded (#gridgov-config: page id, user, time zone,
// language, params …), loads the labels, wires the top bar (language switch, logout), then
// imports the page's module and calls its `mount(ctx)`:
//
//   // gridgov/web/static/pages/<id>.js
//   export async function mount(ctx) {
//     ctx.main              // <main id="page">: the page draws itself in here
//     ctx.user              // {username, name, role, department_code} or null (public pages)
//     ctx.params            // path parameters, e.g. {case_no} on /case/{case_no}
//     ctx.config            // the whole config (timezone, home, vendor URLs, …)
//     ctx.onLanguage(fn)    // re-render text built with t() after a language switch
//   }
//
// Elements carrying data-i18n* attributes are relabelled automatically. window.gridgov exposes
// `ready`, `settled()` (ready and no request in flight) and `stats` for the browser tests.

import { postJSON, stats } from "./api.js";
import { h } from "./dom.js";
import { loadLanguage, onLanguage, t } from "./i18n.js";
import { showError, toast } from "./notice.js";
import { setTimeZone } from "./time.js";

const config = JSON.parse(document.getElementById("gridgov-config").textContent);
const started = performance.now();

window.gridgov = {
  config,
  ready: false,
  stats,
  /** ms from this module starting to the page's mount() resolving. */
  mountMs: null,
  /** ms from the navigation's start to the page being usable (mount() resolved). */
  readyAt: null,
  settled: () => Boolean(window.gridgov.ready && stats.inflight === 0),
};

/** The top bar's links on a row of their own when they do not fit beside the brand and the
 * user (body.nav-wrapped), the current page scrolled into view, and --bar-h set to the bar's
 * real height (page layouts size themselves below it). */
export function fitTopBar() {
  const bar = document.querySelector(".topbar");
  const nav = document.getElementById("nav");
  if (!bar || !nav) return;
  document.body.classList.remove("nav-wrapped");
  if (nav.scrollWidth > nav.clientWidth + 1) document.body.classList.add("nav-wrapped");
  const current = nav.querySelector('[aria-current="page"]');
  if (current && nav.scrollWidth > nav.clientWidth + 1) {
    const left = current.offsetLeft;
    const right = left + current.offsetWidth;
    if (left < nav.scrollLeft || right > nav.scrollLeft + nav.clientWidth) {
      nav.scrollLeft = Math.max(0, right - nav.clientWidth + 8);
    }
  }
  document.documentElement.style.setProperty("--bar-h", `${bar.offsetHeight}px`);
}

function wireTopBar() {
  const select = document.getElementById("lang-select");
  if (select) {
    select.value = config.lang;
    select.addEventListener("change", async () => {
      try {
        await loadLanguage(select.value);
      } catch (err) {
        showError(err);
      }
    });
  }
  const logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", async () => {
      logout.disabled = true;
      try {
        await postJSON("/api/auth/logout", null, { auth: "none" });
      } catch (err) {
        showError(err);
        logout.disabled = false;
        return;
      }
      window.location.assign("/login");
    });
  }
}

async function boot() {
  setTimeZone(config.timezone);
  fitTopBar();
  await loadLanguage(config.lang);
  fitTopBar();
  onLanguage(fitTopBar);
  let resizing = 0;
  window.addEventListener("resize", () => {
    window.cancelAnimationFrame(resizing);
    resizing = window.requestAnimationFrame(fitTopBar);
  });
  wireTopBar();
  for (const name of config.missing_vendor || []) {
    toast(t("shell.vendor_missing", { file: name }), { kind: "error", timeout: 0 });
  }
  const main = document.getElementById("page");
  const module = await import(config.module);
  const ctx = {
    main,
    config,
    user: config.user,
    params: config.params || {},
    onLanguage,
  };
  window.gridgov.page = module;
  await module.mount(ctx);
  window.gridgov.mountMs = Math.round(performance.now() - started);
  window.gridgov.readyAt = Math.round(performance.now()); // ms since navigation started
  window.gridgov.ready = true;
}

boot().catch((err) => {
  showError(err);
  const main = document.getElementById("page");
  if (main && !main.childElementCount) {
    main.append(h("p", { class: "page-error", "data-i18n": "error.title" }, t("error.title")));
  }
  window.gridgov.ready = true;
});
