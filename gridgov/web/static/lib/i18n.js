// i18n.js — UI labels from /i18n/{lang}.json (zh-CN default, English switch).
//
// Markup carries keys, never text: data-i18n (text content), data-i18n-placeholder,
// data-i18n-aria-label and data-i18n-title. The chosen language is remembered in localStorage.

import { getJSON } from "./api.js";

export const LANGUAGES = ["zh-CN", "en"];
const STORAGE_KEY = "gridgov.lang";

let current = "zh-CN";
let labels = {};

/** The label for `key`, with {name} placeholders filled from `vars`; the key itself if missing. */
export function t(key, vars = {}) {
  const text = Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** True when a label exists for `key` (used to pick a translated headline for an error code). */
export function has(key) {
  return Object.prototype.hasOwnProperty.call(labels, key);
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

/** Load `lang`'s labels, remember the choice and relabel the document. */
export async function loadLanguage(lang) {
  labels = await getJSON(`/i18n/${encodeURIComponent(lang)}.json`);
  current = lang;
  try {
    window.localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // See initialLanguage.
  }
  document.documentElement.lang = lang;
  applyLabels(document);
}

/** Fill every data-i18n* attribute under `root` with the current language's labels. */
export function applyLabels(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  if (has("app.title")) document.title = t("app.title");
}
