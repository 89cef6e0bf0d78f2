// command_boards.js — the 派遣, 红灯, 协调 and 部门负荷 boards of the command centre
// (pages/command.js; 审批 is pages/command_approvals.js). Each draws one API answer with the
// pieces of pages/command_kit.js; a paged list gets the kit's "加载更多" foot (`more()`).

import { stateBadge } from "../lib/badges.js";
import { h } from "../lib/dom.js";
import { label, t } from "../lib/i18n.js";
import { formatDateTime, formatDuration } from "../lib/time.js";

// --- 派遣 -------------------------------------------------------------------------------------

/** 派遣: each case with the suggested department and why; dispatch as suggested or choose. */
export function drawDispatch(kit, list, more) {
  const { actionButton, act, afterAction, chooseDepartment, dueText, empty, itemHead, meta } = kit;
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
    kit.pageFoot(list, more, "dispatch-foot"),
  ];
}

// --- 红灯 -------------------------------------------------------------------------------------

/** 红灯: overdue cases, longest overdue first; a row opens the case. */
export function drawOverdue(kit, list, { selected, openCase, more }) {
  if (!list.items.length) return kit.empty("command.overdue.empty");
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
    h(
      "thead",
      {},
      h("tr", {}, ...cols.map((key) => h("th", { scope: "col", "data-i18n": key }, t(key)))),
    ),
    h(
      "tbody",
      {},
      ...list.items.map((c) =>
        h(
          "tr",
          {
            tabindex: "0",
            class: c.case_no === selected ? "selected" : null,
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
          h(
            "td",
            { "data-label": t(cols[3]) },
            c.department_name || c.department_code || t("value.none"),
          ),
          h(
            "td",
            { "data-label": t(cols[4]) },
            c.due_step ? label("step", c.due_step) : t("value.none"),
          ),
          h("td", { "data-label": t(cols[5]) }, formatDateTime(c.due_at)),
          h(
            "td",
            {
              class: "cmd-overdue",
              "data-label": t(cols[6]),
              dataset: { overdue: String(c.overdue_seconds) },
            },
            formatDuration(c.overdue_seconds),
          ),
        ),
      ),
    ),
  );
  return [h("div", { class: "table-wrap" }, table), kit.pageFoot(list, more, "overdue-foot")];
}

// --- 协调 -------------------------------------------------------------------------------------

/** 协调: registered cases routing found no department for; choose one. */
export function drawCoordination(kit, list) {
  const { chooseDepartment, empty, itemHead, meta } = kit;
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
        h(
          "p",
          { class: "cmd-reason" },
          h("span", { class: "muted" }, t("command.reason")),
          " ",
          q.reason,
        ),
        chooseDepartment(c, { open: true }),
      );
    }),
  );
}

// --- 部门负荷 ---------------------------------------------------------------------------------

/** 部门负荷: open / overdue / waiting requests per department, with a bar. */
export function drawDepartments(kit, load) {
  if (!load.items.length) return kit.empty("command.departments.empty");
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
        h(
          "thead",
          {},
          h("tr", {}, ...cols.map((key) => h("th", { scope: "col", "data-i18n": key }, t(key)))),
        ),
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
                {
                  class: `num${d.overdue ? " cmd-overdue" : ""}`,
                  dataset: { overdue: String(d.overdue) },
                },
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
