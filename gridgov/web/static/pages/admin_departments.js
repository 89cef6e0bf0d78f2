// admin_departments.js — the admin page's 部门与派遣规则 tab (pages/admin.js): departments (list,
// create, edit, delete, export) next to the responsibility matrix and the routing preview
// (admin_routing.js), which share the tab's state ({departments, rules, kind}).

import { deleteJSON, getJSON, patchJSON, postJSON } from "../lib/api.js";
import { h, tx } from "../lib/dom.js";
import { bindForm, field, input, select } from "../lib/form.js";
import { label, t } from "../lib/i18n.js";
import { showError, toast } from "../lib/notice.js";
import { button, download, emptyRow, enumSelect, reloadAfterWrite, th } from "./admin_kit.js";
import { routingMatrix } from "./admin_routing.js";

const LEVELS = ["city", "district", "street", "community"];

export function departmentsTab(panel) {
  const state = { departments: [], rules: [], kind: "" };
  const deptBody = h("tbody");
  const deptFormBox = h("div", {
    class: "card form-card",
    id: "department-form-box",
    hidden: true,
  });
  const routing = routingMatrix(state, deptOptions);

  panel.append(
    h(
      "div",
      { class: "departments-layout" },
      h(
        "section",
        { class: "card" },
        h(
          "div",
          { class: "toolbar" },
          h("h3", {}, tx("admin.dept.title")),
          button("admin.dept.new", () => editDepartment(null), {
            id: "department-new",
            cls: "primary",
          }),
          download("/api/departments/export.json", "admin.dept.export"),
        ),
        deptFormBox,
        h(
          "div",
          { class: "table-scroll" },
          h(
            "table",
            { id: "department-table" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                th("admin.dept.code"),
                th("admin.dept.name"),
                th("admin.dept.parent"),
                th("admin.dept.level"),
                th("admin.dept.phone"),
                th("admin.dept.regions"),
                th("admin.dept.active"),
              ),
            ),
            deptBody,
          ),
        ),
      ),
      routing.section,
      routing.previewForm,
    ),
  );

  async function loadDepartments() {
    state.departments = await getJSON("/api/departments");
    drawDepartments();
    routing.drawRules(); // the rules table shows department names: the rules may have come first
  }

  function drawDepartments() {
    deptBody.replaceChildren(
      ...state.departments.map((d) =>
        h(
          "tr",
          {
            dataset: { code: d.code },
            class: `clickable${d.active ? "" : " inactive"}`,
            onclick: () => editDepartment(d),
          },
          h("td", { class: "code" }, d.code),
          h("td", {}, d.name),
          h("td", { class: "code" }, d.parent_code || ""),
          h("td", {}, label("admin.level", d.level)),
          h("td", {}, d.phone || ""),
          h("td", { class: "code wrap" }, d.region_codes.join(" ")),
          h("td", {}, d.active ? "✓" : t("admin.inactive")),
        ),
      ),
    );
    if (!state.departments.length) deptBody.append(emptyRow(7));
  }

  function deptOptions(exclude) {
    return state.departments
      .filter((d) => d.code !== exclude)
      .map((d) => [d.code, `${d.name} (${d.code})`]);
  }

  function editDepartment(d) {
    const isNew = !d;
    const codeInput = input("code", {
      required: isNew,
      maxlength: "40",
      labelKey: "admin.dept.code",
      disabled: !isNew,
      value: d ? d.code : "",
    });
    const parent = select("parent_code", deptOptions(d && d.code), {
      empty: t("admin.dept.no_parent"),
    });
    const level = enumSelect("level", LEVELS, "admin.level", {
      required: true,
      labelKey: "admin.dept.level",
    });
    const active = h("input", { type: "checkbox", name: "active", checked: d ? d.active : true });
    const form = h(
      "form",
      { id: "department-form" },
      h("h4", {}, isNew ? tx("admin.dept.new") : tx("admin.dept.edit", { code: d.code })),
      h(
        "div",
        { class: "field-row" },
        field("admin.dept.code", codeInput, { required: isNew }),
        field(
          "admin.dept.name",
          input("name", {
            required: true,
            maxlength: "100",
            labelKey: "admin.dept.name",
            value: d ? d.name : "",
          }),
          { required: true },
        ),
      ),
      h(
        "div",
        { class: "field-row" },
        field("admin.dept.parent", parent),
        field("admin.dept.level", level, { required: true }),
      ),
      h(
        "div",
        { class: "field-row" },
        field(
          "admin.dept.phone",
          input("phone", { maxlength: "30", value: d && d.phone ? d.phone : "" }),
        ),
        field(
          "admin.dept.sort_order",
          input("sort_order", { type: "number", step: "1", value: d ? String(d.sort_order) : "0" }),
        ),
      ),
      field("admin.dept.regions", input("regions", { value: d ? d.region_codes.join(" ") : "" }), {
        hint: "admin.dept.regions_hint",
      }),
      h("label", { class: "check" }, active, tx("admin.dept.active")),
      h(
        "div",
        { class: "form-buttons" },
        h(
          "button",
          { type: "submit", class: "primary", "data-i18n": "admin.save" },
          t("admin.save"),
        ),
        button("form.cancel", () => closeDeptForm()),
        isNew
          ? null
          : button("admin.delete", () => removeDepartment(d), {
              cls: "danger",
              id: "department-delete",
            }),
      ),
    );
    parent.value = d && d.parent_code ? d.parent_code : "";
    level.value = d ? d.level : "district";
    deptFormBox.hidden = false;
    deptFormBox.replaceChildren(form);
    bindForm(form, {
      draft: isNew ? "department-new" : `department-${d.code}`,
      validate: (v) => {
        const out = {};
        if (isNew && v.code && !/^[\w.-]{1,40}$/.test(v.code.trim()))
          out.code = t("admin.dept.code_invalid");
        if (v.sort_order !== "" && !Number.isInteger(Number(v.sort_order)))
          out.sort_order = t("admin.integer");
        return out;
      },
      submit: (v) => {
        const body = {
          name: v.name.trim(),
          parent_code: v.parent_code || null,
          level: v.level,
          phone: v.phone.trim() || null,
          sort_order: Number(v.sort_order || 0),
          active: v.active,
          regions: v.regions.split(/[\s,，;；]+/).filter(Boolean),
        };
        return isNew
          ? postJSON("/api/departments", { code: v.code.trim(), ...body })
          : patchJSON(`/api/departments/${encodeURIComponent(d.code)}`, body);
      },
      onSuccess: (saved) => {
        toast(t("admin.dept.saved", { name: saved.name }), { kind: "success" });
        closeDeptForm();
        const i = state.departments.findIndex((x) => x.code === saved.code);
        if (i >= 0) state.departments[i] = saved;
        else state.departments.push(saved);
        drawDepartments();
        reloadAfterWrite(loadDepartments);
      },
    });
  }

  function closeDeptForm() {
    deptFormBox.hidden = true;
    deptFormBox.replaceChildren();
  }

  async function removeDepartment(d) {
    if (!window.confirm(t("admin.dept.delete_confirm", { name: d.name }))) return;
    try {
      await deleteJSON(`/api/departments/${encodeURIComponent(d.code)}`);
      toast(t("admin.dept.deleted", { name: d.name }), { kind: "success" });
      closeDeptForm();
      state.departments = state.departments.filter((x) => x.code !== d.code);
      drawDepartments();
      reloadAfterWrite(loadDepartments);
    } catch (err) {
      showError(err);
    }
  }

  return {
    ready: Promise.all([loadDepartments(), routing.loadRules()]),
    relabel: () => {
      drawDepartments();
      routing.drawRules();
    },
  };
}
