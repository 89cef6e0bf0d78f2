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

import { getJSON, postJSON, query } from "../lib/api.js";
import { lightBadge, stateBadge, urgencyBadge } from "../lib/badges.js";
import { ACTION_FIELDS, caseView } from "../lib/case_view.js";
import { casePanel, h, showCasePanel } from "../lib/dom.js";
import { bindForm, buttons, field, input, readDraft, textarea } from "../lib/form.js";
import { label, t } from "../lib/i18n.js";
import { showError, toast } from "../lib/notice.js";
import { photoPicker } from "../lib/pickers.js";
import { formatDateTime, formatDuration } from "../lib/time.js";

const GROUPS = ["todo", "waiting", "all"];
/** The department's own actions, in the order their buttons appear. */
const OWN = ["accept", "report_back", "request_extension", "request_return", "request_hang", "escalate"];
const HOUR_MS = 3600 * 1000;
const REFRESH_MS = 60_000;
const enc = encodeURIComponent;

/** The label of an action button: the department's wording, else the common action label. */
function actionLabel(action) {
  return OWN.includes(action) ? t(`department.action.${action}`) : label("action", action);
}

export async function mount(ctx) {
  const params = new URLSearchParams(window.location.search);
  const state = {
    group: GROUPS.includes(params.get("group")) ? params.get("group") : "todo",
    case: params.get("case") || "",
  };
  let tasks = null;
  let departmentName = null;
  let listGeneration = 0;
  let work = null; // {action, controller} of the open action form

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
    h("thead", {}, h("tr", {}, ...cols.map((key) => h("th", { scope: "col", "data-i18n": key }, t(key))))),
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

  async function loadTasks() {
    const mine = ++listGeneration;
    const group = state.group === "all" ? "" : state.group;
    const answer = await getJSON(`/api/department/tasks${query({ group })}`);
    if (mine !== listGeneration) return;
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
            c.due_at ? `${c.due_step ? `${label("step", c.due_step)} ` : ""}${formatDateTime(c.due_at)}` : t("value.none"),
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
          h("td", { colspan: String(cols.length), class: "muted" }, t(`department.empty.${state.group}`)),
        ),
      );
    }
    foot.textContent = t("department.shown", { n: tasks.items.length, total: tasks.total });
  }

  // --- the case panel: the department's work + the shared case detail -------------------------

  // The shared detail without its action section and × (the work area above offers both).
  const view = caseView(caseBox, {
    actions: false,
    onChange: (detail) => {
      drawWork(detail);
      refresh();
    },
  });

  function closeWork() {
    if (work) {
      work.controller.destroy();
      work = null;
    }
  }

  async function openCase(no) {
    closeWork();
    state.case = no;
    syncURL();
    showCasePanel(panel, tbody, no);
    workBox.replaceChildren(workHead(), h("p", { class: "muted" }, t("status.loading")));
    const detail = await view.load(no);
    if (state.case !== no) return;
    if (!detail) {
      workBox.replaceChildren(
        workHead(),
        h(
          "p",
          { class: "page-error dept-refused", dataset: { caseNo: no } },
          t("department.case_unavailable", { no }),
        ),
      );
      return;
    }
    drawWork(detail);
  }

  /** The panel's heading and its close button (the case detail's own one is hidden here). */
  function workHead() {
    return h(
      "div",
      { class: "dept-work-head" },
      h("h2", { "data-i18n": "department.work" }, t("department.work")),
      h(
        "button",
        {
          type: "button",
          class: "close dept-close",
          "data-i18n-aria-label": "case.close",
          "aria-label": t("case.close"),
          onclick: () => closeCase(),
        },
        "×",
      ),
    );
  }

  function closeCase() {
    closeWork();
    state.case = "";
    syncURL();
    showCasePanel(panel, tbody, "");
  }

  function runningHandleDue(detail) {
    const handle = (detail.deadlines || []).find((d) => d.step === "handle" && !d.stopped_at);
    return handle && handle.due_at ? handle.due_at : null;
  }

  /** Which case version the work area shows (a reload of the same version keeps open forms). */
  let drawn = null;

  function drawWork(detail, { force = true } = {}) {
    if (!detail || detail.case_no !== state.case) return;
    const key = `${detail.case_no}@${detail.version}`;
    if (!force && drawn === key) return;
    drawn = key;
    const allowed = detail.allowed_actions || [];
    const ordered = [...OWN.filter((a) => allowed.includes(a)), ...allowed.filter((a) => !OWN.includes(a))];
    const formBox = h("div", { class: "dept-form-box" });
    const openAction = work ? work.action : null;
    closeWork();
    workBox.replaceChildren(
      workHead(),
      h(
        "p",
        { class: "dept-status" },
        h("span", { class: "case-no" }, detail.case_no),
        " ",
        stateBadge(detail.state),
        " ",
        waitingNote(detail),
      ),
      ordered.length
        ? h(
            "div",
            { class: "action-buttons dept-actions" },
            ...ordered.map((action) =>
              h(
                "button",
                {
                  type: "button",
                  class: action === "accept" || action === "report_back" ? "primary" : "action",
                  dataset: { action },
                  "aria-expanded": "false",
                  onclick: () => toggleForm(detail, action, formBox),
                },
                actionLabel(action),
              ),
            ),
          )
        : h("p", { class: "muted dept-no-actions" }, t("department.no_actions")),
      formBox,
    );
    const reopen = openAction && ordered.includes(openAction) ? openAction : draftedAction(detail, ordered);
    if (reopen) openForm(detail, reopen, formBox);
  }

  function waitingNote(detail) {
    const key = {
      return_requested: "department.waiting.return",
      extension_requested: "department.waiting.extension",
      hang_requested: "department.waiting.hang",
      escalated: "department.waiting.escalation",
      hung: "department.waiting.hung",
      handled: "department.waiting.check",
      checking: "department.waiting.check",
      checked: "department.waiting.close",
    }[detail.state];
    return key ? h("span", { class: "muted" }, t(key)) : null;
  }

  function draftName(no, action) {
    return `department:${no}:${action}`;
  }

  /** An action whose form has a saved draft (after a trip through the login page). */
  function draftedAction(detail, actions) {
    return actions.find((action) => readDraft(draftName(detail.case_no, action))) || null;
  }

  function toggleForm(detail, action, formBox) {
    if (work && work.action === action) {
      work.controller.clearDraft();
      closeWork();
      formBox.replaceChildren();
      markButtons(null);
      return;
    }
    openForm(detail, action, formBox);
  }

  function markButtons(action) {
    for (const b of workBox.querySelectorAll(".dept-actions button")) {
      const on = b.dataset.action === action;
      b.classList.toggle("active", on);
      b.setAttribute("aria-expanded", String(on));
    }
  }

  // --- action forms ---------------------------------------------------------------------------

  function reasonField() {
    return field("department.field.reason", textarea("reason", { required: true, rows: 3, maxlength: "2000" }), {
      required: true,
    });
  }

  function noteField() {
    return field("department.field.note", textarea("note", { rows: 2, maxlength: "2000" }));
  }

  /** The extension form: days + hours from the current deadline (or now, when it has passed). */
  function extensionFields(detail) {
    const days = input("days", { type: "number", min: "0", max: "365", step: "1", inputmode: "numeric" });
    const hours = input("hours", { type: "number", min: "0", max: "23", step: "1", inputmode: "numeric" });
    days.value = "1";
    hours.value = "0";
    const current = runningHandleDue(detail);
    const preview = h("p", { class: "dept-preview", id: "extension-preview" });
    const draw = () => {
      const due = extendedDue(current, days.value, hours.value);
      const parts = [
        current
          ? h("span", { class: "muted" }, t("department.current_due", { time: formatDateTime(current) }))
          : null,
        due
          ? h(
              "strong",
              { dataset: { due: due.toISOString() } },
              t("department.new_due", { time: formatDateTime(due) }),
            )
          : h("span", { class: "field-error" }, t("department.extension_positive")),
      ];
      preview.replaceChildren(...parts.filter(Boolean));
    };
    for (const el of [days, hours]) {
      el.addEventListener("input", draw);
      el.addEventListener("gridgov:set", draw);
    }
    draw();
    return [
      h(
        "div",
        { class: "field-row dept-extension" },
        field("department.field.days", days, { required: true }),
        field("department.field.hours", hours, { required: true }),
      ),
      preview,
      reasonField(),
    ];
  }

  function fieldsFor(detail, action) {
    switch (action) {
      case "accept":
        return [noteField()];
      case "report_back":
        return [
          field("department.field.result", textarea("result", { required: true, rows: 3, maxlength: "2000" }), {
            required: true,
          }),
          field(
            "department.field.photos",
            photoPicker("photos", { required: true, labelKey: "department.field.photos" }),
            { required: true, hint: "department.field.photos_hint" },
          ),
        ];
      case "request_extension":
        return extensionFields(detail);
      case "request_return":
      case "request_hang":
      case "escalate":
        return [reasonField()];
      default:
        return genericFields(action);
    }
  }

  /** Another allowed action: the text and photo fields lib/case_view.js lists for it. */
  function genericFields(action) {
    const out = [];
    for (const f of ACTION_FIELDS[action] || []) {
      if (f.kind === "text") out.push(field(f.labelKey, textarea(f.name, { required: true, rows: 3 }), { required: true }));
      else if (f.kind === "line") out.push(field(f.labelKey, input(f.name, { required: true }), { required: true }));
      else if (f.kind === "photos") {
        out.push(field(f.labelKey, photoPicker(f.name, { required: true, labelKey: f.labelKey }), { required: true }));
      }
    }
    if (!out.some((el) => el.dataset.field === "reason")) out.push(noteField());
    return out;
  }

  /** `base` (or now, if later) plus days and hours; null unless the result is in the future. */
  function extendedDue(base, days, hours) {
    const d = Number(days || 0);
    const hr = Number(hours || 0);
    if (!Number.isFinite(d) || !Number.isFinite(hr) || d < 0 || hr < 0 || d * 24 + hr <= 0) return null;
    const from = Math.max(base ? new Date(base).getTime() : 0, Date.now());
    return new Date(from + (d * 24 + hr) * HOUR_MS);
  }

  function payloadOf(detail, action, values) {
    const payload = {};
    const text = (v) => (typeof v === "string" ? v.trim() : v);
    if (action === "request_extension") {
      const due = extendedDue(runningHandleDue(detail), values.days, values.hours);
      payload.reason = text(values.reason);
      payload.due_at = due ? due.toISOString() : null;
      return payload;
    }
    for (const [name, value] of Object.entries(values)) {
      if (name === "days" || name === "hours") continue;
      const v = text(value);
      if (v == null || v === "" || (Array.isArray(v) && !v.length)) continue;
      payload[name] = v;
    }
    return payload;
  }

  function openForm(detail, action, formBox) {
    closeWork();
    const form = h("form", {
      class: "action-form dept-form",
      id: `dept-form-${action}`,
      dataset: { action },
      "aria-label": actionLabel(action),
    });
    form.append(h("h3", {}, actionLabel(action)), ...fieldsFor(detail, action), buttons(`department.submit.${submitKey(action)}`, {
      cancel: () => toggleForm(detail, action, formBox),
    }));
    formBox.replaceChildren(form);
    const no = detail.case_no;
    const controller = bindForm(form, {
      draft: draftName(no, action),
      validate: (values) =>
        action === "request_extension" && !extendedDue(runningHandleDue(detail), values.days, values.hours)
          ? { days: t("department.extension_positive") }
          : {},
      submit: async (values) => {
        try {
          return await postJSON(`/api/cases/${enc(no)}/actions`, {
            action,
            payload: payloadOf(detail, action, values),
            expected_version: detail.version,
          });
        } catch (err) {
          if (err.code === "version_conflict") {
            toast(t("case.conflict_detail", { state: label("state", err.where.state) }), {
              kind: "error",
              headline: t("error.version_conflict"),
              code: err.code,
            });
            window.setTimeout(() => reloadCase(no), 0);
          }
          throw err;
        }
      },
      onSuccess: async (result) => {
        work = null;
        controller.destroy();
        toast(t("department.done", { action: actionLabel(action), no }), { kind: "success" });
        drawWork(result);
        await Promise.all([reloadCase(no), refresh()]);
      },
    });
    work = { action, controller };
    markButtons(action);
    if (action === "request_extension") form.querySelector("input[name=days]")?.dispatchEvent(new Event("input"));
    form.querySelector("textarea, input:not([type=hidden]):not([type=file])")?.focus();
  }

  function submitKey(action) {
    return OWN.includes(action) ? action : "other";
  }

  async function reloadCase(no) {
    const detail = await view.load(no);
    if (detail && state.case === no) drawWork(detail, { force: false });
  }

  // --- start ----------------------------------------------------------------------------------

  ctx.onLanguage(() => {
    drawWho();
    drawChips();
    drawList();
    if (view.detail && !work) drawWork(view.detail);
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
    if (document.visibilityState === "visible" && !work) loadTasks().catch(showError);
  }, REFRESH_MS);
  window.addEventListener("pagehide", () => window.clearInterval(timer));
  window.gridgov.department = { refresh, openCase, closeCase, state, view, tasks: () => tasks };
}
