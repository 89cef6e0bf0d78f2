// login.js — /login: username and password; back to `next` (a same-site path the server has
// already checked, see pages.safe_next) or to the role's home page.

import { postJSON } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { bindForm, buttons, field, input } from "../lib/form.js";
import { t } from "../lib/i18n.js";
import { signupSection } from "./login_signup.js";

/** Same-site paths only (the server checked it too; this guards a hand-edited config). */
function sameSite(path) {
  return typeof path === "string" && /^\/(?![/\\])/.test(path) && !/[\u0000-\u001f\\]/.test(path);
}

export async function mount(ctx) {
  const next = sameSite(ctx.config.next) ? ctx.config.next : null;
  let lost = false;
  try {
    lost = window.sessionStorage.getItem("gridgov.session_lost") === "1";
    window.sessionStorage.removeItem("gridgov.session_lost");
  } catch {
    // No storage: no notice.
  }
  const note = (key) => h("p", { class: "form-note", "data-i18n": key }, t(key));
  const username = input("username", {
    required: true,
    autocomplete: "username",
    autocapitalize: "none",
    spellcheck: "false",
  });
  const password = input("password", {
    type: "password",
    required: true,
    autocomplete: "current-password",
  });
  const form = h(
    "form",
    { id: "login-form", class: "login-form", autocomplete: "on" },
    h("h1", { "data-i18n": "login.title" }, t("login.title")),
    lost ? note("notice.session_lost") : null,
    next
      ? h(
          "p",
          { class: "muted login-next" },
          h("span", { "data-i18n": "login.back_to" }, t("login.back_to")),
          " ",
          h("code", {}, next),
        )
      : null,
    field("login.username", username, { required: true }),
    field("login.password", password, { required: true }),
    buttons("login.submit"),
  );
  const goOn = (result) => {
    const home = (ctx.config.homes || {})[result.user.role] || "/";
    window.location.replace(next || home);
  };
  ctx.main.replaceChildren(h("section", { class: "login-page" }, form, signupSection(goOn)));
  bindForm(form, {
    draft: null, // never store credentials
    resetOnSuccess: false,
    submit: (values) =>
      postJSON(
        "/api/auth/login",
        { username: values.username.trim(), password: values.password },
        { auth: "none" },
      ),
    onSuccess: goOn,
  });
  form.querySelector("input[name=username]").focus();
}
