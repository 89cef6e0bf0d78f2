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
// Every action sends the version the dispatcher saw (`expected_version`); a 409 says the case was
// changed by someone else, with its current state, and reloads the boards. The view lives in the
// URL (?tab=&kind=&case=), so a reload or a trip through the login page comes back to it.

import { getJSON, isAbort, postJSON, query } from "../lib/api.js";
import { lightBadge, stateBadge, urgencyBadge } from "../lib/badges.js";
import { caseView } from "../lib/case_view.js";
import { casePanel, h, showCasePanel } from "../lib/dom.js";
import { bindForm, buttons, field, input, select, textarea } from "../lib/form.js";
import { label, t } from "../lib/i18n.js";
import { background } from "../lib/lazy.js";
import { ensureMapLibre } from "../lib/maps.js";
import { showError, toast } from "../lib/notice.js";
import { formatDateTime, formatDuration, toLocalInput, toUTC } from "../lib/time.js";

const TABS = ["dispatch", "approvals", "overdue", "coordination", "departments"];
const KINDS = ["return", "extension", "hang", "escalation"];
/** kind → [approve action, refuse action] (gridgov/cases/table.py). */
const DECISIONS = {
  return: ["approve_return", "deny_return"],
  extension: ["approve_extension", "deny_extension"],
  hang: ["approve_hang", "deny_hang"],
  escalation: ["accept_escalation", "decline_escalation"],
};
const PAGE_SIZE = 50;
const REFRESH_MS = 60_000;
const GRID_MIN_ZOOM = 13;
const FALLBACK_CENTER = [116.4074, 39.9042];
const EMPTY = { type: "FeatureCollection", features: [] };
export const LIGHT_COLORS = { red: "#dc2626", yellow: "#f59e0b", green: "#16a34a", none: "#64748b" };

const enc = encodeURIComponent;

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

  const LOADERS = {
    dispatch: () => getJSON(`/api/command/dispatch${query({ limit: PAGE_SIZE })}`),
    approvals: () => getJSON(`/api/command/approvals${query({ kind: state.kind })}`),
    overdue: () => getJSON(`/api/command/overdue${query({ limit: PAGE_SIZE })}`),
    coordination: () => getJSON("/api/cases/coordination"),
    departments: () => getJSON("/api/command/departments"),
  };

  async function loadTab(tab) {
    data[tab] = await LOADERS[tab]();
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
    const jobs = [loadCounts(), loadTab(state.tab), loadCases()];
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

  function drawBoard() {
    for (const c of bound) c.destroy();
    bound = [];
    const draw = {
      dispatch: drawDispatch,
      approvals: drawApprovals,
      overdue: drawOverdue,
      coordination: drawCoordination,
      departments: drawDepartments,
    }[state.tab];
    if (!data[state.tab]) {
      boardBody.replaceChildren(h("p", { class: "muted" }, t("status.loading")));
      return;
    }
    boardBody.replaceChildren(...[draw()].flat().filter(Boolean));
    boardBody.setAttribute("aria-labelledby", `cmd-tab-${state.tab}`);
  }

  // --- shared pieces --------------------------------------------------------------------------

  function caseLink(no) {
    return h(
      "button",
      {
        type: "button",
        class: "link-button case-link",
        dataset: { open: no },
        onclick: () => openCase(no),
      },
      no,
    );
  }

  function itemHead(c, ...extra) {
    return h(
      "div",
      { class: "cmd-item-head" },
      caseLink(c.case_no),
      h("span", { class: "cmd-subclass" }, c.subclass_name || c.subclass_code),
      urgencyBadge(c.urgency),
      stateBadge(c.state),
      lightBadge(c.light),
      ...extra,
    );
  }

  function dueText(c) {
    if (!c.due_at) return null;
    const parts = [
      h(
        "span",
        { class: "cmd-due" },
        c.due_step ? `${label("step", c.due_step)} ` : "",
        t("time.due", { time: formatDateTime(c.due_at) }),
      ),
    ];
    if (c.overdue_seconds > 0) {
      parts.push(
        h(
          "span",
          { class: "cmd-overdue", dataset: { overdue: String(c.overdue_seconds) } },
          t("command.overdue_by", { duration: formatDuration(c.overdue_seconds) }),
        ),
      );
    }
    return parts;
  }

  function meta(...parts) {
    return h("p", { class: "cmd-meta muted" }, ...parts.flat().filter(Boolean));
  }

  function empty(key) {
    return h("p", { class: "muted cmd-empty", "data-i18n": key }, t(key));
  }

  function conflict(err) {
    toast(t("case.conflict_detail", { state: label("state", err.where.state) }), {
      kind: "error",
      headline: t("error.version_conflict"),
      code: err.code,
    });
  }

  /** POST one action; a stale version is told and the boards reload; other errors rethrow. */
  async function act(c, action, payload = {}) {
    try {
      return await postJSON(`/api/cases/${enc(c.case_no)}/actions`, {
        action,
        payload,
        expected_version: c.version,
      });
    } catch (err) {
      if (err.code === "version_conflict") {
        conflict(err);
        refreshAll().catch(showError);
      }
      throw err;
    }
  }

  async function afterAction(c, action, extra = {}) {
    toast(t("command.done", { action: label("action", action), no: c.case_no, ...extra }), {
      kind: "success",
    });
    await refreshAll();
    if (state.case === c.case_no) await view.reload();
  }

  /** A button that runs `job` once at a time (disabled while it runs). */
  function actionButton(key, job, { primary = false, act: name = null } = {}) {
    const button = h(
      "button",
      {
        type: "button",
        class: primary ? "primary" : "secondary",
        "data-i18n": key,
        dataset: name ? { act: name } : {},
      },
      t(key),
    );
    button.addEventListener("click", async () => {
      if (button.disabled) return;
      button.disabled = true;
      try {
        await job();
      } catch (err) {
        if (err.code !== "version_conflict") showError(err);
      } finally {
        button.disabled = false;
      }
    });
    return button;
  }

  function departmentName(code) {
    const d = (departmentList || []).find((x) => x.code === code);
    return d ? d.name : code;
  }

  /** The "choose another department" row: a select of active departments and a dispatch button. */
  function chooseDepartment(c, { preferred = null, open = false } = {}) {
    const box = h("div", { class: "cmd-choose", hidden: !open });
    const pick = select("department_code", [], {
      required: true,
      empty: t("form.choose"),
      labelKey: "command.choose_department",
    });
    pick.setAttribute("aria-label", t("command.choose_department"));
    departments()
      .then((list) => {
        for (const d of list) pick.append(h("option", { value: d.code }, `${d.name}（${d.code}）`));
        if (preferred) pick.value = preferred;
      })
      .catch(showError);
    box.append(
      pick,
      actionButton(
        "command.dispatch_to",
        async () => {
          if (!pick.value) {
            pick.setAttribute("aria-invalid", "true");
            pick.focus();
            return;
          }
          await act(c, "dispatch", { department_code: pick.value });
          await afterAction(c, "dispatch");
        },
        { primary: true, act: "dispatch-chosen" },
      ),
    );
    return box;
  }

  // --- 派遣 -------------------------------------------------------------------------------------

  function drawDispatch() {
    const list = data.dispatch;
    if (!list.items.length) return empty("command.dispatch.empty");
    return [
      h(
        "ul",
        { class: "cmd-list", id: "dispatch-list" },
        ...list.items.map((c) => {
          const s = c.suggestion;
          const choose = chooseDepartment(c, { preferred: s.department_code });
          return h(
            "li",
            { class: "cmd-item", dataset: { caseNo: c.case_no, version: String(c.version) } },
            itemHead(c),
            meta(
              h("span", { class: "code" }, c.grid_code),
              t("command.waiting", { duration: formatDuration(c.waiting_seconds) }),
              dueText(c),
            ),
            h(
              "div",
              { class: "cmd-suggestion", dataset: { department: s.department_code } },
              h("span", { class: "muted", "data-i18n": "command.suggested" }, t("command.suggested")),
              " ",
              h("strong", { class: "cmd-suggested-name" }, s.department_name || s.department_code),
              " ",
              h("span", { class: "code" }, s.department_code),
              s.reason
                ? h(
                    "p",
                    { class: "cmd-reason" },
                    h("span", { class: "muted" }, t("command.reason")),
                    " ",
                    s.reason,
                  )
                : null,
            ),
            h(
              "div",
              { class: "cmd-actions" },
              actionButton(
                "command.dispatch_suggested",
                async () => {
                  await act(c, "dispatch", { department_code: s.department_code });
                  await afterAction(c, "dispatch");
                },
                { primary: true, act: "dispatch-suggested" },
              ),
              h(
                "button",
                {
                  type: "button",
                  class: "secondary",
                  dataset: { act: "choose" },
                  "data-i18n": "command.choose_other",
                  onclick: () => {
                    choose.hidden = !choose.hidden;
                    if (!choose.hidden) choose.querySelector("select")?.focus();
                  },
                },
                t("command.choose_other"),
              ),
            ),
            choose,
          );
        }),
      ),
      list.total > list.items.length
        ? h("p", { class: "muted" }, t("command.shown", { n: list.items.length, total: list.total }))
        : null,
    ];
  }

  // --- 审批 -------------------------------------------------------------------------------------

  function kindChips() {
    const counts = data.approvals.counts;
    const chip = (kind) =>
      h(
        "button",
        {
          type: "button",
          class: `cmd-chip${state.kind === kind ? " active" : ""}`,
          dataset: { kind: kind || "all" },
          "aria-pressed": String(state.kind === kind),
          onclick: () => {
            state.kind = kind;
            syncURL();
            switchTab("approvals");
          },
        },
        t(kind ? `command.kind.${kind}` : "form.all"),
        " ",
        h(
          "span",
          { class: "count" },
          String(kind ? counts[kind] || 0 : KINDS.reduce((n, k) => n + (counts[k] || 0), 0)),
        ),
      );
    return h("div", { class: "cmd-chips" }, chip(""), ...KINDS.map(chip));
  }

  function requestLines(c) {
    const r = c.request;
    if (!r) return [];
    const out = [
      meta(
        c.department_name
          ? h("span", {}, c.department_name, " ", h("span", { class: "code" }, c.department_code))
          : null,
        t("command.requested_by", {
          who: r.actor_name || label("role", r.role),
          time: formatDateTime(r.at),
        }),
        t("command.waiting", { duration: formatDuration(c.waiting_seconds) }),
      ),
    ];
    if (r.reason) {
      out.push(
        h(
          "p",
          { class: "cmd-reason" },
          h("span", { class: "muted" }, t("command.reason")),
          " ",
          h("span", { class: "cmd-request-reason" }, r.reason),
        ),
      );
    }
    if (c.kind === "extension") {
      out.push(
        h(
          "p",
          { class: "cmd-extension" },
          r.due_at
            ? h(
                "span",
                { class: "cmd-asked-due", dataset: { due: r.due_at } },
                t("command.asked_due", { time: formatDateTime(r.due_at) }),
              )
            : null,
          " ",
          c.due_at
            ? h("span", { class: "muted" }, t("command.current_due", { time: formatDateTime(c.due_at) }))
            : null,
        ),
      );
    }
    return out;
  }

  /** An inline form for a decision that needs a field (a reason, 延期's due time). */
  function decisionForm(c, action, fields, submitKey) {
    const form = h("form", { class: "cmd-decision", dataset: { action } });
    form.append(
      ...fields,
      buttons(submitKey, {
        cancel: () => {
          controller.reset();
          controller.clearDraft();
          form.hidden = true;
        },
      }),
    );
    const controller = bindForm(form, {
      draft: `command:${c.case_no}:${action}`,
      resetOnSuccess: false,
      submit: (values) => {
        const payload = {};
        if ("reason" in values) payload.reason = values.reason.trim();
        if ("due_at" in values) {
          const due = toUTC(values.due_at);
          if (!due) throw Object.assign(new Error(t("command.bad_due")), { where: { field: "due_at" } });
          payload.due_at = due;
        }
        return act(c, action, payload);
      },
      onSuccess: () => afterAction(c, action),
    });
    bound.push(controller);
    return { form, controller };
  }

  function refuseForm(c, action) {
    const { form, controller } = decisionForm(
      c,
      action,
      [field("command.refuse_reason", textarea("reason", { required: true, rows: 2 }), { required: true })],
      `action.${action}`,
    );
    if (!controller.restored) form.hidden = true;
    return form;
  }

  function drawApprovals() {
    const list = data.approvals;
    const items = list.items.map((c) => {
      const [approve, refuse] = DECISIONS[c.kind];
      const refuseBox = refuseForm(c, refuse);
      const approveParts = [];
      if (c.kind === "extension") {
        const due = input("due_at", { type: "datetime-local", required: true });
        due.value = toLocalInput(c.request && c.request.due_at ? c.request.due_at : c.due_at);
        const { form } = decisionForm(
          c,
          approve,
          [field("command.approve_due", due, { required: true })],
          `action.${approve}`,
        );
        form.classList.add("cmd-approve-form");
        form.querySelector('button[type="submit"]').dataset.act = approve;
        const cancel = form.querySelector(".form-buttons .secondary");
        if (cancel) cancel.remove(); // the form is the approval itself: nothing to cancel
        approveParts.push(form);
      } else {
        approveParts.push(
          actionButton(
            `action.${approve}`,
            async () => {
              await act(c, approve, {});
              await afterAction(c, approve);
            },
            { primary: true, act: approve },
          ),
        );
      }
      return h(
        "li",
        { class: "cmd-item", dataset: { caseNo: c.case_no, kind: c.kind, version: String(c.version) } },
        itemHead(c, h("span", { class: `badge cmd-kind cmd-kind-${c.kind}` }, t(`command.kind.${c.kind}`))),
        ...requestLines(c),
        h(
          "div",
          { class: "cmd-actions" },
          ...approveParts,
          h(
            "button",
            {
              type: "button",
              class: "secondary",
              dataset: { act: refuse },
              onclick: () => {
                refuseBox.hidden = !refuseBox.hidden;
                if (!refuseBox.hidden) refuseBox.querySelector("textarea")?.focus();
              },
            },
            label("action", refuse),
          ),
        ),
        refuseBox,
      );
    });
    return [
      kindChips(),
      items.length ? h("ul", { class: "cmd-list", id: "approval-list" }, ...items) : empty("command.approvals.empty"),
    ];
  }

  // --- 红灯 -------------------------------------------------------------------------------------

  function drawOverdue() {
    const list = data.overdue;
    if (!list.items.length) return empty("command.overdue.empty");
    const cols = [
      "command.col.case_no",
      "command.col.subclass",
      "command.col.state",
      "command.col.department",
      "command.col.step",
      "command.col.due_at",
      "command.col.overdue",
    ];
    const table = h(
      "table",
      { class: "case-table cmd-table", id: "overdue-table" },
      h("thead", {}, h("tr", {}, ...cols.map((key) => h("th", { scope: "col", "data-i18n": key }, t(key))))),
      h(
        "tbody",
        {},
        ...list.items.map((c) =>
          h(
            "tr",
            {
              tabindex: "0",
              class: c.case_no === state.case ? "selected" : null,
              dataset: { caseNo: c.case_no },
              onclick: () => openCase(c.case_no),
              onkeydown: (e) => {
                if (e.key === "Enter" || e.key === " ") {
                  e.preventDefault();
                  openCase(c.case_no);
                }
              },
            },
            h("td", { class: "case-no", "data-label": t(cols[0]) }, c.case_no),
            h("td", { "data-label": t(cols[1]) }, c.subclass_name || c.subclass_code),
            h("td", { "data-label": t(cols[2]) }, stateBadge(c.state)),
            h("td", { "data-label": t(cols[3]) }, c.department_name || c.department_code || t("value.none")),
            h("td", { "data-label": t(cols[4]) }, c.due_step ? label("step", c.due_step) : t("value.none")),
            h("td", { "data-label": t(cols[5]) }, formatDateTime(c.due_at)),
            h(
              "td",
              { class: "cmd-overdue", "data-label": t(cols[6]), dataset: { overdue: String(c.overdue_seconds) } },
              formatDuration(c.overdue_seconds),
            ),
          ),
        ),
      ),
    );
    return [
      h("div", { class: "table-wrap" }, table),
      h(
        "div",
        { class: "list-foot" },
        h("span", { class: "muted" }, t("command.shown", { n: list.items.length, total: list.total })),
        list.items.length < list.total
          ? h(
              "button",
              {
                type: "button",
                class: "secondary",
                "data-i18n": "command.more",
                onclick: async () => {
                  try {
                    const more = await getJSON(
                      `/api/command/overdue${query({ limit: PAGE_SIZE, offset: list.items.length })}`,
                    );
                    data.overdue = { ...more, items: [...list.items, ...more.items] };
                    drawBoard();
                  } catch (err) {
                    showError(err);
                  }
                },
              },
              t("command.more"),
            )
          : null,
      ),
    ];
  }

  // --- 协调 -------------------------------------------------------------------------------------

  function drawCoordination() {
    const list = data.coordination;
    if (!list.items.length) return empty("command.coordination.empty");
    return h(
      "ul",
      { class: "cmd-list", id: "coordination-list" },
      ...list.items.map((q) => {
        const c = q.case;
        return h(
          "li",
          { class: "cmd-item", dataset: { caseNo: c.case_no, version: String(c.version) } },
          itemHead({ ...c, light: null }),
          meta(
            h("span", { class: "code" }, c.grid_code),
            h(
              "span",
              { class: "cmd-age", dataset: { age: String(q.age_seconds) } },
              t("command.queue_age", { duration: formatDuration(q.age_seconds) }),
            ),
          ),
          h("p", { class: "cmd-reason" }, h("span", { class: "muted" }, t("command.reason")), " ", q.reason),
          chooseDepartment(c, { open: true }),
        );
      }),
    );
  }

  // --- 部门负荷 ---------------------------------------------------------------------------------

  function drawDepartments() {
    const load = data.departments;
    if (!load.items.length) return empty("command.departments.empty");
    const most = Math.max(1, ...load.items.map((d) => d.open));
    const cols = [
      "command.col.department",
      "command.col.open",
      "command.col.overdue_count",
      "command.col.requests",
      "command.col.load",
    ];
    return [
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "cmd-table cmd-load", id: "department-load" },
          h("thead", {}, h("tr", {}, ...cols.map((key) => h("th", { scope: "col", "data-i18n": key }, t(key))))),
          h(
            "tbody",
            {},
            ...load.items.map((d) =>
              h(
                "tr",
                { dataset: { department: d.code } },
                h("td", {}, d.name || d.code, " ", h("span", { class: "code" }, d.code)),
                h("td", { class: "num", dataset: { open: String(d.open) } }, String(d.open)),
                h(
                  "td",
                  { class: `num${d.overdue ? " cmd-overdue" : ""}`, dataset: { overdue: String(d.overdue) } },
                  String(d.overdue),
                ),
                h("td", { class: "num" }, String(d.requests)),
                h(
                  "td",
                  { class: "cmd-bar-cell" },
                  h(
                    "div",
                    {
                      class: "cmd-bar",
                      role: "img",
                      "aria-label": t("command.load_bar", { open: d.open, overdue: d.overdue }),
                      style: `width:${Math.round((100 * d.open) / most)}%`,
                    },
                    h("span", {
                      class: "cmd-bar-red",
                      style: `width:${d.open ? Math.round((100 * d.overdue) / d.open) : 0}%`,
                    }),
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
      h("p", { class: "muted" }, t("command.unassigned", { n: load.unassigned_open })),
    ];
  }

  // --- the map --------------------------------------------------------------------------------

  let map = null;
  let cases = EMPTY;
  let casesController = null;
  const gridState = { bbox: null, controller: null };

  function style() {
    const src = () => ({ type: "geojson", data: EMPTY });
    return {
      version: 8,
      name: "gridgov-command",
      sources: { district: src(), street: src(), community: src(), grid: src(), cases: src() },
      layers: [
        { id: "background", type: "background", paint: { "background-color": "#e4e7e0" } },
        { id: "district-fill", type: "fill", source: "district", paint: { "fill-color": "#f1efe8" } },
        {
          id: "grid-line",
          type: "line",
          source: "grid",
          minzoom: GRID_MIN_ZOOM,
          paint: { "line-color": "#2563eb", "line-opacity": 0.5, "line-width": 0.8 },
        },
        {
          id: "community-line",
          type: "line",
          source: "community",
          paint: { "line-color": "#7c3aed", "line-width": 0.8, "line-dasharray": [3, 2] },
        },
        { id: "street-line", type: "line", source: "street", paint: { "line-color": "#b45309", "line-width": 1.5 } },
        { id: "district-line", type: "line", source: "district", paint: { "line-color": "#b91c1c", "line-width": 2.5 } },
        {
          id: "case-point",
          type: "circle",
          source: "cases",
          layout: {
            "circle-sort-key": ["match", ["get", "light"], "red", 3, "yellow", 2, "green", 1, 0],
          },
          paint: {
            "circle-color": [
              "match",
              ["get", "light"],
              "red",
              LIGHT_COLORS.red,
              "yellow",
              LIGHT_COLORS.yellow,
              "green",
              LIGHT_COLORS.green,
              LIGHT_COLORS.none,
            ],
            "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 4, 14, 6, 17, 9],
            "circle-stroke-color": "#ffffff",
            "circle-stroke-width": 1.2,
          },
        },
      ],
    };
  }

  async function startMap() {
    const extentLoaded = getJSON("/api/map/extent").catch((err) => {
      showError(err);
      return null;
    });
    let maplibregl;
    try {
      maplibregl = await ensureMapLibre();
    } catch (err) {
      mapBox.replaceChildren(h("p", { class: "page-error" }, t("command.map.unavailable")));
      showError(err);
      return;
    }
    const extent = await extentLoaded;
    try {
      map = new maplibregl.Map({
        container: mapBox,
        style: style(),
        ...(extent && extent.bbox
          ? { bounds: extent.bbox, fitBoundsOptions: { padding: 16 } }
          : { center: FALLBACK_CENTER, zoom: 11 }),
        maxZoom: 19,
        dragRotate: false,
        pitchWithRotate: false,
        touchPitch: false,
        attributionControl: false,
      });
    } catch (err) {
      map = null; // no WebGL: the boards still work
      mapBox.replaceChildren(h("p", { class: "page-error" }, t("command.map.unavailable")));
      showError(err);
      return;
    }
    map.touchZoomRotate.disableRotation();
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    window.gridgov.map = map;
    const loaded = new Promise((resolve) => map.once("load", resolve));
    map.on("click", "case-point", (e) => {
      const f = e.features && e.features[0];
      if (f) openCase(f.properties.case_no);
    });
    map.on("mouseenter", "case-point", () => {
      map.getCanvas().style.cursor = "pointer";
    });
    map.on("mouseleave", "case-point", () => {
      map.getCanvas().style.cursor = "";
    });
    map.on("moveend", () => loadGrids());
    await loaded;
    await Promise.all([loadRegions(), loadGrids(), setCases()]);
  }

  async function loadRegions() {
    await Promise.all(
      ["district", "street", "community"].map(async (level) => {
        try {
          const fc = await getJSON(`/api/regions.geojson${query({ level })}`);
          map.getSource(level)?.setData(fc);
        } catch (err) {
          showError(err);
        }
      }),
    );
  }

  async function loadGrids() {
    if (!map || map.getZoom() < GRID_MIN_ZOOM) return;
    const b = map.getBounds();
    const view = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    const have = gridState.bbox;
    if (have && have[0] <= view[0] && have[1] <= view[1] && have[2] >= view[2] && have[3] >= view[3]) return;
    gridState.controller?.abort();
    const controller = new AbortController();
    gridState.controller = controller;
    const dx = (view[2] - view[0]) * 0.5;
    const dy = (view[3] - view[1]) * 0.5;
    const want = [view[0] - dx, view[1] - dy, view[2] + dx, view[3] + dy];
    try {
      const fc = await getJSON(`/api/grids.geojson?bbox=${want.map((n) => n.toFixed(6)).join(",")}`, {
        signal: controller.signal,
      });
      map.getSource("grid")?.setData(fc);
      gridState.bbox = want;
    } catch (err) {
      if (!isAbort(err)) showError(err);
    }
  }

  async function loadCases() {
    casesController?.abort();
    const controller = new AbortController();
    casesController = controller;
    try {
      cases = await getJSON("/api/dashboard/cases.geojson", { signal: controller.signal });
    } catch (err) {
      if (isAbort(err)) return;
      throw err;
    }
    await setCases();
  }

  async function setCases() {
    drawLegend();
    if (map && map.getSource("cases")) map.getSource("cases").setData(cases);
  }

  function drawLegend() {
    const by = { red: 0, yellow: 0, green: 0, none: 0 };
    for (const f of cases.features || []) by[f.properties.light || "none"] += 1;
    legend.replaceChildren(
      ...["red", "yellow", "green", "none"].map((light) =>
        h(
          "span",
          { class: "cmd-legend-item", dataset: { light } },
          h("span", { class: "cmd-dot", style: `background:${LIGHT_COLORS[light]}` }),
          label("light", light),
          " ",
          h("span", { class: "count", dataset: { count: light } }, String(by[light])),
        ),
      ),
    );
    mapStatus.textContent = cases.features
      ? t(cases.truncated ? "command.map.truncated" : "command.map.shown", {
          n: cases.features.length,
          total: cases.total ?? cases.features.length,
        })
      : "";
  }

  // --- the case panel -------------------------------------------------------------------------

  const view = caseView(panel, {
    onChange: () => refreshAll().catch(showError),
    onClose: () => closeCase(),
  });

  function markSelected() {
    showCasePanel(panel, boardBody, state.case);
  }

  function resizeMap() {
    if (map) window.requestAnimationFrame(() => map.resize());
  }

  async function openCase(no) {
    state.case = no;
    syncURL();
    markSelected();
    resizeMap();
    await view.load(no);
  }

  function closeCase() {
    state.case = "";
    syncURL();
    markSelected();
    resizeMap();
  }

  // --- start ----------------------------------------------------------------------------------

  ctx.onLanguage(() => {
    drawTabs();
    drawBoard();
    drawLegend();
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
    getJSON("/api/dashboard/cases.geojson").then((fc) => {
      cases = fc;
    }),
  ]);
  for (const r of started) if (r.status === "rejected") showError(r.reason);
  await setCases();
  drawTabs();
  drawBoard();
  background(startMap);
  if (state.case) await openCase(state.case);

  /** True while the dispatcher is filling something in on the board (no auto-refresh then). */
  function busyBoard() {
    const active = document.activeElement;
    if (active && boardBody.contains(active) && active.matches("input, select, textarea")) return true;
    if (boardBody.querySelector("form.cmd-decision:not([hidden]):not(.cmd-approve-form)")) return true;
    return [...boardBody.querySelectorAll(".cmd-choose:not([hidden]) select")].some((el) => el.value);
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
    state,
    data,
    view,
    cases: () => cases,
  };
}
