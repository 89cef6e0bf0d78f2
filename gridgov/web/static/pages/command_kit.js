// command_kit.js — pieces every board of the command centre (pages/command.js) is built from:
// case links and item heads, due times, sending an action with the version the dispatcher saw
// (a 409 is told and the boards reload), buttons that run once at a time, the "choose another
// department" row, inline decision forms and the "显示 n / total · 加载更多" foot of a paged list.
//
//   const kit = commandKit({state, openCase, refreshAll, reloadCase, departments, bind});
//   bind(controller): the board keeps a form controller to destroy when it is redrawn.

import { postJSON } from "../lib/api.js";
import { lightBadge, stateBadge, urgencyBadge } from "../lib/badges.js";
import { h } from "../lib/dom.js";
import { bindForm, buttons, select } from "../lib/form.js";
import { label, t } from "../lib/i18n.js";
import { showError, toast } from "../lib/notice.js";
import { formatDateTime, formatDuration, toUTC } from "../lib/time.js";

const enc = encodeURIComponent;

export function commandKit({ state, openCase, refreshAll, reloadCase, departments, bind }) {
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
    if (state.case === c.case_no) await reloadCase();
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
          if (!due) {
            throw Object.assign(new Error(t("command.bad_due")), { where: { field: "due_at" } });
          }
          payload.due_at = due;
        }
        return act(c, action, payload);
      },
      onSuccess: () => afterAction(c, action),
    });
    bind(controller);
    return { form, controller };
  }

  /** "显示 n / total 件" and, while more wait on the server, a "加载更多" button (`more()`). */
  function pageFoot(list, more, id = null) {
    return h(
      "div",
      { class: "list-foot", id },
      h(
        "span",
        { class: "muted", dataset: { total: String(list.total) } },
        t("command.shown", { n: list.items.length, total: list.total }),
      ),
      list.items.length < list.total ? actionButton("command.more", more, { act: "more" }) : null,
    );
  }

  return {
    caseLink,
    itemHead,
    dueText,
    meta,
    empty,
    act,
    afterAction,
    actionButton,
    chooseDepartment,
    decisionForm,
    pageFoot,
  };
}
