// department_fields.js — the department desk's action forms (pages/department.js): which actions
// are its own (and their wording), the fields of each form, the 延期 form in days and hours with
// a preview of the new due time, and the payload sent for it.

import { ACTION_FIELDS } from "../lib/case_view.js";
import { h } from "../lib/dom.js";
import { field, input, textarea } from "../lib/form.js";
import { label, t } from "../lib/i18n.js";
import { photoPicker } from "../lib/pickers.js";
import { formatDateTime } from "../lib/time.js";

/** The department's own actions, in the order their buttons appear. */
export const OWN = [
  "accept",
  "report_back",
  "request_extension",
  "request_return",
  "request_hang",
  "escalate",
];
const HOUR_MS = 3600 * 1000;

/** The label of an action button: the department's wording, else the common action label. */
export function actionLabel(action) {
  return OWN.includes(action) ? t(`department.action.${action}`) : label("action", action);
}

/** The submit button's key: the department's own wording, or the generic one. */
export function submitKey(action) {
  return OWN.includes(action) ? action : "other";
}

/** The due time of the running 处置 step (延期 extends it). */
export function runningHandleDue(detail) {
  const handle = (detail.deadlines || []).find((d) => d.step === "handle" && !d.stopped_at);
  return handle && handle.due_at ? handle.due_at : null;
}

/** What the case waits for, when it waits on someone else. */
export function waitingNote(detail) {
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

function reasonField() {
  return field(
    "department.field.reason",
    textarea("reason", { required: true, rows: 3, maxlength: "2000" }),
    {
      required: true,
    },
  );
}

function noteField() {
  return field("department.field.note", textarea("note", { rows: 2, maxlength: "2000" }));
}

/** The extension form: days + hours from the current deadline (or now, when it has passed). */
function extensionFields(detail) {
  const days = input("days", {
    type: "number",
    min: "0",
    max: "365",
    step: "1",
    inputmode: "numeric",
  });
  const hours = input("hours", {
    type: "number",
    min: "0",
    max: "23",
    step: "1",
    inputmode: "numeric",
  });
  days.value = "1";
  hours.value = "0";
  const current = runningHandleDue(detail);
  const preview = h("p", { class: "dept-preview", id: "extension-preview" });
  const draw = () => {
    const due = extendedDue(current, days.value, hours.value);
    const parts = [
      current
        ? h(
            "span",
            { class: "muted" },
            t("department.current_due", { time: formatDateTime(current) }),
          )
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

export function fieldsFor(detail, action) {
  switch (action) {
    case "accept":
      return [noteField()];
    case "report_back":
      return [
        field(
          "department.field.result",
          textarea("result", { required: true, rows: 3, maxlength: "2000" }),
          {
            required: true,
          },
        ),
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
    if (f.kind === "text")
      out.push(
        field(f.labelKey, textarea(f.name, { required: true, rows: 3 }), { required: true }),
      );
    else if (f.kind === "line")
      out.push(field(f.labelKey, input(f.name, { required: true }), { required: true }));
    else if (f.kind === "photos") {
      out.push(
        field(f.labelKey, photoPicker(f.name, { required: true, labelKey: f.labelKey }), {
          required: true,
        }),
      );
    }
  }
  if (!out.some((el) => el.dataset.field === "reason")) out.push(noteField());
  return out;
}

/** `base` (or now, if later) plus days and hours; null unless the result is in the future. */
export function extendedDue(base, days, hours) {
  const d = Number(days || 0);
  const hr = Number(hours || 0);
  if (!Number.isFinite(d) || !Number.isFinite(hr) || d < 0 || hr < 0 || d * 24 + hr <= 0)
    return null;
  const from = Math.max(base ? new Date(base).getTime() : 0, Date.now());
  return new Date(from + (d * 24 + hr) * HOUR_MS);
}

export function payloadOf(detail, action, values) {
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
