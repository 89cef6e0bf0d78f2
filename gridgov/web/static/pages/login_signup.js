// login_signup.js — 居民注册 on /login: a resident opens their own account (POST
// /api/auth/register: public, rate-limited, always the resident role) and is logged in, so their
// reports follow them to any device (/track lists them). Staff accounts are made by an admin.

import { postJSON } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { bindForm, buttons, field, input } from "../lib/form.js";
import { t } from "../lib/i18n.js";

const MIN_PASSWORD = 8; // gridgov.accounts.passwords.MIN_LENGTH

/** The sign-up section, folded under a summary; ``done(result)`` gets the login answer. */
export function signupSection(done) {
  const form = h(
    "form",
    { id: "signup-form", class: "login-form", autocomplete: "on" },
    h("p", { class: "form-note", "data-i18n": "login.signup.note" }, t("login.signup.note")),
    field(
      "login.username",
      input("username", {
        required: true,
        autocomplete: "username",
        autocapitalize: "none",
        spellcheck: "false",
        pattern: "[A-Za-z0-9_.\\-]{3,60}",
      }),
      { required: true, hint: "login.signup.username_hint" },
    ),
    field("login.signup.name", input("name", { required: true, maxlength: 60 }), {
      required: true,
    }),
    field(
      "login.password",
      input("password", {
        type: "password",
        required: true,
        minlength: MIN_PASSWORD,
        autocomplete: "new-password",
      }),
      { required: true, hint: "login.signup.password_hint" },
    ),
    field("login.signup.phone", input("phone", { type: "tel", autocomplete: "tel" })),
    buttons("login.signup.submit"),
  );
  bindForm(form, {
    draft: null, // never store credentials
    resetOnSuccess: false,
    submit: (v) =>
      postJSON(
        "/api/auth/register",
        {
          username: v.username.trim(),
          name: v.name.trim(),
          password: v.password,
          phone: v.phone.trim() || null,
        },
        { auth: "none" },
      ),
    onSuccess: done,
  });
  return h(
    "details",
    { class: "login-signup" },
    h("summary", { "data-i18n": "login.signup.title" }, t("login.signup.title")),
    form,
  );
}
