// admin_jurisdictions.js — the jurisdictions field of the user forms (pages/admin_user_forms.js):
// regions, grids or departments as chips kept in a hidden JSON input (lib/form.js), with a kind,
// a code (suggested from the regions and departments given) and 添加.

import { h } from "../lib/dom.js";
import { readJSON, writeJSON } from "../lib/form.js";
import { label, t } from "../lib/i18n.js";
import { button, enumSelect } from "./admin_kit.js";

const SCOPE_KINDS = ["region", "grid", "department"];

/** A list of jurisdictions ({kind, code}) in a hidden JSON input, with an add row. */
export function jurisdictionEditor(name, { regions = [], departments = [] } = {}) {
  const value = h("input", { type: "hidden", name, dataset: { json: "" } });
  const list = h("ul", { class: "chips" });
  const kind = enumSelect("", SCOPE_KINDS, "admin.scope", {});
  kind.removeAttribute("name");
  const listId = `jur-options-${Math.random().toString(36).slice(2, 8)}`;
  const code = h("input", {
    type: "text",
    class: "jur-code",
    list: listId,
    maxlength: "40",
    "data-no-draft": "",
    "data-i18n-placeholder": "admin.users.jur_code",
    placeholder: t("admin.users.jur_code"),
  });
  const options = h("datalist", { id: listId });
  const fillOptions = () => {
    const source =
      kind.value === "department"
        ? departments.map((d) => [d.code, d.name])
        : kind.value === "region"
          ? regions.map((r) => [r.code, r.name])
          : [];
    options.replaceChildren(...source.map(([c, n]) => h("option", { value: c }, n)));
  };
  kind.addEventListener("change", fillOptions);
  fillOptions();
  const read = () => readJSON(value) || [];
  const names = new Map([
    ...regions.map((r) => [r.code, r.name]),
    ...departments.map((d) => [d.code, d.name]),
  ]);
  const draw = () => {
    list.replaceChildren(
      ...read().map((j, i) =>
        h(
          "li",
          { class: "chip", dataset: { kind: j.kind, code: j.code } },
          h("span", { class: "chip-kind" }, label("admin.scope", j.kind)),
          " ",
          h("span", { class: "code" }, j.code),
          names.get(j.code) ? ` ${names.get(j.code)}` : "",
          h(
            "button",
            {
              type: "button",
              class: "close",
              "aria-label": t("admin.users.jur_remove"),
              onclick: () => {
                const next = read().filter((_, k) => k !== i);
                writeJSON(value, next.length ? next : null);
                value.dispatchEvent(new Event("change", { bubbles: true }));
                draw();
              },
            },
            "×",
          ),
        ),
      ),
    );
    if (!read().length) list.append(h("li", { class: "muted" }, t("admin.users.jur_none")));
  };
  const add = () => {
    const c = code.value.trim();
    if (!c) {
      code.focus();
      return;
    }
    const current = read();
    if (!current.some((j) => j.kind === kind.value && j.code === c)) {
      writeJSON(value, [...current, { kind: kind.value, code: c }]);
      value.dispatchEvent(new Event("change", { bubbles: true }));
    }
    code.value = "";
    draw();
  };
  code.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      add();
    }
  });
  value.addEventListener("gridgov:set", draw);
  const root = h(
    "div",
    { class: "jurisdictions" },
    value,
    list,
    h(
      "div",
      { class: "picker-row" },
      kind,
      code,
      options,
      button("admin.users.jur_add", add, { class: "secondary jur-add" }),
    ),
  );
  return {
    root,
    set(items) {
      writeJSON(value, items && items.length ? items : null);
      draw();
    },
    draw,
  };
}
