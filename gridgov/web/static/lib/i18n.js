// i18n.js — UI labels from /i18n/{lang}.json (zh-CN default, English switch).
//
// The server merges gridgov/web/i18n/<lang>/<namespace>.json into one object per language.
// Markup carries keys, never text: data-i18n (text content; with data-i18n-vars, a JSON object
// of {name} values), data-i18n-placeholder, data-i18n-aria-label and data-i18n-title. Code calls t("key", {name: value}) and, for enum
// values (state, action, channel, urgency, light, step, role …), label("state", case.state).
// The chosen language is remembered in localStorage and in the gridgov_lang cookie (so the
// server renders the next page's shell in it).

import { getJSON } from "./api.js";

export const LANGUAGES = ["zh-CN", "en"];
const STORAGE_KEY = "gridgov.lang";
const COOKIE = "gridgov_lang";

let current = "zh-CN";
let labels = {};
const listeners = new Set();

/** The label for `key`, with {name} placeholders filled from `vars`; the key itself if missing. */
export function t(key, vars = {}) {
  const text = Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** True when a label exists for `key` (used to pick a translated headline for an error code). */
export function has(key) {
  return Object.prototype.hasOwnProperty.call(labels, key);
}

/** The label of an enum value (`label("state", "reported")` → 上报); the raw value if unknown. */
export function label(kind, value) {
  if (value == null || value === "") return t("value.none");
  const key = `${kind}.${value}`;
  return has(key) ? t(key) : String(value);
}

export function language() {
  return current;
}

/** The language to start with: the remembered choice, else the server's default. */
export function initialLanguage(serverDefault) {
  let saved = null;
  try {
    saved = window.localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage can be disabled (private mode); the server default is fine then.
  }
  if (LANGUAGES.includes(saved)) return saved;
  return LANGUAGES.includes(serverDefault) ? serverDefault : "zh-CN";
}

/** Call `fn(lang)` after every language switch (re-render what was built with t()). */
export function onLanguage(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Load `lang`'s labels, remember the choice, relabel the document and tell the listeners. */
export async function loadLanguage(lang) {
  labels = await getJSON(`/i18n/${encodeURIComponent(lang)}.json`, { auth: "none" });
  current = lang;
  try {
    window.localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // See initialLanguage.
  }
  document.cookie = `${COOKIE}=${encodeURIComponent(lang)}; path=/; max-age=31536000; samesite=lax`;
  document.documentElement.lang = lang;
  applyLabels(document);
  for (const fn of listeners) fn(lang);
}

/** Fill every data-i18n* attribute under `root` with the current language's labels. */
export function applyLabels(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    const vars = el.dataset.i18nVars ? JSON.parse(el.dataset.i18nVars) : {};
    el.textContent = t(el.dataset.i18n, vars);
  }
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  if (root !== document) return;
  const titleKey = document.body && document.body.dataset.titleKey;
  if (titleKey) document.title = `${t(titleKey)} · ${t("app.name")}`;
  else if (has("app.title")) document.title = t("app.title");
}
