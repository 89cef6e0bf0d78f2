// admin_routing.js — the routing half of the departments tab (pages/admin_departments.js): the
// responsibility matrix (rules listed by kind, created, edited, deleted) and the routing preview
// (GET /api/routing/preview: the department a case would go to, with the reason and the
// candidates).
//
//   const routing = routingMatrix(state, deptOptions);  // state: the tab's {departments, rules,
//   // kind}; deptOptions(exclude): [code, label] pairs for a department select
//   routing.section, routing.previewForm: the elements; routing.loadRules(), routing.drawRules()

import { deleteJSON, getJSON, patchJSON, postJSON, query } from "../lib/api.js";
import { h, tx } from "../lib/dom.js";
import { bindForm, buttons, field, input, select } from "../lib/form.js";
import { label, t } from "../lib/i18n.js";
import { showError, toast } from "../lib/notice.js";
import { KINDS, button, emptyRow, enumSelect, reloadAfterWrite, th } from "./admin_kit.js";

const BASES = ["owner", "territory", "subclass"];

export function routingMatrix(state, deptOptions) {
  const ruleBody = h("tbody");
  const ruleFormBox = h("div", { class: "card form-card", id: "rule-form-box", hidden: true });
  const kindFilter = enumSelect("rule_kind", KINDS, "subclass_kind", { empty: "form.all" });
  kindFilter.id = "rule-kind-filter";
  kindFilter.addEventListener("change", () => {
    state.kind = kindFilter.value;
    loadRules().catch(showError);
  });
  const previewResult = h("div", { class: "preview-result", id: "routing-result", hidden: true });

  const previewForm = h(
    "form",
    { id: "routing-preview-form", class: "card" },
    h("h3", {}, tx("admin.routing.title")),
    h(
      "div",
      { class: "field-row" },
      field(
        "admin.rule.kind",
        enumSelect("kind", KINDS, "subclass_kind", { required: true, labelKey: "admin.rule.kind" }),
        { required: true },
      ),
      field(
        "admin.routing.subclass",
        input("subclass_code", {
          required: true,
          maxlength: "4",
          inputmode: "numeric",
          labelKey: "admin.routing.subclass",
        }),
        { required: true },
      ),
    ),
    h(
      "div",
      { class: "field-row" },
      field(
        "admin.routing.grid",
        input("grid_code", {
          required: true,
          maxlength: "15",
          inputmode: "numeric",
          labelKey: "admin.routing.grid",
        }),
        { required: true },
      ),
      field("admin.routing.owner", input("component_owner", { maxlength: "40" })),
    ),
    buttons("admin.routing.run"),
    previewResult,
  );
  bindForm(previewForm, {
    resetOnSuccess: false,
    validate: (v) => {
      const out = {};
      if (v.subclass_code && !/^\d{4}$/.test(v.subclass_code.trim()))
        out.subclass_code = t("admin.routing.subclass_invalid");
      if (v.grid_code && !/^\d{12,15}$/.test(v.grid_code.trim()))
        out.grid_code = t("admin.routing.grid_invalid");
      return out;
    },
    submit: (v) =>
      getJSON(
        `/api/routing/preview${query({
          kind: v.kind,
          subclass_code: v.subclass_code.trim(),
          grid_code: v.grid_code.trim(),
          component_owner: v.component_owner.trim(),
        })}`,
      ),
    onSuccess: (r) => {
      previewResult.hidden = false;
      const names = new Map(state.departments.map((d) => [d.code, d.name]));
      previewResult.replaceChildren(
        h(
          "p",
          { class: "preview-department" },
          h("strong", {}, tx("admin.routing.department")),
          " ",
          r.department_code
            ? `${names.get(r.department_code) || ""} ${r.department_code}`
            : t("admin.routing.none"),
        ),
        h("p", { class: "preview-reason" }, r.reason),
        r.candidates.length
          ? h(
              "ol",
              { class: "candidates" },
              ...r.candidates.map((c) =>
                h(
                  "li",
                  {},
                  `${c.department_name} ${c.department_code} · ${label("admin.basis", c.basis)}`,
                  c.rule_id ? ` · #${c.rule_id}` : "",
                ),
              ),
            )
          : null,
      );
    },
  });

  const section = h(
    "section",
    { class: "card" },
    h(
      "div",
      { class: "toolbar" },
      h("h3", {}, tx("admin.rule.title")),
      h("label", {}, tx("admin.rule.kind"), " ", kindFilter),
      button("admin.rule.new", () => editRule(null), { id: "rule-new", cls: "primary" }),
    ),
    h("p", { class: "muted hint" }, tx("admin.rule.hint")),
    ruleFormBox,
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        { id: "rule-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            th("admin.rule.id"),
            th("admin.rule.kind"),
            th("admin.rule.subclass"),
            th("admin.rule.region"),
            th("admin.rule.department"),
            th("admin.rule.priority"),
            th("admin.rule.basis"),
            th("admin.rule.note"),
          ),
        ),
        ruleBody,
      ),
    ),
  );

  async function loadRules() {
    state.rules = await getJSON(`/api/responsibility-rules${query({ kind: state.kind })}`);
    drawRules();
  }

  function deptName(code) {
    const d = state.departments.find((x) => x.code === code);
    return d ? d.name : code;
  }

  function drawRules() {
    ruleBody.replaceChildren(
      ...state.rules.map((r) =>
        h(
          "tr",
          { dataset: { id: String(r.id) }, class: "clickable", onclick: () => editRule(r) },
          h("td", { class: "code" }, `#${r.id}`),
          h("td", {}, label("subclass_kind", r.kind)),
          h("td", { class: "code" }, r.subclass_code || t("admin.rule.any")),
          h("td", { class: "code" }, r.region_prefix || t("admin.rule.any")),
          h(
            "td",
            {},
            r.department_code ? deptName(r.department_code) : t("admin.rule.territory_dept"),
          ),
          h("td", {}, String(r.priority)),
          h("td", {}, label("admin.basis", r.basis)),
          h("td", { class: "wrap" }, r.note || ""),
        ),
      ),
    );
    if (!state.rules.length) ruleBody.append(emptyRow(8));
  }

  function editRule(r) {
    const isNew = !r;
    const kind = enumSelect("kind", KINDS, "subclass_kind", {
      required: true,
      labelKey: "admin.rule.kind",
    });
    const dept = select("department_code", deptOptions(null), {
      empty: t("admin.rule.territory_dept"),
    });
    const basis = enumSelect("basis", BASES, "admin.basis", {
      required: true,
      labelKey: "admin.rule.basis",
    });
    const form = h(
      "form",
      { id: "rule-form" },
      h("h4", {}, isNew ? tx("admin.rule.new") : tx("admin.rule.edit", { id: r.id })),
      h(
        "div",
        { class: "field-row" },
        field("admin.rule.kind", kind, { required: true }),
        field(
          "admin.rule.subclass",
          input("subclass_code", {
            maxlength: "4",
            inputmode: "numeric",
            value: r ? r.subclass_code : "",
          }),
          { hint: "admin.rule.subclass_hint" },
        ),
      ),
      h(
        "div",
        { class: "field-row" },
        field(
          "admin.rule.region",
          input("region_prefix", {
            maxlength: "12",
            inputmode: "numeric",
            value: r && r.region_prefix ? r.region_prefix : "",
          }),
          { hint: "admin.rule.region_hint" },
        ),
        field("admin.rule.department", dept),
      ),
      h(
        "div",
        { class: "field-row" },
        field(
          "admin.rule.priority",
          input("priority", {
            type: "number",
            step: "1",
            required: true,
            labelKey: "admin.rule.priority",
            value: r ? String(r.priority) : "100",
          }),
          { required: true },
        ),
        field("admin.rule.basis", basis, { required: true }),
      ),
      field("admin.rule.note", input("note", { maxlength: "200", value: r ? r.note : "" })),
      h(
        "div",
        { class: "form-buttons" },
        h(
          "button",
          { type: "submit", class: "primary", "data-i18n": "admin.save" },
          t("admin.save"),
        ),
        button("form.cancel", () => closeRuleForm()),
        isNew
          ? null
          : button("admin.delete", () => removeRule(r), { cls: "danger", id: "rule-delete" }),
      ),
    );
    kind.value = r ? r.kind : state.kind || "event";
    dept.value = r && r.department_code ? r.department_code : "";
    basis.value = r ? r.basis : "territory";
    ruleFormBox.hidden = false;
    ruleFormBox.replaceChildren(form);
    bindForm(form, {
      draft: isNew ? "rule-new" : `rule-${r.id}`,
      validate: (v) => {
        const out = {};
        if (v.subclass_code && !/^(\d{2}|\d{4})$/.test(v.subclass_code.trim()))
          out.subclass_code = t("admin.rule.subclass_invalid");
        if (v.region_prefix && !/^\d{1,12}$/.test(v.region_prefix.trim()))
          out.region_prefix = t("admin.rule.region_invalid");
        if (!Number.isInteger(Number(v.priority))) out.priority = t("admin.integer");
        if (!v.department_code && v.basis !== "territory")
          out.department_code = t("admin.rule.department_needed");
        return out;
      },
      submit: (v) => {
        const body = {
          kind: v.kind,
          subclass_code: v.subclass_code.trim(),
          region_prefix: v.region_prefix.trim() || null,
          department_code: v.department_code || null,
          priority: Number(v.priority),
          basis: v.basis,
          note: v.note.trim(),
        };
        return isNew
          ? postJSON("/api/responsibility-rules", body)
          : patchJSON(`/api/responsibility-rules/${r.id}`, body);
      },
      onSuccess: (saved) => {
        toast(t("admin.rule.saved", { id: saved.id }), { kind: "success" });
        closeRuleForm();
        const i = state.rules.findIndex((x) => x.id === saved.id);
        if (i >= 0) state.rules[i] = saved;
        else state.rules.push(saved);
        drawRules();
        reloadAfterWrite(loadRules);
      },
    });
  }

  function closeRuleForm() {
    ruleFormBox.hidden = true;
    ruleFormBox.replaceChildren();
  }

  async function removeRule(r) {
    if (!window.confirm(t("admin.rule.delete_confirm", { id: r.id }))) return;
    try {
      await deleteJSON(`/api/responsibility-rules/${r.id}`);
      toast(t("admin.rule.deleted", { id: r.id }), { kind: "success" });
      closeRuleForm();
      state.rules = state.rules.filter((x) => x.id !== r.id);
      drawRules();
      reloadAfterWrite(loadRules);
    } catch (err) {
      showError(err);
    }
  }

  return { section, previewForm, loadRules, drawRules };
}
