// admin_kit.js — pieces the tabs of the admin page (pages/admin.js) are built from: column heads,
// buttons, options and enum selects, empty table rows, download links and file choosers, the
// result box an import's summary or a refusal (with its problems) is shown in, and reading a
// chosen file as JSON.

import { h } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { showError } from "../lib/notice.js";

export const KINDS = ["component", "event"];
export const ROLES = [
  "supervisor",
  "acceptor",
  "shift_lead",
  "dispatcher",
  "department",
  "leader",
  "resident",
  "registrar",
  "admin",
];

export function th(key) {
  return h("th", { scope: "col", "data-i18n": key }, t(key));
}

export function button(key, onclick, { cls = "secondary", type = "button", ...attrs } = {}) {
  return h("button", { type, class: cls, "data-i18n": key, onclick, ...attrs }, t(key));
}

export function option(value, key) {
  return h("option", { value, "data-i18n": key }, t(key));
}

export function enumSelect(
  name,
  values,
  prefix,
  { required = false, empty = null, labelKey = null } = {},
) {
  const el = h("select", { name, required, dataset: labelKey ? { labelKey } : {} });
  if (empty) el.append(option("", empty));
  for (const v of values) el.append(option(v, `${prefix}.${v}`));
  return el;
}

export function emptyRow(cols, key = "admin.empty") {
  return h("tr", { class: "empty" }, h("td", { colspan: String(cols), class: "muted" }, t(key)));
}

export function download(href, key) {
  return h("a", { class: "button secondary", href, download: "", "data-i18n": key }, t(key));
}

/** A file chooser that calls `onFile(file)`; the input is reset afterwards. */
export function fileButton(key, accept, onFile) {
  const inputEl = h("input", { type: "file", accept, class: "sr-only" });
  inputEl.addEventListener("change", async () => {
    const file = inputEl.files && inputEl.files[0];
    inputEl.value = "";
    if (file) await onFile(file);
  });
  return h(
    "label",
    { class: "button secondary file-button" },
    inputEl,
    h("span", { "data-i18n": key }, t(key)),
  );
}

/** The problems of an import refusal as a table (sheet/row/field/reason or kind/codes/…). */
function problemList(err) {
  const problems = (err && err.problems) || [];
  if (!problems.length) return null;
  return h(
    "ul",
    { class: "problem-list" },
    ...problems
      .slice(0, 200)
      .map((p) =>
        h(
          "li",
          {},
          [p.sheet, p.row ? `#${p.row}` : null, p.field].filter(Boolean).join(" · "),
          p.sheet || p.field ? ": " : "",
          p.reason || p.message || "",
        ),
      ),
  );
}

/** After a write: the list is updated from the answer at once and reloaded from the server
 * (the API commits before it answers, so the reload sees the write). */
export function reloadAfterWrite(fn) {
  Promise.resolve().then(fn).catch(showError);
}

export function resultBox() {
  return h("div", { class: "result-box", role: "status", hidden: true });
}

export function showResult(box, kind, nodes) {
  box.hidden = false;
  box.dataset.kind = kind;
  box.replaceChildren(...nodes.filter(Boolean));
}

export function showRefusalIn(box, err) {
  if (err && err.redirecting) return;
  showResult(box, "error", [
    h("strong", {}, t("admin.refused")),
    h("span", { class: "server-message" }, err && err.message ? err.message : String(err)),
    problemList(err),
  ]);
}

/** Read a chosen file as JSON (a 422-like ApiError-shaped refusal when it is not JSON). */
export async function readJSONFile(file) {
  const text = await file.text();
  try {
    return JSON.parse(text);
  } catch {
    const refusal = new Error(t("admin.not_json", { file: file.name }));
    refusal.code = "client";
    throw refusal;
  }
}
