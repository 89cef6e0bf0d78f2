// admin_grid_edit_form.js — the form of the grid vertex editor (pages/admin_grid_editor.js):
// name, note, 撤销 / 完成绘制 / 取消 and the count of changed grids; one changed grid is saved
// through PUT /api/grids/{code}, several together through POST /api/grids/edit, each with the
// revision it was read at. A refusal's problems (overlap, gap, outside the community …) are listed
// and marked on the map where the server found them.

import { postJSON, putJSON } from "../lib/api.js";
import { formatArea, h, tx } from "../lib/dom.js";
import { bindForm, field, input, textarea } from "../lib/form.js";
import { label, t } from "../lib/i18n.js";
import { showError, toast } from "../lib/notice.js";
import { EMPTY, closedPolygon } from "./admin_grid_map.js";
import { button } from "./admin_kit.js";

export function gridEditForm({
  state,
  editBox,
  modeNote,
  selectGrid,
  loadGrids,
  drawSelected,
  drawEdit,
  changedShapes,
  undo,
  finishDrawing,
}) {
  function drawProblems(problems) {
    const edit = state.edit;
    if (edit) edit.problems = problems;
    const points = problems
      .filter((p) => Array.isArray(p.location))
      .map((p) => ({
        type: "Feature",
        properties: { kind: p.kind },
        geometry: { type: "Point", coordinates: p.location },
      }));
    state.map.getSource("problem").setData({ type: "FeatureCollection", features: points });
    const list = editBox.querySelector(".grid-problems");
    if (!list) return;
    list.hidden = !problems.length;
    list.replaceChildren(
      ...problems.map((p) =>
        h(
          "li",
          { class: `problem problem-${p.kind}`, dataset: { kind: p.kind } },
          h("strong", {}, label("admin.problem", p.kind)),
          " ",
          (p.codes || []).join(" / "),
          p.area_m2 != null ? ` · ${formatArea(p.area_m2)}` : "",
          Array.isArray(p.location)
            ? h(
                "button",
                {
                  type: "button",
                  class: "link-button",
                  "data-i18n": "admin.grids.show_problem",
                  onclick: () =>
                    state.map.jumpTo({
                      center: p.location,
                      zoom: Math.max(state.map.getZoom(), 18),
                    }),
                },
                t("admin.grids.show_problem"),
              )
            : null,
          h("span", { class: "problem-message server-message" }, p.message),
        ),
      ),
    );
    const first = points[0];
    if (first)
      state.map.jumpTo({
        center: first.geometry.coordinates,
        zoom: Math.max(state.map.getZoom(), 17),
      });
  }

  function updateButtons() {
    const edit = state.edit;
    if (!edit) return;
    const undoButton = editBox.querySelector("#grid-undo");
    const finish = editBox.querySelector("#grid-finish-drawing");
    const changedCount = editBox.querySelector(".changed-count");
    if (undoButton) undoButton.disabled = !edit.history.length;
    if (finish) {
      finish.hidden = !edit.drawing;
      finish.disabled = edit.drawn.length < 3;
    }
    if (changedCount) {
      const changed = changedShapes().map((s) => s.code);
      changedCount.textContent = changed.length
        ? t("admin.grids.changed", { n: changed.length, codes: changed.join(", ") })
        : t("admin.grids.unchanged");
      changedCount.dataset.count = String(changed.length);
    }
  }

  function drawEditBox() {
    const edit = state.edit;
    const main = edit.shapes.get(edit.code);
    const linked = h("input", {
      type: "checkbox",
      id: "grid-linked",
      checked: true,
      "data-no-draft": "",
      onchange: () => {
        edit.linked = linked.checked;
      },
    });
    const form = h(
      "form",
      { id: "grid-edit-form", class: "grid-edit-form" },
      h("h3", {}, tx("admin.grids.editing", { code: edit.code })),
      h("ul", { class: "grid-problems", hidden: true }),
      h("p", { class: "muted hint" }, tx("admin.grids.edit_hint")),
      h("label", { class: "check" }, linked, tx("admin.grids.linked")),
      field("admin.grids.name", input("name", { maxlength: "100", value: main.name || "" })),
      field("admin.grids.note", textarea("note", { rows: 2, maxlength: "500" }), {
        hint: "admin.grids.note_hint",
      }),
      h("p", { class: "changed-count muted" }),
      h(
        "div",
        { class: "form-buttons" },
        h(
          "button",
          { type: "submit", class: "primary", id: "grid-save", "data-i18n": "admin.grids.save" },
          t("admin.grids.save"),
        ),
        button("admin.grids.finish_drawing", finishDrawing, {
          id: "grid-finish-drawing",
          hidden: true,
        }),
        button("admin.grids.undo", undo, { id: "grid-undo", disabled: true }),
        button("admin.grids.cancel", () => stopEdit(), { id: "grid-cancel" }),
      ),
    );
    editBox.hidden = false;
    editBox.replaceChildren(form);
    edit.form = bindForm(form, {
      draft: `grid-edit-${edit.code}`,
      resetOnSuccess: false,
      validate: (values) => {
        if (edit.drawing) return { name: t("admin.grids.finish_first") };
        const renamed = (values.name || "").trim() !== (main.name || "");
        if (!renamed && !changedShapes().length) return { name: t("admin.nothing_changed") };
        return {};
      },
      submit: async (values) => {
        drawProblems([]);
        const name = (values.name || "").trim();
        const changed = changedShapes();
        if (name !== (main.name || "") && !changed.includes(main)) changed.unshift(main);
        const item = (s) => ({
          code: s.code,
          geometry: closedPolygon(s.rings),
          ...(s.code === edit.code ? { name } : {}),
          ...(s.revision_id != null ? { expected_revision_id: s.revision_id } : {}),
        });
        const note = (values.note || "").trim();
        try {
          if (changed.length === 1) {
            const { code, ...body } = item(changed[0]);
            return await putJSON(`/api/grids/${encodeURIComponent(code)}`, { ...body, note });
          }
          return await postJSON("/api/grids/edit", { grids: changed.map(item), note });
        } catch (err) {
          if (err && Array.isArray(err.problems) && err.problems.some((p) => p.kind)) {
            drawProblems(err.problems);
          }
          throw err;
        }
      },
      onSuccess: async (result) => {
        toast(t("admin.grids.saved", { n: result.changed.length, revision: result.revision_id }), {
          kind: "success",
        });
        const code = edit.code;
        stopEdit({ keepDraft: false });
        await selectGrid(code);
        await loadGrids(true).catch(showError);
      },
    });
    updateButtons();
  }

  function stopEdit({ keepDraft = false } = {}) {
    const edit = state.edit;
    if (!edit) return;
    if (!keepDraft) edit.form?.clearDraft();
    edit.form?.destroy();
    state.edit = null;
    editBox.hidden = true;
    editBox.replaceChildren();
    modeNote.hidden = true;
    state.map.getCanvas().style.cursor = "";
    state.map.setFilter("grid-line", null);
    state.map.getSource("problem").setData(EMPTY);
    drawEdit();
    if (state.selected) {
      state.map.setFilter("grid-selected", ["==", ["get", "code"], state.selected.code]);
      drawSelected();
    }
  }

  return { drawProblems, updateButtons, drawEditBox };
}
