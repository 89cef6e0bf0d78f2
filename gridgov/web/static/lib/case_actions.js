// case_actions.js — the action section of the shared case detail (lib/case_view.js): one button
// per `allowed_actions` entry, each opening a small form (lib/case_fields.js ACTION_FIELDS, or
// the page's own `forms[action]`), sent with `expected_version`; a 409 version_conflict says
// "案件已被他人处理" with the current state and reloads, keeping the open form while it is
// still allowed. Forms keep drafts (lib/form.js), restored after a trip through the login page.
//
//   const acts = caseActions(host, {forms});
//   host: {root, detail, caseNo, onChange, render(), load(no), applyResult(result)}
//   acts.section() → the section node; acts.closeForm({keepDraft}); acts.restoreDraftForm()

import { postJSON } from "./api.js";
import { h } from "./dom.js";
import { bindForm, buttons, draftNames, field, readDraft, textarea } from "./form.js";
import { label, t } from "./i18n.js";
import { toast } from "./notice.js";
import { ACTION_FIELDS, control, payloadOf } from "./case_fields.js";
import { heading } from "./case_parts.js";

export function caseActions(host, { forms = {} } = {}) {
  const formBox = h("div", { class: "case-action-form" });
  let openAction = null; // {action, element, controller}

  function section() {
    const allowed = host.detail.allowed_actions || [];
    return h(
      "section",
      { class: "case-actions" },
      heading("case.actions"),
      allowed.length
        ? h(
            "div",
            { class: "action-buttons" },
            ...allowed.map((action) =>
              h(
                "button",
                {
                  type: "button",
                  class: openAction && openAction.action === action ? "action active" : "action",
                  dataset: { action },
                  "aria-expanded": String(Boolean(openAction && openAction.action === action)),
                  onclick: () => toggleForm(action),
                },
                label("action", action),
              ),
            ),
          )
        : h("p", { class: "muted no-actions" }, t("case.no_actions")),
      formBox,
    );
  }

  function draftName(action) {
    return `case:${host.caseNo}:${action}`;
  }

  function toggleForm(action) {
    if (openAction && openAction.action === action) {
      closeForm({ keepDraft: false });
      host.render();
      return;
    }
    openForm(action);
  }

  function closeForm({ keepDraft }) {
    if (!openAction) return;
    openAction.controller.destroy(); // saves a pending draft…
    if (!keepDraft) openAction.controller.clearDraft(); // …which is dropped unless kept
    openAction = null;
    formBox.replaceChildren();
  }

  function restoreDraftForm() {
    if (openAction) return;
    const allowed = host.detail.allowed_actions || [];
    for (const name of draftNames(`case:${host.caseNo}:`)) {
      const action = name.split(":").pop();
      if (allowed.includes(action) && readDraft(name)) {
        openForm(action);
        return;
      }
    }
  }

  function openForm(action) {
    closeForm({ keepDraft: false });
    if (forms[action]) {
      const built = forms[action]({
        detail: host.detail,
        action,
        cancel: () => toggleForm(action),
        done: (result) => done(action, result),
      });
      formBox.replaceChildren(built.element);
      openAction = { action, element: built.element, controller: built.controller };
      markOpen(action);
      return;
    }
    const fields = ACTION_FIELDS[action] || [];
    const form = h("form", {
      class: "action-form",
      dataset: { action },
      "aria-label": label("action", action),
    });
    const controls = fields.map((f) => control(f, host.caseNo));
    const hasText = fields.some((f) => f.name === "reason");
    form.append(
      h("h4", {}, label("action", action)),
      ...controls,
      hasText ? null : field("case.field.note", textarea("note", { rows: 2 })),
      buttons(`action.${action}`, { cancel: () => toggleForm(action) }),
    );
    formBox.replaceChildren(form);
    const controller = bindForm(form, {
      draft: draftName(action),
      submit: (values) => send(action, fields, values),
      onSuccess: (result) => done(action, result),
    });
    openAction = { action, element: form, controller };
    markOpen(action);
  }

  function markOpen(action) {
    for (const b of host.root.querySelectorAll(".action-buttons button")) {
      const on = b.dataset.action === action;
      b.classList.toggle("active", on);
      b.setAttribute("aria-expanded", String(on));
    }
    openAction.element.querySelector("input:not([type=hidden]), select, textarea")?.focus();
  }

  /** 合并 goes through POST /api/cases/{no}/merge (both events in one transaction); every other
   * action through POST /api/cases/{no}/actions. */
  function post(action, payload, values) {
    const no = encodeURIComponent(host.caseNo);
    const version = host.detail.version;
    if (action === "merge") {
      return postJSON(`/api/cases/${no}/merge`, {
        into: String(values.master).trim(),
        expected_version: version,
        note: payload.note || "",
      });
    }
    return postJSON(`/api/cases/${no}/actions`, { action, payload, expected_version: version });
  }

  async function send(action, fields, values) {
    const payload = action === "merge" ? {} : await payloadOf(fields, values);
    if (action === "merge" && typeof values.note === "string" && values.note.trim()) {
      payload.note = values.note.trim();
    }
    try {
      return await post(action, payload, values);
    } catch (err) {
      if (err.code === "version_conflict") {
        const state = label("state", err.where.state);
        toast(t("case.conflict_detail", { state }), {
          kind: "error",
          headline: t("error.version_conflict"),
          code: err.code,
        });
        reloadKeepingForm();
      }
      throw err;
    }
  }

  /** Reload after a conflict; the open form (and what was typed) stays if still allowed. */
  async function reloadKeepingForm() {
    const fresh = await host.load(host.caseNo);
    if (!fresh) return;
    if (openAction && !(fresh.allowed_actions || []).includes(openAction.action)) {
      closeForm({ keepDraft: false });
      host.render();
    }
    if (host.onChange) host.onChange(fresh);
  }

  function done(action, result) {
    closeForm({ keepDraft: false });
    toast(t("case.action_done", { action: label("action", action), no: result.case_no }), {
      kind: "success",
    });
    host.applyResult(result);
  }

  return { section, closeForm, restoreDraftForm };
}
