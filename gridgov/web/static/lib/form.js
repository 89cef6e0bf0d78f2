// form.js — forms that never lose what the user typed.
//
// bindForm(form, {submit, …}) gives every form of gridgov the same behaviour:
//   - required fields (attribute `required`, or `data-required` on a hidden/JSON input) are
//     checked in the browser first, with the message next to the field;
//   - the submit button is disabled while sending (no double submits);
//   - a refusal from the server is shown next to the form (translated headline by error code +
//     the server's message) and the field it names is marked; NOTHING the user typed is cleared;
//   - a draft is kept in sessionStorage while typing and restored when the form is bound again,
//     so a trip through the login page (session expired) or a reload keeps the half-typed form;
//   - `idempotent: true` keeps one Idempotency-Key per draft until it succeeds, so a resubmit
//     after a network error or a login never creates a second record.
// On success the draft is dropped and (by default) the form is reset.
//
// Controls are built with the helpers below (field, input, textarea, select, hidden) so labels
// carry data-i18n keys and relabel on a language switch. A JSON-valued control (photo ids, a
// chosen subclass) is a hidden input with `data-json`; components listen for "gridgov:set" to
// redraw themselves when a draft restores or a reset clears their value.

import { beforeLogin, newIdempotencyKey } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { errorHeadline, retryHint } from "./notice.js";

const PREFIX = "gridgov.draft:";
let counter = 0;

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

/** The sessionStorage key of a draft on this page. */
export function draftKey(name) {
  return `${PREFIX}${window.location.pathname}:${name}`;
}

export function readDraft(name) {
  const raw = storage()?.getItem(draftKey(name));
  if (!raw) return null;
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}

/** Names of the drafts saved on this page whose name starts with `prefix`. */
export function draftNames(prefix = "") {
  const store = storage();
  if (!store) return [];
  const start = draftKey(prefix);
  const head = draftKey("");
  const out = [];
  for (let i = 0; i < store.length; i += 1) {
    const key = store.key(i);
    if (key && key.startsWith(start)) out.push(key.slice(head.length));
  }
  return out;
}

function named(form) {
  return Array.from(form.elements).filter(
    (el) => el.name && !["submit", "button", "reset", "file"].includes(el.type),
  );
}

function readValue(el) {
  if (el.dataset.json !== undefined) {
    try {
      return el.value ? JSON.parse(el.value) : null;
    } catch {
      return null;
    }
  }
  if (el.type === "checkbox") return el.checked;
  if (el.multiple) return Array.from(el.selectedOptions, (o) => o.value);
  return el.value;
}

function writeValue(el, value) {
  if (el.dataset.json !== undefined) el.value = value == null ? "" : JSON.stringify(value);
  else if (el.type === "checkbox") el.checked = Boolean(value);
  else if (el.type === "radio") el.checked = el.value === value;
  else if (el.multiple) {
    for (const o of el.options) o.selected = (value || []).includes(o.value);
  } else el.value = value == null ? "" : String(value);
  el.dispatchEvent(new CustomEvent("gridgov:set", { detail: value }));
}

function isEmpty(value) {
  if (value == null || value === false) return true;
  if (typeof value === "string") return !value.trim();
  if (Array.isArray(value)) return value.length === 0;
  return false;
}

function labelOf(el) {
  if (el.dataset.labelKey) return t(el.dataset.labelKey);
  const wrapper = el.closest(".field");
  const lab = wrapper && wrapper.querySelector("label, .field-label");
  return lab ? lab.textContent.replace(/[*：:]\s*$/, "").trim() : el.name;
}

/**
 * Wire `form`. Options:
 *   submit(values, {idempotencyKey})  async; throw (an ApiError) to refuse
 *   draft          draft name on this page (default form.id; null: no draft)
 *   idempotent     keep an Idempotency-Key per draft until success
 *   validate(values) → {fieldName: message} extra client-side checks
 *   onSuccess(result, values)
 *   resetOnSuccess (default true)
 * Returns {form, values(), setValues(obj), reset(), clearDraft(), showRefusal(err),
 *          clearErrors(), restored, destroy()}.
 */
export function bindForm(form, options) {
  const {
    submit,
    draft = form.id || null,
    idempotent = false,
    validate = null,
    onSuccess = null,
    resetOnSuccess = true,
  } = options;
  form.noValidate = true;
  let busy = false;
  let key = null;
  let saveTimer = null;

  const values = () => {
    const out = {};
    for (const el of named(form)) {
      if (el.type === "radio" && !el.checked) continue;
      out[el.name] = readValue(el);
    }
    return out;
  };

  const setValues = (data) => {
    for (const el of named(form)) {
      if (Object.prototype.hasOwnProperty.call(data, el.name)) writeValue(el, data[el.name]);
    }
  };

  const saveDraft = () => {
    clearTimeout(saveTimer);
    saveTimer = null;
    if (!draft) return;
    const data = {};
    for (const el of named(form)) {
      if (el.type === "password" || el.dataset.noDraft !== undefined) continue;
      if (el.type === "radio" && !el.checked) continue;
      data[el.name] = readValue(el);
    }
    try {
      storage()?.setItem(draftKey(draft), JSON.stringify({ values: data, key, at: Date.now() }));
    } catch {
      // Full or disabled storage: the form still works, only without a draft.
    }
  };

  const clearDraft = () => {
    clearTimeout(saveTimer);
    saveTimer = null;
    if (draft) storage()?.removeItem(draftKey(draft));
  };

  const scheduleSave = () => {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(saveDraft, 250);
  };

  const errorBox = () => {
    let box = form.querySelector(":scope > .form-error");
    if (!box) {
      box = h("div", { class: "form-error", role: "alert", hidden: true });
      form.prepend(box);
    }
    return box;
  };

  const markField = (el, message) => {
    el.setAttribute("aria-invalid", "true");
    const wrapper = el.closest(".field") || el.parentElement;
    let note = wrapper.querySelector(":scope > .field-error");
    if (!note) {
      note = h("p", { class: "field-error" });
      wrapper.append(note);
    }
    note.textContent = message;
  };

  const clearErrors = () => {
    const box = form.querySelector(":scope > .form-error");
    if (box) {
      box.hidden = true;
      box.replaceChildren();
    }
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    for (const el of form.querySelectorAll(".field-error")) el.remove();
  };

  const fieldNamed = (name) => {
    if (!name) return null;
    const last = String(name).split(/[./]/).pop();
    return named(form).find((el) => el.name === name || el.name === last) || null;
  };

  const showRefusal = (err) => {
    const box = errorBox();
    box.replaceChildren(
      h("strong", { class: "form-error-headline" }, errorHeadline(err)),
      h("span", { class: "server-message" }, err && err.message ? err.message : String(err)),
      retryHint(err) ? h("span", { class: "retry-after" }, retryHint(err)) : null,
    );
    box.dataset.code = err && err.code ? err.code : "internal";
    box.hidden = false;
    const where = (err && err.where) || {};
    const el = fieldNamed(where.field);
    if (el) markField(el, err.message);
    for (const p of (err && err.problems) || []) {
      const target = fieldNamed(p.field);
      if (target) markField(target, p.message);
    }
  };

  const clientErrors = (data) => {
    const problems = [];
    for (const el of named(form)) {
      const required = el.required || el.dataset.required !== undefined;
      if (required && isEmpty(data[el.name])) {
        problems.push([el, t("form.required", { field: labelOf(el) })]);
      }
    }
    const extra = validate ? validate(data) || {} : {};
    for (const [name, message] of Object.entries(extra)) {
      const el = fieldNamed(name);
      if (el && message) problems.push([el, message]);
    }
    return problems;
  };

  const setBusy = (on) => {
    busy = on;
    form.setAttribute("aria-busy", String(on));
    form.classList.toggle("busy", on);
    for (const b of form.querySelectorAll('button[type="submit"], input[type="submit"]')) {
      b.disabled = on;
    }
  };

  const reset = () => {
    form.reset();
    for (const el of named(form)) {
      if (el.type === "hidden") writeValue(el, el.dataset.json !== undefined ? null : "");
      else el.dispatchEvent(new CustomEvent("gridgov:set", { detail: readValue(el) }));
    }
    key = null;
    clearErrors();
    form.querySelector(":scope > .form-note")?.remove();
  };

  const onSubmit = async (event) => {
    event.preventDefault();
    if (busy) return;
    clearErrors();
    const data = values();
    const problems = clientErrors(data);
    if (problems.length) {
      for (const [el, message] of problems) markField(el, message);
      const box = errorBox();
      box.replaceChildren(h("strong", { class: "form-error-headline" }, t("form.invalid")));
      box.dataset.code = "client";
      box.hidden = false;
      problems[0][0].focus?.();
      return;
    }
    if (idempotent && !key) key = newIdempotencyKey();
    saveDraft(); // with the key: a resubmit after a login reuses it
    setBusy(true);
    let result;
    try {
      result = await submit(data, { idempotencyKey: key || undefined });
    } catch (err) {
      if (err && err.redirecting) {
        saveDraft();
        return; // leaving for the login page; keep the button disabled
      }
      setBusy(false);
      showRefusal(err);
      return;
    }
    setBusy(false);
    clearDraft();
    key = null;
    if (resetOnSuccess) reset();
    if (onSuccess) onSuccess(result, data);
  };

  /** Typing in a field marked by the last refusal clears its mark (the form box stays). */
  const onEdit = (event) => {
    scheduleSave();
    const el = event.target;
    if (!el || !el.getAttribute || el.getAttribute("aria-invalid") !== "true") return;
    el.removeAttribute("aria-invalid");
    const wrapper = el.closest(".field") || el.parentElement;
    wrapper?.querySelector(":scope > .field-error")?.remove();
  };

  form.addEventListener("submit", onSubmit);
  form.addEventListener("input", onEdit);
  form.addEventListener("change", onEdit);
  const unhook = beforeLogin(saveDraft);

  let restored = false;
  const saved = draft ? readDraft(draft) : null;
  if (saved && saved.values) {
    setValues(saved.values);
    key = saved.key || null;
    restored = true;
    form.prepend(
      h("p", { class: "form-note", "data-i18n": "form.draft_restored" }, t("form.draft_restored")),
    );
  }

  return {
    form,
    values,
    setValues,
    reset,
    clearDraft,
    showRefusal,
    clearErrors,
    restored,
    saveDraft,
    destroy() {
      form.removeEventListener("submit", onSubmit);
      form.removeEventListener("input", onEdit);
      form.removeEventListener("change", onEdit);
      unhook();
      if (saveTimer) saveDraft();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Control builders: a labelled field and its control, labels as data-i18n keys.

function nextId(name) {
  counter += 1;
  return `f-${name}-${counter}`;
}

/** <div class="field"><label>…</label>control hint</div>; `required` adds the marker. */
export function field(labelKey, control, { hint = null, required = false } = {}) {
  const target = control.matches("input, select, textarea")
    ? control
    : control.querySelector("input:not([type=hidden]), select, textarea");
  if (target && !target.id) target.id = nextId(target.name || "x");
  return h(
    "div",
    { class: `field${required ? " required" : ""}`, dataset: { field: control.name || "" } },
    h("label", { for: target ? target.id : null, "data-i18n": labelKey }, t(labelKey)),
    control,
    hint ? h("p", { class: "field-hint", "data-i18n": hint }, t(hint)) : null,
  );
}

export function input(name, { type = "text", required = false, labelKey = null, ...attrs } = {}) {
  return h("input", {
    name,
    type,
    required,
    dataset: labelKey ? { labelKey } : {},
    ...attrs,
  });
}

export function textarea(name, { required = false, rows = 3, labelKey = null, ...attrs } = {}) {
  return h("textarea", { name, required, rows, dataset: labelKey ? { labelKey } : {}, ...attrs });
}

/** A <select>; options are [value, labelText] pairs (text already translated). */
export function select(name, options, { required = false, empty = null, labelKey = null } = {}) {
  const el = h("select", { name, required, dataset: labelKey ? { labelKey } : {} });
  if (empty !== null) el.append(h("option", { value: "" }, empty));
  for (const [value, text] of options) el.append(h("option", { value }, text));
  return el;
}

/** A hidden input; `json: true` holds a JSON value (read back parsed). */
export function hidden(name, { json = false, required = false, labelKey = null } = {}) {
  const dataset = {};
  if (json) dataset.json = "";
  if (required) dataset.required = "";
  if (labelKey) dataset.labelKey = labelKey;
  return h("input", { type: "hidden", name, dataset });
}

/** The parsed value of a JSON hidden input (null when empty). */
export function readJSON(el) {
  return readValue(el);
}

/** Set a JSON hidden input's value without firing events (the caller redraws). */
export function writeJSON(el, value) {
  el.value = value == null ? "" : JSON.stringify(value);
}

/** `fn` called once `ms` after the last of a burst of calls. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** The row of buttons at the end of a form. */
export function buttons(submitKey = "form.submit", { cancel = null } = {}) {
  return h(
    "div",
    { class: "form-buttons" },
    h("button", { type: "submit", class: "primary", "data-i18n": submitKey }, t(submitKey)),
    cancel
      ? h(
          "button",
          { type: "button", class: "secondary", "data-i18n": "form.cancel", onclick: cancel },
          t("form.cancel"),
        )
      : null,
  );
}
