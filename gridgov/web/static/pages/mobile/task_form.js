// task_form.js — the result form of one 核实 / 核查 task on the phone (pages/mobile/tasks.js):
// 属实 / 不属实 or 通过 / 不通过, photos (required where the workflow needs them), a note or the
// reason. The result goes through the outbox (no idempotency key on the server: a resend after
// a lost answer gets a 409 and the case's events tell whether ours got there).

import { h } from "../../lib/dom.js";
import { bindForm, buttons, field, textarea } from "../../lib/form.js";
import { label, t } from "../../lib/i18n.js";
import { toast } from "../../lib/notice.js";
import { outboxPhotos, photoControl } from "./photos.js";
import { formatDistance } from "./util.js";

const TASK_ACTIONS = {
  verify: { kind: "verify", yes: "verify", no: "verify_false" },
  check: { kind: "check", yes: "check_pass", no: "check_fail" },
};
/** Actions whose payload must carry photos (gridgov/cases/table.py `requires`). */
const NEEDS_PHOTOS = new Set(["verify", "check_pass", "check_fail"]);
/** Actions whose payload must carry a reason. */
const NEEDS_REASON = new Set(["verify_false", "check_fail"]);

/** The form of `task` in `formBox`; `close()`, `done(no)` and `draw()` are the list's. */
export function taskForm(app, task, { formBox, close, done, draw }) {
  const blobs = new Map();
  const pair = TASK_ACTIONS[task.kind];
  const d = task.detail;
  const photos = photoControl("photos", blobs, { labelKey: "mobile.task.photos" });
  const resultName = "result";
  const radio = (action, key) =>
    h(
      "label",
      { class: `m-choice m-choice-${action === pair.yes ? "yes" : "no"}` },
      h("input", { type: "radio", name: resultName, value: action, required: true, dataset: { labelKey: "mobile.task.result" } }),
      h("span", { "data-i18n": key }, t(key)),
    );
  const note = textarea("note", { rows: 2, maxlength: 2000, labelKey: "mobile.task.note", id: `m-note-${task.case_no}` });
  const noteLabel = h("span", {});
  const reportedPhotos = (d.photos || []).map((id) =>
    h("li", {}, h("a", { href: `/api/media/${encodeURIComponent(id)}`, target: "_blank", rel: "noopener" }, h("img", { src: `/api/media/${encodeURIComponent(id)}/thumb`, alt: "" }))),
  );
  const form = h(
    "form",
    { id: `m-task-${task.case_no}`, class: "m-form m-task-form", dataset: { caseNo: task.case_no, kind: task.kind } },
    h(
      "header",
      { class: "m-task-form-head" },
      h("button", { type: "button", class: "link-button m-back", onclick: close, "data-i18n": "mobile.task.back" }, t("mobile.task.back")),
      h("h2", {}, h("span", { "data-i18n": `mobile.tasks.kind.${task.kind}` }, t(`mobile.tasks.kind.${task.kind}`)), " ", h("span", { class: "code" }, task.case_no)),
      h("p", { class: "m-task-sub" }, task.subclass_name || task.subclass_code, " · ", formatDistance(task.distance)),
      h("p", { class: "m-task-desc" }, d.description),
      reportedPhotos.length ? h("ul", { class: "thumbs" }, ...reportedPhotos) : null,
      h("a", { href: `/case/${encodeURIComponent(task.case_no)}`, class: "m-full-case", "data-i18n": "mobile.task.full_case" }, t("mobile.task.full_case")),
    ),
    h(
      "div",
      { class: "field required m-result-field", dataset: { field: resultName } },
      h(
        "fieldset",
        { class: "m-result" },
        h("legend", { "data-i18n": "mobile.task.result" }, t("mobile.task.result")),
        radio(pair.yes, `mobile.task.${pair.yes}`),
        radio(pair.no, `mobile.task.${pair.no}`),
      ),
    ),
    field("mobile.task.photos", photos),
    h("div", { class: "field", dataset: { field: "note" } }, h("label", { for: note.id }, noteLabel), note),
    buttons("mobile.task.submit"),
  );
  const drawNote = () => {
    const chosen = form.querySelector(`input[name=${resultName}]:checked`);
    const needsReason = chosen && NEEDS_REASON.has(chosen.value);
    noteLabel.textContent = needsReason ? t("mobile.task.reason") : t("mobile.task.note");
    noteLabel.parentElement.parentElement.classList.toggle("required", Boolean(needsReason));
    const photoField = photos.closest(".field");
    photoField?.classList.toggle("required", !chosen || NEEDS_PHOTOS.has(chosen.value));
  };
  form.addEventListener("change", drawNote);
  formBox.replaceChildren(form);
  const bound = bindForm(form, {
    draft: `task-${task.case_no}`,
    validate: (values) => {
      const problems = {};
      if (NEEDS_PHOTOS.has(values.result) && !(values.photos || []).length) {
        problems.photos = t("form.required", { field: t("mobile.task.photos") });
      }
      if (NEEDS_REASON.has(values.result) && !(values.note || "").trim()) {
        problems.note = t("form.required", { field: t("mobile.task.reason") });
      }
      return problems;
    },
    submit: async (values) => {
      const action = values.result;
      const text = (values.note || "").trim();
      const payload = {};
      if (NEEDS_REASON.has(action)) payload.reason = text;
      else if (text) payload.note = text;
      const item = await app.outbox.add({
        kind: "action",
        case_no: task.case_no,
        action,
        payload,
        expected_version: task.version,
        photos: outboxPhotos(values.photos, blobs),
        label: `${label("action", action)} ${task.case_no}`,
      });
      app.foreground.add(item.key);
      let fate;
      try {
        fate = await app.outbox.send(item.key);
      } finally {
        app.foreground.delete(item.key);
      }
      if (fate.status === "failed") {
        await app.outbox.discard(item.key);
        throw fate.error;
      }
      return fate;
    },
    onSuccess: (fate) => {
      toast(fate.status === "sent" ? t("mobile.task.sent") : t("mobile.task.queued"), {
        kind: fate.status === "sent" ? "success" : "info",
      });
      if (fate.status === "sent") done(task.case_no);
      close();
      draw();
    },
  });
  drawNote();
  return bound;
}
