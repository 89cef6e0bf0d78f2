// command_approvals.js — the 审批 board of the command centre (pages/command.js): 回退 / 延期 /
// 挂账 requests and 上报上级 (GET /api/command/approvals) with chips per kind; approve (延期: the
// asked-for due time, editable) or refuse with a reason, through pages/command_kit.js.

import { h } from "../lib/dom.js";
import { field, input, textarea } from "../lib/form.js";
import { label, t } from "../lib/i18n.js";
import { formatDateTime, formatDuration, toLocalInput } from "../lib/time.js";

export const KINDS = ["return", "extension", "hang", "escalation"];
/** kind → [approve action, refuse action] (gridgov/cases/table.py). */
const DECISIONS = {
  return: ["approve_return", "deny_return"],
  extension: ["approve_extension", "deny_extension"],
  hang: ["approve_hang", "deny_hang"],
  escalation: ["accept_escalation", "decline_escalation"],
};

// --- 审批 -------------------------------------------------------------------------------------

function kindChips(counts, active, choose) {
  const chip = (kind) =>
    h(
      "button",
      {
        type: "button",
        class: `cmd-chip${active === kind ? " active" : ""}`,
        dataset: { kind: kind || "all" },
        "aria-pressed": String(active === kind),
        onclick: () => choose(kind),
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

function requestLines(kit, c) {
  const { meta } = kit;
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
          ? h(
              "span",
              { class: "muted" },
              t("command.current_due", { time: formatDateTime(c.due_at) }),
            )
          : null,
      ),
    );
  }
  return out;
}

/** An inline form for a decision that needs a field (a reason, 延期's due time). */
function refuseForm(kit, c, action) {
  const { form, controller } = kit.decisionForm(
    c,
    action,
    [
      field("command.refuse_reason", textarea("reason", { required: true, rows: 2 }), {
        required: true,
      }),
    ],
    `action.${action}`,
  );
  if (!controller.restored) form.hidden = true;
  return form;
}

/** 审批: the requests with who asked, when and why; approve (延期: the asked-for due time,
 * editable) or refuse with a reason. `kind` is the chosen chip, `chooseKind(kind)` switches. */
export function drawApprovals(kit, list, { kind, chooseKind }) {
  const { actionButton, act, afterAction, empty, itemHead } = kit;
  const items = list.items.map((c) => {
    const [approve, refuse] = DECISIONS[c.kind];
    const refuseBox = refuseForm(kit, c, refuse);
    const approveParts = [];
    if (c.kind === "extension") {
      const due = input("due_at", { type: "datetime-local", required: true });
      due.value = toLocalInput(c.request && c.request.due_at ? c.request.due_at : c.due_at);
      const { form } = kit.decisionForm(
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
      {
        class: "cmd-item",
        dataset: { caseNo: c.case_no, kind: c.kind, version: String(c.version) },
      },
      itemHead(
        c,
        h("span", { class: `badge cmd-kind cmd-kind-${c.kind}` }, t(`command.kind.${c.kind}`)),
      ),
      ...requestLines(kit, c),
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
    kindChips(list.counts, kind, chooseKind),
    items.length
      ? h("ul", { class: "cmd-list", id: "approval-list" }, ...items)
      : empty("command.approvals.empty"),
  ];
}
