// dom.js — small helpers to build DOM nodes and format numbers and dates for the current language.
//
// Nodes are built with textContent, never innerHTML, so names from the database cannot inject
// markup.

import { language, t } from "./i18n.js";

/** h("dd", {class: "x", dataset: {field: "code"}}, "text", childNode, …) → an element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace `el`'s children, skipping null/false (replaceChildren would print "null"). */
export function fillIn(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c != null && c !== false));
  return el;
}

/** An area in m², with km² beside it for large regions: "12,345 m²", "2.51 km² (2,510,000 m²)". */
export function formatArea(m2) {
  if (m2 == null || Number.isNaN(Number(m2))) return t("value.none");
  const whole = new Intl.NumberFormat(language(), { maximumFractionDigits: 0 });
  if (m2 < 1_000_000) return `${whole.format(m2)} m²`;
  const km = new Intl.NumberFormat(language(), { maximumFractionDigits: 2 });
  return `${km.format(m2 / 1_000_000)} km² (${whole.format(m2)} m²)`;
}

/** An ISO timestamp as a date in the deployment's time zone (default Asia/Shanghai). */
export function formatDate(iso, timeZone) {
  if (!iso) return t("value.none");
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  try {
    return new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeZone }).format(date);
  } catch {
    return new Intl.DateTimeFormat(language(), { dateStyle: "medium" }).format(date);
  }
}

export function formatLonLat(lon, lat) {
  return `${Number(lon).toFixed(6)}, ${Number(lat).toFixed(6)}`;
}
