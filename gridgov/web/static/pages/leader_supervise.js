// leader_supervise.js — 督办 on the cockpit (领导驾驶舱, pages/leader.js; leader only, as the
// transition table says): normal / yellow card / red card with a note,
// POST /api/cases/{no}/actions {action: "supervise", payload: {level, note}, expected_version}.

import { getJSON, postJSON } from "../lib/api.js";
import { deadlineBadge, stateBadge } from "../lib/badges.js";
import { h, tx } from "../lib/dom.js";
import { bindForm, buttons, field, textarea } from "../lib/form.js";
import { label, t } from "../lib/i18n.js";
import { showError, toast } from "../lib/notice.js";
import { formatDateTime } from "../lib/time.js";
import { SUPERVISION_LEVELS } from "./leader_panels.js";

/**
 * The 督办 dialog. `cache` (summary, cases) is the page's; `onDone()` after a supervision was
 * recorded.
 */
export function leaderSupervise({ cache, canSupervise, onDone }) {
  const dialog = h("dialog", { class: "supervise-dialog", id: "supervise-dialog" });
  let dialogCase = null;
  let dialogForm = null;

  function latestSupervision(detail) {
    const events = detail.events.filter((e) => e.action === "supervise");
    return events.length ? events[events.length - 1] : null;
  }

  async function openSupervise(caseNo) {
    let detail;
    try {
      detail = await getJSON(`/api/cases/${encodeURIComponent(caseNo)}`);
    } catch (err) {
      showError(err);
      return;
    }
    dialogCase = detail;
    drawDialog();
    if (!dialog.open) dialog.showModal();
  }

  function closeDialog() {
    dialogForm?.destroy();
    dialogForm = null;
    dialogCase = null;
    if (dialog.open) dialog.close();
  }

  function drawDialog() {
    const detail = dialogCase;
    dialogForm?.destroy();
    dialogForm = null;
    const last = latestSupervision(detail);
    const allowed = detail.allowed_actions.includes("supervise");
    const running = detail.deadlines.filter((d) => !d.stopped_at);
    const point = cache.cases?.features.find((f) => f.properties.case_no === detail.case_no);
    const subclass = point && point.properties.subclass;
    const departments = new Map((cache.summary?.departments || []).map((d) => [d.code, d.name]));
    const department = detail.department_code
      ? `${departments.get(detail.department_code) || ""} ${detail.department_code}`.trim()
      : t("value.none");
    const facts = h(
      "dl",
      { class: "case-facts" },
      h("dt", {}, tx("leader.supervise.subclass")),
      h("dd", {}, subclass ? `${subclass} ${detail.subclass_code}` : detail.subclass_code),
      h("dt", {}, tx("leader.supervise.grid")),
      h("dd", { class: "code" }, detail.grid_code),
      h("dt", {}, tx("leader.supervise.department")),
      h("dd", {}, department),
      h("dt", {}, tx("leader.supervise.deadlines")),
      h(
        "dd",
        { class: "dialog-deadlines" },
        ...running.map((d) => deadlineBadge(d)),
        running.length ? null : t("value.none"),
      ),
      h("dt", {}, tx("leader.supervise.reported_at")),
      h("dd", {}, formatDateTime(detail.reported_at)),
      h("dt", {}, tx("leader.supervise.current")),
      h(
        "dd",
        { class: "current-level", dataset: { level: last ? last.payload.level : "" } },
        last
          ? `${label("supervision_level", last.payload.level)} · ${formatDateTime(last.at)}`
          : t("leader.supervise.never"),
      ),
    );
    let body;
    if (allowed) {
      const radios = SUPERVISION_LEVELS.map((level, i) =>
        h(
          "label",
          { class: `level-option level-${level}` },
          h("input", {
            type: "radio",
            name: "level",
            value: level,
            required: i === 0,
            dataset: { labelKey: "leader.supervise.level" },
          }),
          h(
            "span",
            { "data-i18n": `supervision_level.${level}` },
            label("supervision_level", level),
          ),
        ),
      );
      const form = h(
        "form",
        { class: "supervise-form", id: "supervise-form" },
        h(
          "div",
          { class: "field required", dataset: { field: "level" } },
          h(
            "span",
            { class: "field-label", "data-i18n": "leader.supervise.level" },
            t("leader.supervise.level"),
          ),
          h("div", { class: "level-options" }, ...radios),
        ),
        field(
          "leader.supervise.note",
          textarea("note", { rows: 3, maxlength: "2000", labelKey: "leader.supervise.note" }),
          { hint: "leader.supervise.note_hint" },
        ),
        buttons("leader.supervise.submit", { cancel: closeDialog }),
      );
      body = form;
      dialogForm = bindForm(form, {
        draft: `supervise-${detail.case_no}`,
        submit: async (values) => {
          const payload = { level: values.level };
          const note = (values.note || "").trim();
          if (note) payload.note = note;
          try {
            return await postJSON(`/api/cases/${encodeURIComponent(detail.case_no)}/actions`, {
              action: "supervise",
              payload,
              expected_version: detail.version,
            });
          } catch (err) {
            if (err && err.status === 409) {
              // Someone acted on the case meanwhile: take its new version, keep what was typed.
              try {
                const fresh = await getJSON(`/api/cases/${encodeURIComponent(detail.case_no)}`);
                detail.version = fresh.version;
              } catch {
                // The refusal below says enough.
              }
            }
            throw err;
          }
        },
        onSuccess: (result, values) => {
          toast(
            t("leader.supervise.done", {
              level: label("supervision_level", values.level),
              case_no: result.case_no,
            }),
            { kind: "success" },
          );
          closeDialog();
          onDone();
        },
      });
    } else {
      body = h(
        "p",
        { class: "muted not-allowed" },
        tx(canSupervise ? "leader.supervise.not_now" : "leader.supervise.leader_only"),
      );
    }
    dialog.replaceChildren(
      h(
        "div",
        { class: "dialog-head" },
        h(
          "h2",
          {},
          tx("action.supervise"),
          " ",
          h(
            "a",
            { class: "case-no", href: `/case/${encodeURIComponent(detail.case_no)}` },
            detail.case_no,
          ),
          stateBadge(detail.state),
        ),
        h(
          "button",
          {
            type: "button",
            class: "close",
            "aria-label": t("error.dismiss"),
            onclick: closeDialog,
          },
          "×",
        ),
      ),
      detail.description ? h("p", { class: "case-description" }, detail.description) : null,
      facts,
      body,
    );
  }

  dialog.addEventListener("close", () => {
    dialogForm?.destroy();
    dialogForm = null;
    dialogCase = null;
  });

  return {
    dialog,
    open: openSupervise,
    /** Redraw an open dialog (after a language switch). */
    relabel: () => {
      if (dialogCase) drawDialog();
    },
  };
}
