// department.js — 专业部门 (/department; department users).
//
// My tasks (GET /api/department/tasks): the department's open cases, overdue (红灯) first, then
// 黄灯, then by due time; 待办 (待签收 / 处置中 / 返工) and 等待中 (a request waiting for the
// dispatcher, hung, escalated, reported back and waiting for the check). A row opens the case in
// the side panel: the department's work on top, the shared case detail (lib/case_view.js) under
// it. The work area offers exactly the actions GET /api/cases/{no} lists in `allowed_actions`,
// each with the payload gridgov/cases/table.py requires:
//   accept             签收                      —
//   report_back        处置反馈                  result + photos (uploaded at once, POST /api/media)
//   request_extension  申请延期                  days + hours → due_at, reason
//   request_return     申请回退                  reason
//   request_hang       申请挂账                  reason
//   escalate           上报上级                  reason
// and any other allowed action with the fields lib/case_view.js knows for it. Every action sends
// `expected_version`; a 409 says someone else changed the case and reloads it. Forms keep drafts
// (lib/form.js), so a trip through the login page keeps what was typed. The view lives in the URL
// (?group=&case=). A case of another department is refused by the server (403/404): the error's
// translated headline is shown and the panel says the case cannot be opened.
//
// The list comes a page at a time (sorted and paged by the server, deadline first); "加载更多"
// appends the next page and a refresh reloads as many tasks as are shown. Modules:
// department_work.js (the case panel and its forms), department_fields.js (the forms' fields).

import { getJSON, query } from "../lib/api.js";
import { lightBadge, stateBadge, urgencyBadge } from "../lib/badges.js";
import { casePanel, h } from "../lib/dom.js";
import { label, t } from "../lib/i18n.js";
import { showError } from "../lib/notice.js";
import { formatDateTime, formatDuration } from "../lib/time.js";
import { departmentWork } from "./department_work.js";

const GROUPS = ["todo", "waiting", "all"];
const PAGE_SIZE = 50;
const MAX_PAGE = 500; // the API's largest page (gridgov/cases/command_api.py MAX_LIMIT)
const REFRESH_MS = 60_000;
const enc = encodeURIComponent;

export async function mount(ctx) {
  const params = new URLSearchParams(window.location.search);
  const state = {
    group: GROUPS.includes(params.get("group")) ? params.get("group") : "todo",
    case: params.get("case") || "",
  };
  let tasks = null;
  let departmentName = null;
  let listGeneration = 0;

  // --- layout ---------------------------------------------------------------------------------

  const who = h("p", { class: "muted dept-who" });
  const chips = h("div", { class: "dept-groups", role: "group" });
  const tbody = h("tbody");
  const cols = [
    "department.col.light",
    "department.col.case_no",
    "department.col.subclass",
    "department.col.state",
    "department.col.due_at",
    "department.col.remaining",
    "department.col.grid",
  ];
  const table = h(
    "table",
    { class: "case-table dept-table", id: "task-table" },
    h(
      "thead",
      {},
      h("tr", {}, ...cols.map((key) => h("th", { scope: "col", "data-i18n": key }, t(key)))),
    ),
    tbody,
  );
  const foot = h("div", { class: "list-foot muted" });
  const workBox = h("section", { class: "dept-work", id: "dept-work", "aria-live": "polite" });
  const caseBox = h("div", { class: "dept-case" });
  const panel = casePanel(workBox, caseBox);
  const board = h(
    "section",
    { class: "dept-board" },
    h(
      "div",
      { class: "page-top dept-top" },
      h("h1", { "data-i18n": "department.title" }, t("department.title")),
      who,
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          "data-i18n": "department.refresh",
          onclick: () => refresh(),
        },
        t("department.refresh"),
      ),
    ),
    chips,
    h("div", { class: "table-wrap" }, table),
    foot,
  );
  ctx.main.replaceChildren(h("div", { class: "panel-layout dept-layout" }, board, panel));

  function syncURL() {
    const q = new URLSearchParams();
    q.set("group", state.group);
    if (state.case) q.set("case", state.case);
    window.history.replaceState(null, "", `${window.location.pathname}?${q}`);
  }

  // --- the task list --------------------------------------------------------------------------

  /** The first tasks (as many as are shown, at least a page), or with `append` the next page. */
  async function loadTasks({ append = false } = {}) {
    const mine = ++listGeneration;
    const group = state.group === "all" ? "" : state.group;
    const have = tasks && !append ? tasks.items.length : 0;
    const page = append
      ? { limit: PAGE_SIZE, offset: tasks.items.length }
      : { limit: Math.min(MAX_PAGE, Math.max(PAGE_SIZE, have)) };
    const answer = await getJSON(`/api/department/tasks${query({ group, ...page })}`);
    if (mine !== listGeneration) return;
    if (append) {
      const seen = new Set(tasks.items.map((c) => c.case_no));
      answer.items = [...tasks.items, ...answer.items.filter((c) => !seen.has(c.case_no))];
      answer.count = answer.items.length;
    }
    tasks = answer;
    drawChips();
    drawList();
  }

  async function refresh() {
    syncURL();
    try {
      await loadTasks();
    } catch (err) {
      showError(err);
    }
  }

  function drawWho() {
    const code = ctx.user.department_code;
    who.replaceChildren(
      ctx.user.name,
      code ? " · " : "",
      departmentName || "",
      code ? " " : "",
      code ? h("span", { class: "code" }, code) : "",
    );
  }

  function drawChips() {
    const counts = tasks ? tasks.counts : null;
    const n = (g) => {
      if (!counts) return "…";
      if (g === "all") return String(counts.todo + counts.waiting);
      return String(counts[g]);
    };
    chips.replaceChildren(
      ...GROUPS.map((g) =>
        h(
          "button",
          {
            type: "button",
            class: `count-chip dept-group${g === state.group ? " active" : ""}`,
            dataset: { group: g },
            "aria-pressed": String(g === state.group),
            onclick: () => {
              if (state.group !== g) tasks = null; // another list: start from its first page
              state.group = g;
              refresh();
            },
          },
          h("span", {}, t(`department.group.${g}`)),
          " ",
          h("span", { class: "count", dataset: { count: g } }, n(g)),
        ),
      ),
      ...(counts && counts.overdue
        ? [
            h(
              "span",
              { class: "badge light light-red dept-overdue-count", dataset: { count: "overdue" } },
              t("department.overdue_count", { n: counts.overdue }),
            ),
          ]
        : []),
    );
  }

  function remaining(c) {
    if (!c.due_at) return h("span", { class: "muted" }, t("value.none"));
    if (c.overdue_seconds > 0) {
      return h(
        "span",
        { class: "dept-late", dataset: { overdue: String(c.overdue_seconds) } },
        t("department.overdue_by", { duration: formatDuration(c.overdue_seconds) }),
      );
    }
    const left = (new Date(c.due_at).getTime() - Date.now()) / 1000;
    return h("span", {}, t("department.time_left", { duration: formatDuration(left) }));
  }

  function drawList() {
    if (!tasks) return;
    tbody.replaceChildren(
      ...tasks.items.map((c) =>
        h(
          "tr",
          {
            tabindex: "0",
            class: c.case_no === state.case ? "selected" : null,
            dataset: { caseNo: c.case_no, state: c.state, group: c.group },
            onclick: () => openCase(c.case_no),
            onkeydown: (e) => {
              if (e.key === "Enter" || e.key === " ") {
                e.preventDefault();
                openCase(c.case_no);
              }
            },
          },
          h("td", { "data-label": t(cols[0]) }, lightBadge(c.light, { empty: true })),
          h("td", { class: "case-no", "data-label": t(cols[1]) }, c.case_no),
          h(
            "td",
            { "data-label": t(cols[2]) },
            c.subclass_name || c.subclass_code,
            " ",
            urgencyBadge(c.urgency),
          ),
          h("td", { "data-label": t(cols[3]) }, stateBadge(c.state)),
          h(
            "td",
            { "data-label": t(cols[4]) },
            c.due_at
              ? `${c.due_step ? `${label("step", c.due_step)} ` : ""}${formatDateTime(c.due_at)}`
              : t("value.none"),
          ),
          h("td", { "data-label": t(cols[5]) }, remaining(c)),
          h("td", { class: "code", "data-label": t(cols[6]) }, c.grid_code),
        ),
      ),
    );
    if (!tasks.items.length) {
      tbody.append(
        h(
          "tr",
          { class: "empty" },
          h(
            "td",
            { colspan: String(cols.length), class: "muted" },
            t(`department.empty.${state.group}`),
          ),
        ),
      );
    }
    foot.replaceChildren(
      h(
        "span",
        { dataset: { total: String(tasks.total) } },
        t("department.shown", { n: tasks.items.length, total: tasks.total }),
      ),
      tasks.items.length < tasks.total
        ? h(
            "button",
            {
              type: "button",
              class: "secondary",
              id: "dept-more",
              "data-i18n": "department.more",
              onclick: () => loadTasks({ append: true }).catch(showError),
            },
            t("department.more"),
          )
        : "",
    );
  }

  // --- the case panel: the department's work + the shared case detail -------------------------

  const work = departmentWork({
    workBox,
    caseBox,
    panel,
    list: tbody,
    state,
    syncURL,
    refresh: () => refresh(),
  });
  const openCase = (no) => work.openCase(no);
  const closeCase = () => work.closeCase();

  // --- start ----------------------------------------------------------------------------------

  ctx.onLanguage(() => {
    drawWho();
    drawChips();
    drawList();
    work.redraw();
  });
  drawWho();
  drawChips();
  syncURL();
  const code = ctx.user.department_code;
  const [listed, named] = await Promise.allSettled([
    loadTasks(),
    code ? getJSON(`/api/departments/${enc(code)}`) : Promise.resolve(null),
  ]);
  if (listed.status === "rejected") showError(listed.reason);
  if (named.status === "fulfilled" && named.value) departmentName = named.value.name;
  drawWho();
  if (state.case) await openCase(state.case);

  const timer = window.setInterval(() => {
    if (document.visibilityState === "visible" && !work.busy()) loadTasks().catch(showError);
  }, REFRESH_MS);
  window.addEventListener("pagehide", () => window.clearInterval(timer));
  window.gridgov.department = {
    refresh,
    openCase,
    closeCase,
    state,
    view: work.view,
    tasks: () => tasks,
  };
}
