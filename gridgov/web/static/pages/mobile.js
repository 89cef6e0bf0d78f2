// mobile.js — 监督员 phone app (/m; role supervisor, phone layout).
//
// Three tabs (the tab lives in the URL hash: #report, #tasks, #patrol):
//   上报  photo from the camera, GPS position (or a pin on a small map of our own layers), the
//         nearest known address and the grid (GET /api/gazetteer/reverse), nearby components
//         (GET /api/components/nearby) to link,
//         subclass by search (Chinese, code or pinyin initials), urgency, description.
//   任务  my 核实 (verify) and 核查 (check) tasks: the cases whose current verification or check
//         is assigned to me (GET /api/cases/board/list?assigned_to_me=true, one request); a list
//         sorted by straight-line distance from my position and a map with a line from me to
//         each; each opens a compact result form.
//   巡查  start / stop a patrol; while on, the phone's fixes go up in batches every
//         PATROL.everyMs (POST /api/patrol/{id}/positions, idempotent per fix time).
//
// The outbox (待发送): everything the phone sends — reports, task results, position batches, the
// patrol stop — goes through one queue kept in IndexedDB (localStorage when IndexedDB is not
// available), so a bad network never loses work:
//   - a report gets its Idempotency-Key once, when the user presses submit (lib/form.js keeps it
//     with the draft); the queued item keeps it, so every resend names the same report and the
//     server never files it twice;
//   - photos are uploaded as soon as they are chosen; one whose upload failed is queued as a
//     blob and uploaded first when the item is sent; uploaded ids are written back to the item;
//   - a network failure, a 5xx or a 429 leaves the item queued (visible count "待发送 2 条") and
//     it is resent when the browser fires `online`, on a timer (OUTBOX.retryMs) and by the
//     "重新发送" button; a refusal (other 4xx) is shown with the server's message and kept
//     until the user discards it (a freshly submitted form gets the refusal in the form instead);
//   - a task result has no idempotency key on the server: a resend after a lost answer gets a
//     409, and the case's events tell whether our action is the one that got there.
//
// Offline start: a service worker (pages/mobile/sw.js, scope /m) keeps the page, its modules,
// labels and styles, so the app opens without network once it has been opened online.
//
// The modules (pages/mobile/): util, outbox_store, outbox, outbox_bar, geo, photos, place,
// report, tasks, task_form, patrol, offline (the service worker's registration) and sw.

import { h } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { showError, toast } from "../lib/notice.js";
import { registerOffline } from "./mobile/offline.js";
import { OUTBOX, createOutbox } from "./mobile/outbox.js";
import { outboxBar } from "./mobile/outbox_bar.js";
import { createGeo } from "./mobile/geo.js";
import { patrolView } from "./mobile/patrol.js";
import { reportView } from "./mobile/report.js";
import { taskView } from "./mobile/tasks.js";
import { readStore, writeStore } from "./mobile/util.js";

export { OUTBOX } from "./mobile/outbox.js";
export { PATROL } from "./mobile/patrol.js";
export { distanceM } from "./mobile/util.js";

const TABS = ["report", "tasks", "patrol"];
const RECENT_MAX = 10;

export async function mount(ctx) {
  const user = ctx.user;
  const geo = createGeo();
  document.body.classList.add("m-app");

  // --- layout ---------------------------------------------------------------------------------

  const panels = {
    report: h("section", { class: "m-panel m-report", id: "m-report", dataset: { tab: "report" } }),
    tasks: h("section", { class: "m-panel m-tasks", id: "m-tasks", dataset: { tab: "tasks" } }),
    patrol: h("section", { class: "m-panel m-patrol", id: "m-patrol", dataset: { tab: "patrol" } }),
  };
  const tabButtons = {};
  const tabBar = h(
    "nav",
    { class: "m-tabs", "data-i18n-aria-label": "mobile.tabs", "aria-label": t("mobile.tabs") },
    ...TABS.map((tab) => {
      tabButtons[tab] = h(
        "button",
        {
          type: "button",
          class: "m-tab",
          dataset: { tab },
          "aria-controls": `m-${tab}`,
          onclick: () => showTab(tab),
        },
        h("span", { "data-i18n": `mobile.tab.${tab}` }, t(`mobile.tab.${tab}`)),
        tab === "tasks" ? h("span", { class: "m-tab-count", hidden: true }) : null,
      );
      return tabButtons[tab];
    }),
  );

  /** What the tabs share: who, where, the outbox (set below), the open tab. */
  const app = {
    user,
    geo,
    panels,
    tabButtons,
    outbox: null,
    tab: null,
    // Items a form is sending right now: the form tells the user itself.
    foreground: new Set(),
    recentKey: `gridgov.mobile.recent:${user.username}`,
    patrolKey: `gridgov.mobile.patrol:${user.username}`,
    drawOutbox: () => drawOutbox(),
  };
  const bar = outboxBar(app);
  ctx.main.replaceChildren(
    h("div", { class: "m-app-root" }, bar.root, panels.report, panels.tasks, panels.patrol, tabBar),
  );

  // --- outbox ---------------------------------------------------------------------------------

  function drawOutbox() {
    bar.draw();
    patrol.draw();
    tasks.markPending();
  }

  const outbox = createOutbox(user.username, {
    onChange: () => drawOutbox(),
    onSent: (item, result) => {
      if (item.kind === "report" && result && result.case_no) {
        rememberReport(result, item);
        if (!app.foreground.has(item.key)) {
          toast(t("mobile.report.sent_later", { no: result.case_no }), { kind: "success" });
        }
      } else if (item.kind === "positions" && result) {
        patrol.sent(item, result);
      } else if (item.kind === "patrol_stop" && result) {
        patrol.stopped(result);
      } else if (item.kind === "action") {
        tasks.done(item.case_no);
        if (!app.foreground.has(item.key)) toast(t("mobile.task.sent_later", { no: item.case_no }), { kind: "success" });
      }
    },
  });
  app.outbox = outbox;

  const onOnline = () => {
    drawOutbox();
    outbox.flush().catch(showError);
  };
  const onOffline = () => drawOutbox();
  window.addEventListener("online", onOnline);
  window.addEventListener("offline", onOffline);
  const retryTimer = setInterval(() => {
    if (outbox.pending().length && navigator.onLine !== false) outbox.flush().catch(showError);
  }, OUTBOX.retryMs);

  // --- recent reports (this phone) ------------------------------------------------------------

  function rememberReport(caseRead, item) {
    const list = readStore(app.recentKey, []).filter((r) => r.case_no !== caseRead.case_no);
    list.unshift({
      case_no: caseRead.case_no,
      at: caseRead.reported_at || new Date().toISOString(),
      label: item ? item.label : caseRead.description,
    });
    writeStore(app.recentKey, list.slice(0, RECENT_MAX));
    report.drawRecent();
  }

  // --- tabs -----------------------------------------------------------------------------------

  function showTab(tab) {
    if (!TABS.includes(tab)) tab = "report";
    app.tab = tab;
    for (const name of TABS) {
      panels[name].hidden = name !== tab;
      tabButtons[name].classList.toggle("active", name === tab);
      tabButtons[name].setAttribute("aria-current", name === tab ? "page" : "false");
    }
    if (window.location.hash !== `#${tab}`) history.replaceState(null, "", `#${tab}`);
    if (tab === "report") report.shown();
    if (tab === "tasks") tasks.shown();
    if (tab === "patrol") patrol.shown();
  }
  const onHash = () => showTab(window.location.hash.slice(1));
  window.addEventListener("hashchange", onHash);

  const report = reportView(app);
  const tasks = taskView(app);
  const patrol = patrolView(app);

  // --- language switch: redraw what was built with t() ---------------------------------------

  ctx.onLanguage(() => {
    drawOutbox();
    report.drawPlace();
    report.drawRecent();
    patrol.draw();
    tasks.redraw();
  });

  // --- start ----------------------------------------------------------------------------------

  window.gridgov.mobile = { outbox: null, geo, patrol, tasks, report };
  await outbox.init();
  window.gridgov.mobile.outbox = outbox;
  drawOutbox();
  geo.start();
  await patrol.resume();
  // The form is usable at once; the small map follows (showTab starts it, nothing waits for it).
  showTab(window.location.hash.slice(1) || "report");
  if (outbox.pending().length && navigator.onLine !== false) outbox.flush().catch(showError);
  registerOffline(ctx.config);
  window.addEventListener(
    "pagehide",
    () => {
      clearInterval(retryTimer);
    },
    { once: true },
  );
}
