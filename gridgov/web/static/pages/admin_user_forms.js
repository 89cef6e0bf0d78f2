// admin_user_forms.js — the user forms of the users tab (pages/admin_users.js): create (POST
// /api/users), edit name / role / department / phone / jurisdictions / active flag (PATCH with
// only what changed), reset the password and unlock a locked account.
//
//   const { openCreate, openEdit } = userForms({state, createBox, editBox, draw, load});
//   state: the tab's {users, selected, regions, departments, …}; draw() redraws the list,
//   load() reloads it from the server.

import { patchJSON, postJSON } from "../lib/api.js";
import { h, tx } from "../lib/dom.js";
import { bindForm, buttons, field, input, select } from "../lib/form.js";
import { t } from "../lib/i18n.js";
import { showError, toast } from "../lib/notice.js";
import { formatDateTime } from "../lib/time.js";
import { ROLES, button, enumSelect, reloadAfterWrite } from "./admin_kit.js";
import { jurisdictionEditor } from "./admin_jurisdictions.js";

const USERNAME_RE = /^[a-z0-9][a-z0-9_.-]{2,59}$/;
const PASSWORD_MIN = 8;

export function userForms({ state, createBox, editBox, draw, load }) {
  function departmentSelect() {
    return select(
      "department_code",
      state.departments.map((d) => [d.code, `${d.name} (${d.code})`]),
      { empty: t("admin.users.no_department") },
    );
  }

  function userChecks(v, { creating }) {
    const out = {};
    if (creating && v.username && !USERNAME_RE.test(v.username.trim().toLowerCase()))
      out.username = t("admin.users.username_invalid");
    if (v.password && v.password.length < PASSWORD_MIN)
      out.password = t("admin.users.password_short", { n: PASSWORD_MIN });
    if (v.phone && !/^\+?[0-9][0-9 -]{4,28}$/.test(v.phone.trim()))
      out.phone = t("admin.users.phone_invalid");
    if (v.role === "department" && !v.department_code)
      out.department_code = t("admin.users.department_needed");
    return out;
  }

  function openCreate() {
    const roleSel = enumSelect("role", ROLES, "role", {
      required: true,
      empty: "form.choose",
      labelKey: "admin.users.role",
    });
    const jur = jurisdictionEditor("jurisdictions", state);
    const form = h(
      "form",
      { id: "user-create-form", autocomplete: "off" },
      h("h4", {}, tx("admin.users.new")),
      h(
        "div",
        { class: "field-row" },
        field(
          "admin.users.username",
          input("username", {
            required: true,
            maxlength: "60",
            autocapitalize: "none",
            spellcheck: "false",
            labelKey: "admin.users.username",
          }),
          { required: true, hint: "admin.users.username_hint" },
        ),
        field(
          "admin.users.name",
          input("name", { required: true, maxlength: "60", labelKey: "admin.users.name" }),
          { required: true },
        ),
      ),
      h(
        "div",
        { class: "field-row" },
        field("admin.users.role", roleSel, { required: true }),
        field(
          "admin.users.password",
          input("password", {
            type: "password",
            required: true,
            autocomplete: "new-password",
            labelKey: "admin.users.password",
          }),
          { required: true, hint: "admin.users.password_hint" },
        ),
      ),
      h(
        "div",
        { class: "field-row" },
        field("admin.users.phone", input("phone", { maxlength: "30", inputmode: "tel" })),
        field("admin.users.department", departmentSelect()),
      ),
      field("admin.users.jurisdictions", jur.root, { hint: "admin.users.jur_hint" }),
      h(
        "div",
        { class: "form-buttons" },
        h(
          "button",
          { type: "submit", class: "primary", "data-i18n": "admin.users.create" },
          t("admin.users.create"),
        ),
        button("form.cancel", () => {
          createBox.hidden = true;
          bound.clearDraft();
          createBox.replaceChildren();
        }),
      ),
    );
    createBox.hidden = false;
    createBox.replaceChildren(form);
    const bound = bindForm(form, {
      draft: "user-create",
      validate: (v) => userChecks(v, { creating: true }),
      submit: (v) =>
        postJSON("/api/users", {
          username: v.username.trim().toLowerCase(),
          name: v.name.trim(),
          role: v.role,
          password: v.password,
          phone: v.phone.trim() || null,
          department_code: v.department_code || null,
          jurisdictions: v.jurisdictions || [],
        }),
      onSuccess: (user) => {
        toast(t("admin.users.created", { username: user.username }), { kind: "success" });
        createBox.hidden = true;
        createBox.replaceChildren();
        state.users = [user, ...state.users.filter((x) => x.username !== user.username)];
        openEdit(user);
        reloadAfterWrite(load);
      },
    });
    jur.draw();
    form.querySelector("input[name=username]").focus();
  }

  function openEdit(u) {
    state.selected = u;
    draw();
    const roleSel = enumSelect("role", ROLES, "role", {
      required: true,
      labelKey: "admin.users.role",
    });
    const dept = departmentSelect();
    const jur = jurisdictionEditor("jurisdictions", state);
    const active = h("input", { type: "checkbox", name: "active", checked: u.active });
    const form = h(
      "form",
      { id: "user-edit-form" },
      h("h4", {}, tx("admin.users.edit", { username: u.username })),
      field(
        "admin.users.name",
        input("name", {
          required: true,
          maxlength: "60",
          value: u.name,
          labelKey: "admin.users.name",
        }),
        { required: true },
      ),
      h(
        "div",
        { class: "field-row" },
        field("admin.users.role", roleSel, { required: true }),
        field("admin.users.department", dept),
      ),
      field(
        "admin.users.phone",
        input("phone", { maxlength: "30", inputmode: "tel", placeholder: u.phone || "" }),
        { hint: "admin.users.phone_keep" },
      ),
      field("admin.users.jurisdictions", jur.root, { hint: "admin.users.jur_hint" }),
      h("label", { class: "check" }, active, tx("admin.users.active")),
      h(
        "div",
        { class: "form-buttons" },
        h(
          "button",
          { type: "submit", class: "primary", "data-i18n": "admin.save" },
          t("admin.save"),
        ),
        button("form.cancel", () => closeEdit()),
      ),
    );
    roleSel.value = u.role;
    dept.value = u.department_code || "";
    jur.set(u.jurisdictions.map((j) => ({ kind: j.kind, code: j.code })));
    const pwForm = h(
      "form",
      { id: "user-password-form" },
      h("h4", {}, tx("admin.users.reset_password")),
      h(
        "div",
        { class: "field-row" },
        field(
          "admin.users.new_password",
          input("password", {
            type: "password",
            required: true,
            autocomplete: "new-password",
            labelKey: "admin.users.new_password",
          }),
          { required: true },
        ),
        field(
          "admin.users.repeat_password",
          input("password2", {
            type: "password",
            required: true,
            autocomplete: "new-password",
            labelKey: "admin.users.repeat_password",
          }),
          { required: true },
        ),
      ),
      h("p", { class: "muted hint" }, tx("admin.users.reset_hint")),
      buttons("admin.users.reset_password"),
    );
    const locked = u.locked_until && new Date(u.locked_until) > new Date();
    editBox.hidden = false;
    editBox.replaceChildren(
      form,
      pwForm,
      locked
        ? h(
            "p",
            { class: "locked-note" },
            tx("admin.users.locked_until", { time: formatDateTime(u.locked_until) }),
            " ",
            button("admin.users.unlock", () => unlock(u), { id: "user-unlock" }),
          )
        : null,
    );
    bindForm(form, {
      draft: `user-${u.username}`,
      resetOnSuccess: false,
      validate: (v) => {
        const out = userChecks(v, { creating: false });
        if (!Object.keys(out).length && !Object.keys(changes(v)).length) {
          out.name = t("admin.nothing_changed");
        }
        return out;
      },
      submit: (v) => patchJSON(`/api/users/${encodeURIComponent(u.username)}`, changes(v)),
      onSuccess: async (saved) => {
        toast(t("admin.users.saved", { username: saved.username }), { kind: "success" });
        const i = state.users.findIndex((x) => x.username === saved.username);
        if (i >= 0) state.users[i] = saved;
        openEdit(saved);
      },
    });
    function changes(v) {
      const body = {};
      if (v.name.trim() !== u.name) body.name = v.name.trim();
      if (v.role !== u.role) body.role = v.role;
      if (v.active !== u.active) body.active = v.active;
      if ((v.department_code || null) !== (u.department_code || null)) {
        body.department_code = v.department_code || null;
      }
      if (v.phone.trim()) body.phone = v.phone.trim();
      const before = JSON.stringify(u.jurisdictions.map((j) => [j.kind, j.code]));
      const after = JSON.stringify((v.jurisdictions || []).map((j) => [j.kind, j.code]));
      if (before !== after) body.jurisdictions = v.jurisdictions || [];
      return body;
    }
    bindForm(pwForm, {
      draft: null,
      validate: (v) => {
        if (v.password && v.password.length < PASSWORD_MIN)
          return { password: t("admin.users.password_short", { n: PASSWORD_MIN }) };
        if (v.password !== v.password2) return { password2: t("admin.users.password_mismatch") };
        return {};
      },
      submit: (v) =>
        patchJSON(`/api/users/${encodeURIComponent(u.username)}`, { password: v.password }),
      onSuccess: () =>
        toast(t("admin.users.password_reset", { username: u.username }), { kind: "success" }),
    });
  }

  function closeEdit() {
    state.selected = null;
    editBox.hidden = true;
    editBox.replaceChildren();
    draw();
  }

  async function unlock(u) {
    try {
      const saved = await patchJSON(`/api/users/${encodeURIComponent(u.username)}`, {
        unlock: true,
      });
      toast(t("admin.users.unlocked", { username: u.username }), { kind: "success" });
      openEdit(saved);
    } catch (err) {
      showError(err);
    }
  }

  return { openCreate, openEdit };
}
