// command.js — 指挥中心 (/command; dispatcher, admin).
//
// Boards (tabs, each with its count):
//   派遣   registered cases with the routing suggestion and its reason (GET /api/command/dispatch):
//          one click dispatches to the suggested department, or choose another (GET /api/departments)
//   审批   回退 / 延期 / 挂账 requests and 上报上级 with the request (GET /api/command/approvals):
//          approve (延期: the asked-for due time, editable) or refuse with a reason
//   红灯   overdue cases, longest overdue first (GET /api/command/overdue)
//   协调   registered cases routing found no department for, with their age
//          (GET /api/cases/coordination): choose the department
//   部门负荷 open / overdue / waiting requests per department (GET /api/command/departments)
// and a MapLibre map of the open cases coloured by their deadline light, drawn from our own
// layers only (regions, grids, GET /api/dashboard/cases.geojson). A case number or a point on the
// map opens the shared case detail (lib/case_view.js) in the side panel.
//
// Long lists page: 派遣 by key (`after` = the last case shown, so cases dispatched meanwhile
// neither shift nor repeat the next page), 红灯 by offset; "加载更多" appends the next page and a
// refresh reloads as many as are shown. Modules: command_kit.js (shared pieces), command_boards.js
// (派遣, 红灯, 协调, 部门负荷), command_approvals.js (审批), command_map.js (the map).
//
// Every action sends the version the dispatcher saw (`expected_version`); a 409 says the case was
// changed by someone else, with its current state, and reloads the boards. The view lives in the
// URL (?tab=&kind=&case=), so a reload or a trip through the login page comes back to it.

import { getJSON, query } from "../lib/api.js";
import { caseView } from "../lib/case_view.js";
import { casePanel, h, showCasePanel } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { background } from "../lib/lazy.js";
import { showError } from "../lib/notice.js";
import { formatDateTime } from "../lib/time.js";
import { drawApprovals, KINDS } from "./command_approvals.js";
import { drawCoordination, drawDepartments, drawDispatch, drawOverdue } from "./command_boards.js";
import { commandKit } from "./command_kit.js";
import { commandMap } from "./command_map.js";

export { LIGHT_COLORS } from "./command_map.js";

const TABS = ["dispatch", "approvals", "overdue", "coordination", "departments"];
const PAGE_SIZE = 50;
const MAX_PAGE = 500; // the API's largest page (gridgov/cases/command_api.py MAX_LIMIT)
const REFRESH_MS = 60_000;

export async function mount(ctx) {
  const params = new URLSearchParams(window.location.search);
  const state = {
    tab: TABS.includes(params.get("tab")) ? params.get("tab") : "dispatch",
    kind: KINDS.includes(params.get("kind")) ? params.get("kind") : "",
    case: params.get("case") || "",
  };
  const data = {
    counts: null,
    dispatch: null,
    approvals: null,
    overdue: null,
    coordination: null,
    departments: null,
    loadedAt: null,
  };
  let departmentList = null; // GET /api/departments?active=true, once
  let generation = 0;

  // --- layout -------------------------------------------------------------------------------

  const tabBar = h("div", {
    class: "cmd-tabs",
    role: "tablist",
    "data-i18n-aria-label": "command.boards",
    "aria-label": t("command.boards"),
  });
  const boardBody = h("div", { class: "cmd-board-body", role: "tabpanel", id: "cmd-board" });
  const updated = h("span", { class: "muted cmd-updated" });
  const refreshButton = h(
    "button",
    {
      type: "button",
      class: "secondary",
      id: "cmd-refresh",
      "data-i18n": "command.refresh",
      onclick: () => refreshAll().catch(showError),
    },
    t("command.refresh"),
  );
  const mapBox = h("div", { class: "cmd-map", id: "cmd-map" });
  const legend = h("div", { class: "cmd-legend", id: "cmd-legend" });
  const mapStatus = h("p", { class: "muted cmd-map-status" });
  const panel = casePanel();
  const boards = h("section", { class: "cmd-boards card" }, tabBar, boardBody);
  const mapCard = h(
    "section",
    { class: "cmd-map-card card" },
    h(
      "div",
      { class: "cmd-map-head" },
      h("h2", { "data-i18n": "command.map.title" }, t("command.map.title")),
      legend,
    ),
    mapBox,
    mapStatus,
  );
  const main = h(
    "section",
    { class: "cmd-main" },
    h(
      "div",
      { class: "page-top cmd-top" },
      h("h1", { "data-i18n": "page.command" }, t("page.command")),
      updated,
      refreshButton,
    ),
    h("div", { class: "cmd-grid" }, boards, mapCard),
  );
  ctx.main.replaceChildren(h("div", { class: "panel-layout cmd-layout" }, main, panel));

  function syncURL() {
    const q = new URLSearchParams();
    q.set("tab", state.tab);
    if (state.kind) q.set("kind", state.kind);
    if (state.case) q.set("case", state.case);
    window.history.replaceState(null, "", `${window.location.pathname}?${q}`);
  }

  // --- data -----------------------------------------------------------------------------------

  /** A refresh reloads as many items as the board shows (at least a page). */
  const shown = (tab) =>
    Math.min(MAX_PAGE, Math.max(PAGE_SIZE, data[tab] ? data[tab].items.length : 0));
  const LOADERS = {
    dispatch: () => getJSON(`/api/command/dispatch${query({ limit: shown("dispatch") })}`),
    approvals: () => getJSON(`/api/command/approvals${query({ kind: state.kind })}`),
    overdue: () => getJSON(`/api/command/overdue${query({ limit: shown("overdue") })}`),
    coordination: () => getJSON("/api/cases/coordination"),
    departments: () => getJSON("/api/command/departments"),
  };

  async function loadTab(tab) {
    data[tab] = await LOADERS[tab]();
  }

  /** "加载更多": the next page appended (a case already shown is not repeated). */
  const MORE = {
    dispatch: () =>
      getJSON(
        `/api/command/dispatch${query({ limit: PAGE_SIZE, after: data.dispatch.next_after })}`,
      ),
    overdue: () =>
      getJSON(
        `/api/command/overdue${query({ limit: PAGE_SIZE, offset: data.overdue.items.length })}`,
      ),
  };

  async function loadMore(tab) {
    const before = data[tab];
    const more = await MORE[tab]();
    if (data[tab] !== before) return; // reloaded meanwhile
    const have = new Set(before.items.map((c) => c.case_no));
    data[tab] = {
      ...more,
      items: [...before.items, ...more.items.filter((c) => !have.has(c.case_no))],
    };
    data[tab].count = data[tab].items.length;
    drawBoard();
  }

  async function loadCounts() {
    data.counts = await getJSON("/api/command/counts");
    data.loadedAt = new Date().toISOString();
  }

  async function departments() {
    if (!departmentList) departmentList = await getJSON("/api/departments?active=true");
    return departmentList;
  }

  /** Counts, the open board and the map's cases, all at once. */
  async function refreshAll() {
    const mine = ++generation;
    const jobs = [loadCounts(), loadTab(state.tab), map.loadCases()];
    const results = await Promise.allSettled(jobs);
    if (mine !== generation) return;
    for (const r of results) if (r.status === "rejected") showError(r.reason);
    drawTabs();
    drawBoard();
  }

  async function switchTab(tab) {
    state.tab = tab;
    syncURL();
    drawTabs();
    if (!data[tab]) boardBody.replaceChildren(h("p", { class: "muted" }, t("status.loading")));
    else drawBoard();
    try {
      await loadTab(tab);
      drawBoard();
    } catch (err) {
      showError(err);
    }
  }

  // --- drawing: tabs --------------------------------------------------------------------------

  function tabCount(tab) {
    const c = data.counts;
    if (!c) return null;
    if (tab === "dispatch") return c.dispatch;
    if (tab === "coordination") return c.coordination;
    if (tab === "overdue") return c.overdue;
    if (tab === "approvals") return KINDS.reduce((n, k) => n + (c.approvals[k] || 0), 0);
    return null;
  }

  function drawTabs() {
    tabBar.replaceChildren(
      ...TABS.map((tab) => {
        const n = tabCount(tab);
        return h(
          "button",
          {
            type: "button",
            role: "tab",
            class: `cmd-tab${tab === state.tab ? " active" : ""}${tab === "overdue" ? " cmd-tab-red" : ""}`,
            id: `cmd-tab-${tab}`,
            dataset: { tab },
            "aria-selected": String(tab === state.tab),
            "aria-controls": "cmd-board",
            onclick: () => switchTab(tab),
          },
          h("span", { class: "cmd-tab-name" }, t(`command.tab.${tab}`)),
          n == null ? null : h("span", { class: "count", dataset: { count: tab } }, String(n)),
        );
      }),
    );
    updated.textContent = data.loadedAt
      ? t("command.updated", { time: formatDateTime(data.loadedAt, { seconds: true }) })
      : "";
  }

  /** Forms bound on the current board (lib/form.js); unbound when the board is redrawn. */
  let bound = [];

  const kit = commandKit({
    state,
    openCase: (no) => openCase(no),
    refreshAll: () => refreshAll(),
    reloadCase: () => view.reload(),
    departments,
    bind: (controller) => bound.push(controller),
  });
  const more = (tab) => () => loadMore(tab);
  const DRAW = {
    dispatch: () => drawDispatch(kit, data.dispatch, more("dispatch")),
    approvals: () =>
      drawApprovals(kit, data.approvals, {
        kind: state.kind,
        chooseKind: (kind) => {
          state.kind = kind;
          syncURL();
          switchTab("approvals");
        },
      }),
    overdue: () =>
      drawOverdue(kit, data.overdue, {
        selected: state.case,
        openCase: (no) => openCase(no),
        more: more("overdue"),
      }),
    coordination: () => drawCoordination(kit, data.coordination),
    departments: () => drawDepartments(kit, data.departments),
  };

  function drawBoard() {
    for (const c of bound) c.destroy();
    bound = [];
    const draw = DRAW[state.tab];
    if (!data[state.tab]) {
      boardBody.replaceChildren(h("p", { class: "muted" }, t("status.loading")));
      return;
    }
    boardBody.replaceChildren(...[draw()].flat().filter(Boolean));
    boardBody.setAttribute("aria-labelledby", `cmd-tab-${state.tab}`);
  }

  // --- the map and the case panel -------------------------------------------------------------

  const map = commandMap({ mapBox, legend, mapStatus, openCase: (no) => openCase(no) });
  const view = caseView(panel, {
    onChange: () => refreshAll().catch(showError),
    onClose: () => closeCase(),
  });

  function markSelected() {
    showCasePanel(panel, boardBody, state.case);
  }

  async function openCase(no) {
    state.case = no;
    syncURL();
    markSelected();
    map.resize();
    await view.load(no);
  }

  function closeCase() {
    state.case = "";
    syncURL();
    markSelected();
    map.resize();
  }

  // --- start ----------------------------------------------------------------------------------

  ctx.onLanguage(() => {
    drawTabs();
    drawBoard();
    map.drawLegend();
  });
  drawTabs();
  drawBoard();
  syncURL();
  // Usable first: counts and the open board; the case map (MapLibre, outlines, points) loads
  // after the first paint (lib/lazy.js), still counted by window.gridgov.settled().
  const started = await Promise.allSettled([
    loadCounts(),
    loadTab(state.tab),
    departments(),
    getJSON("/api/dashboard/cases.geojson").then((fc) => map.setData(fc)),
  ]);
  for (const r of started) if (r.status === "rejected") showError(r.reason);
  await map.setCases();
  drawTabs();
  drawBoard();
  background(map.start);
  if (state.case) await openCase(state.case);

  /** True while the dispatcher is filling something in on the board (no auto-refresh then). */
  function busyBoard() {
    const active = document.activeElement;
    if (active && boardBody.contains(active) && active.matches("input, select, textarea")) {
      return true;
    }
    if (boardBody.querySelector("form.cmd-decision:not([hidden]):not(.cmd-approve-form)")) {
      return true;
    }
    return [...boardBody.querySelectorAll(".cmd-choose:not([hidden]) select")].some(
      (el) => el.value,
    );
  }

  const timer = window.setInterval(() => {
    if (document.visibilityState === "visible" && !busyBoard()) refreshAll().catch(showError);
  }, REFRESH_MS);
  window.addEventListener("pagehide", () => window.clearInterval(timer));
  window.gridgov.command = {
    refresh: refreshAll,
    openCase,
    closeCase,
    switchTab,
    loadMore,
    state,
    data,
    view,
    cases: () => map.cases(),
  };
}
