// admin_taxonomy.js — the admin page's 分类与时限 tab (pages/admin.js): classes and subclasses
// (GET /api/taxonomy/*) of either kind, a search over the subclasses, a subclass's conditions and
// time limits, one limit edited in place (PUT /api/taxonomy/subclasses/{code}/time-limits), and
// the taxonomy exported and imported as JSON or Excel.

import { getJSON, postJSON, putJSON, query, upload } from "../lib/api.js";
import { h, tx } from "../lib/dom.js";
import { bindForm, input } from "../lib/form.js";
import { label, t } from "../lib/i18n.js";
import { showError, toast } from "../lib/notice.js";
import {
  KINDS,
  button,
  download,
  enumSelect,
  fileButton,
  readJSONFile,
  resultBox,
  showRefusalIn,
  showResult,
  th,
} from "./admin_kit.js";

const STEPS = ["register", "dispatch", "handle", "check"];
const UNITS = ["working_hours", "working_days", "natural_hours"];

export function taxonomyTab(panel) {
  const state = { kind: "event", classes: [], major: null, subclasses: [], sub: null, q: "" };
  const kindSwitch = h(
    "div",
    { class: "kind-switch", role: "group" },
    ...KINDS.map((k) =>
      h(
        "button",
        {
          type: "button",
          class: "kind",
          dataset: { kind: k },
          "aria-pressed": String(k === state.kind),
          onclick: () => {
            state.kind = k;
            state.major = null;
            state.sub = null;
            load().catch(showError);
          },
        },
        tx(`subclass_kind.${k}`),
      ),
    ),
  );
  const classList = h("ul", { class: "class-list", id: "class-list" });
  const search = h("input", {
    type: "search",
    id: "subclass-search",
    "data-i18n-placeholder": "admin.taxonomy.search",
    placeholder: t("admin.taxonomy.search"),
  });
  const subList = h("ul", { class: "subclass-list", id: "subclass-list" });
  const detail = h("div", { class: "subclass-detail card", id: "subclass-detail", hidden: true });
  const result = resultBox();

  const toolbar = h(
    "div",
    { class: "toolbar" },
    download("/api/taxonomy/export.json", "admin.taxonomy.export_json"),
    download("/api/taxonomy/export.xlsx", "admin.taxonomy.export_xlsx"),
    fileButton("admin.taxonomy.import_json", "application/json,.json", async (file) => {
      try {
        const data = await readJSONFile(file);
        const summary = await postJSON("/api/taxonomy/import", data);
        importDone(summary);
      } catch (err) {
        showRefusalIn(result, err);
      }
    }),
    fileButton(
      "admin.taxonomy.import_xlsx",
      ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      async (file) => {
        try {
          importDone(await upload("/api/taxonomy/import.xlsx", file));
        } catch (err) {
          showRefusalIn(result, err);
        }
      },
    ),
  );

  function importDone(summary) {
    showResult(result, "success", [
      h(
        "span",
        {},
        t("admin.taxonomy.imported", {
          classes_created: summary.classes_created,
          classes_updated: summary.classes_updated,
          subclasses_created: summary.subclasses_created,
          subclasses_updated: summary.subclasses_updated,
        }),
      ),
    ]);
    load().catch(showError);
  }

  panel.append(
    toolbar,
    result,
    h(
      "div",
      { class: "taxonomy-layout" },
      h("div", { class: "card" }, kindSwitch, h("h3", {}, tx("admin.taxonomy.classes")), classList),
      h("div", { class: "card" }, h("h3", {}, tx("admin.taxonomy.subclasses")), search, subList),
      detail,
    ),
  );

  let searchTimer = null;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      state.q = search.value.trim();
      loadSubclasses().catch(showError);
    }, 250);
  });

  async function load() {
    for (const b of kindSwitch.querySelectorAll("button")) {
      b.setAttribute("aria-pressed", String(b.dataset.kind === state.kind));
    }
    state.classes = await getJSON(`/api/taxonomy/classes${query({ kind: state.kind })}`);
    if (!state.major && state.classes.length) state.major = state.classes[0].code;
    drawClasses();
    await loadSubclasses();
  }

  async function loadSubclasses() {
    state.subclasses = await getJSON(
      `/api/taxonomy/subclasses${query({ kind: state.kind, q: state.q })}`,
    );
    drawSubclasses();
    if (state.sub) {
      const fresh = state.subclasses.find((s) => s.code === state.sub.code);
      if (fresh) state.sub = fresh;
    }
    drawDetail();
  }

  function drawClasses() {
    classList.replaceChildren(
      ...state.classes.map((c) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "list-node",
              dataset: { code: c.code },
              "aria-current": c.code === state.major ? "true" : null,
              onclick: () => {
                state.major = c.code;
                drawClasses();
                drawSubclasses();
              },
            },
            h("span", { class: "code" }, c.code),
            " ",
            c.name,
            c.is_local ? h("span", { class: "badge" }, t("admin.taxonomy.local")) : null,
          ),
        ),
      ),
    );
  }

  function drawSubclasses() {
    const shown = state.q
      ? state.subclasses
      : state.subclasses.filter((s) => s.major_code === state.major);
    subList.replaceChildren(
      ...shown.map((s) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "list-node",
              dataset: { code: s.code },
              "aria-current": state.sub && state.sub.code === s.code ? "true" : null,
              onclick: () => {
                state.sub = s;
                drawSubclasses();
                drawDetail();
              },
            },
            h("span", { class: "code" }, s.code),
            " ",
            s.name,
          ),
        ),
      ),
    );
    if (!shown.length) subList.append(h("li", { class: "muted" }, t("form.no_results")));
  }

  function limitLabel(limit) {
    return `${limit.value} ${label("admin.unit", limit.unit)}`;
  }

  function drawDetail() {
    const s = state.sub;
    detail.hidden = !s;
    if (!s) return;
    const order = (l) =>
      STEPS.indexOf(l.step) * 10 +
      (l.urgency ? ["normal", "urgent", "critical"].indexOf(l.urgency) : 0);
    const limits = [...s.time_limits].sort((a, b) => order(a) - order(b));
    const tbody = h("tbody");
    for (const limit of limits) tbody.append(limitRow(s, limit));
    detail.replaceChildren(
      h(
        "h3",
        {},
        `${s.name} `,
        h("span", { class: "code" }, `${label("subclass_kind", s.kind)} ${s.code}`),
      ),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, tx("admin.taxonomy.register_condition")),
        h("dd", {}, s.register_condition),
        h("dt", {}, tx("admin.taxonomy.close_condition")),
        h("dd", {}, s.close_condition),
        h("dt", {}, tx("admin.taxonomy.urgency_levels")),
        h("dd", {}, s.urgency_levels.map((u) => label("urgency", u)).join("、")),
      ),
      h("h4", {}, tx("admin.taxonomy.time_limits")),
      h(
        "table",
        { class: "limits-table", id: "limits-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            th("admin.taxonomy.step"),
            th("admin.taxonomy.urgency"),
            th("admin.taxonomy.limit"),
            h("th"),
          ),
        ),
        tbody,
      ),
    );
  }

  function limitRow(s, limit) {
    const key = `${limit.step}:${limit.urgency || ""}`;
    const row = h(
      "tr",
      { dataset: { limit: key } },
      h("td", {}, label("step", limit.step)),
      h("td", {}, limit.urgency ? label("urgency", limit.urgency) : t("value.none")),
      h("td", { class: "limit-value" }, limitLabel(limit)),
      h(
        "td",
        {},
        button("admin.taxonomy.edit_limit", () => editLimit(s, limit, row), {
          class: "link-button edit-limit",
        }),
      ),
    );
    return row;
  }

  function editLimit(s, limit, row) {
    const valueInput = input("value", {
      type: "number",
      min: "1",
      max: "9999",
      step: "1",
      required: true,
      value: String(limit.value),
      labelKey: "admin.taxonomy.value",
      class: "limit-input",
    });
    const unitSelect = enumSelect("unit", UNITS, "admin.unit", {
      required: true,
      labelKey: "admin.taxonomy.unit",
    });
    unitSelect.value = limit.unit;
    const form = h(
      "form",
      { class: "limit-form", id: `limit-form-${limit.step}-${limit.urgency || "any"}` },
      h("div", { class: "field" }, valueInput),
      h("div", { class: "field" }, unitSelect),
      h(
        "div",
        { class: "form-buttons" },
        h(
          "button",
          { type: "submit", class: "primary", "data-i18n": "admin.save" },
          t("admin.save"),
        ),
        button("form.cancel", () => drawDetail()),
      ),
    );
    const cell = h("td", { colspan: "2" }, form);
    row.replaceChildren(row.children[0], row.children[1], cell);
    bindForm(form, {
      draft: `limit-${s.kind}-${s.code}-${limit.step}-${limit.urgency || ""}`,
      validate: (values) => {
        const n = Number(values.value);
        if (!Number.isInteger(n) || n < 1) return { value: t("admin.taxonomy.value_invalid") };
        return {};
      },
      submit: (values) =>
        putJSON(`/api/taxonomy/subclasses/${encodeURIComponent(s.code)}/time-limits`, {
          kind: s.kind,
          step: limit.step,
          urgency: limit.urgency,
          value: Number(values.value),
          unit: values.unit,
        }),
      onSuccess: (updated) => {
        state.sub = updated;
        const i = state.subclasses.findIndex((x) => x.code === updated.code);
        if (i >= 0) state.subclasses[i] = updated;
        toast(t("admin.taxonomy.limit_saved", { name: updated.name }), { kind: "success" });
        drawDetail();
      },
      resetOnSuccess: false,
    });
    valueInput.focus();
  }

  return {
    ready: load(),
    relabel: () => {
      drawClasses();
      drawSubclasses();
      drawDetail();
    },
  };
}
