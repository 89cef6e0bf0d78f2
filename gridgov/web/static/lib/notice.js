// notice.js — toasts in the shell's #toasts area: information, success and errors.
//
// An error shows a translated headline chosen by its code (error.<code> in common.json, else
// error.title) and the server's own message under it, so nothing fails silently and nothing is
// hidden behind a generic text:
//
//   try { … } catch (err) { showError(err); }
//   toast(t("case.action_done", {action: label("action", a)}), {kind: "success"});
//
// Errors that are already sending the user to the login page (err.redirecting) and aborted
// requests are not shown.

import { ApiError, isAbort, stats } from "./api.js";
import { h } from "./dom.js";
import { has, t } from "./i18n.js";

const TIMEOUT = { info: 6000, success: 5000, error: 12000 };

function area() {
  let el = document.getElementById("toasts");
  if (!el) {
    el = h("div", { id: "toasts", class: "toasts", "aria-live": "polite" });
    document.body.append(el);
  }
  return el;
}

/** Show a toast; returns its element. `headline` is bold above `text`. */
export function toast(text, { kind = "info", headline = null, code = null, timeout } = {}) {
  const el = h(
    "div",
    {
      class: `toast toast-${kind}`,
      role: kind === "error" ? "alert" : "status",
      dataset: { kind, ...(code ? { code } : {}) },
    },
    headline ? h("strong", { class: "toast-headline" }, headline) : null,
    text ? h("span", { class: "toast-text server-message" }, text) : null,
    h(
      "button",
      {
        type: "button",
        class: "close",
        "aria-label": t("error.dismiss"),
        onclick: () => el.remove(),
      },
      "×",
    ),
  );
  area().append(el);
  const ms = timeout ?? TIMEOUT[kind] ?? 6000;
  if (ms > 0) setTimeout(() => el.remove(), ms);
  return el;
}

/** The translated headline for an error: error.<code>, else the generic error.title. */
export function errorHeadline(err) {
  const code = err instanceof ApiError ? err.code : "internal";
  return has(`error.${code}`) ? t(`error.${code}`) : t("error.title");
}

/** "请于 N 秒后重试" when the server said how long to wait (Retry-After), else null. */
export function retryHint(err) {
  const seconds = err instanceof ApiError ? err.retryAfter : null;
  return seconds != null && seconds > 0 ? t("error.retry_after", { n: seconds }) : null;
}

/** Show an error as a toast (headline by code + the server's message, and the wait the server
 * asked for); returns the toast. */
export function showError(err) {
  if (isAbort(err) || (err && err.redirecting)) return null;
  const code = err instanceof ApiError ? err.code : "internal";
  const message = err && err.message ? err.message : String(err);
  if (!(err instanceof ApiError)) {
    stats.errors.push({ status: null, code, message });
    console.warn("gridgov:", err);
  }
  const hint = retryHint(err);
  return toast(hint ? `${message} ${hint}` : message, {
    kind: "error",
    headline: errorHeadline(err),
    code,
  });
}
