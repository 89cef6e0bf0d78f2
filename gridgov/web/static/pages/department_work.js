// department_work.js — the department desk's case panel (pages/department.js): the work area
// (the case's status, one button per allowed action, its form) above the shared case detail
// (lib/case_view.js, without its own action section). Every action sends `expected_version`; a
// 409 says someone else changed the case and reloads it; forms keep drafts (lib/form.js).
//
//   const work = departmentWork({workBox, caseBox, panel, list, state, syncURL, refresh});
//   await work.openCase(no); work.closeCase(); work.redraw(); work.busy(); work.view

import { postJSON } from "../lib/api.js";
import { stateBadge } from "../lib/badges.js";
import { caseView } from "../lib/case_view.js";
import { h, showCasePanel } from "../lib/dom.js";
import { bindForm, buttons, readDraft } from "../lib/form.js";
import { label, t } from "../lib/i18n.js";
import { toast } from "../lib/notice.js";
import {
  actionLabel,
  extendedDue,
  fieldsFor,
  OWN,
  payloadOf,
  runningHandleDue,
  submitKey,
  waitingNote,
} from "./department_fields.js";

const enc = encodeURIComponent;

export function departmentWork({ workBox, caseBox, panel, list, state, syncURL, refresh }) {
  let work = null; // {action, controller} of the open action form

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
    showCasePanel(panel, list, no);
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
    showCasePanel(panel, list, "");
  }

  /** Which case version the work area shows (a reload of the same version keeps open forms). */
  let drawn = null;

  function drawWork(detail, { force = true } = {}) {
    if (!detail || detail.case_no !== state.case) return;
    const key = `${detail.case_no}@${detail.version}`;
    if (!force && drawn === key) return;
    drawn = key;
    const allowed = detail.allowed_actions || [];
    const ordered = [
      ...OWN.filter((a) => allowed.includes(a)),
      ...allowed.filter((a) => !OWN.includes(a)),
    ];
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
    const reopen =
      openAction && ordered.includes(openAction) ? openAction : draftedAction(detail, ordered);
    if (reopen) openForm(detail, reopen, formBox);
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

  function openForm(detail, action, formBox) {
    closeWork();
    const form = h("form", {
      class: "action-form dept-form",
      id: `dept-form-${action}`,
      dataset: { action },
      "aria-label": actionLabel(action),
    });
    form.append(
      h("h3", {}, actionLabel(action)),
      ...fieldsFor(detail, action),
      buttons(`department.submit.${submitKey(action)}`, {
        cancel: () => toggleForm(detail, action, formBox),
      }),
    );
    formBox.replaceChildren(form);
    const no = detail.case_no;
    const controller = bindForm(form, {
      draft: draftName(no, action),
      validate: (values) =>
        action === "request_extension" &&
        !extendedDue(runningHandleDue(detail), values.days, values.hours)
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
    if (action === "request_extension")
      form.querySelector("input[name=days]")?.dispatchEvent(new Event("input"));
    form.querySelector("textarea, input:not([type=hidden]):not([type=file])")?.focus();
  }

  async function reloadCase(no) {
    const detail = await view.load(no);
    if (detail && state.case === no) drawWork(detail, { force: false });
  }

  return {
    openCase,
    closeCase,
    view,
    busy: () => Boolean(work),
    /** After a language switch: the work area again (unless a form is open). */
    redraw: () => {
      if (view.detail && !work) drawWork(view.detail);
    },
  };
}
