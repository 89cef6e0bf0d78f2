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

/** A label as a span that follows language switches: data-i18n, plus data-i18n-vars when it
 * has values (lib/i18n.js applyLabels fills them in again). */
export function tx(key, vars) {
  if (!vars) return h("span", { "data-i18n": key }, t(key));
  return h("span", { "data-i18n": key, "data-i18n-vars": JSON.stringify(vars) }, t(key, vars));
}

/** A whole number in the current language ("12,345"); null counts as 0. */
export function formatNumber(n) {
  return new Intl.NumberFormat(language()).format(n || 0);
}

/** A work page's case panel (aside#case-panel.side-panel, hidden until a case is opened). */
export function casePanel(...children) {
  return h(
    "aside",
    {
      class: "side-panel",
      id: "case-panel",
      hidden: true,
      "data-i18n-aria-label": "page.case",
      "aria-label": t("page.case"),
    },
    ...children,
  );
}

/** Open a work page's case panel on case `no` (or close it: no = ""): shows the panel, sets
 * body.panel-open (shell.css .panel-layout) and marks the items of `list` whose data-case-no is
 * `no` as .selected. */
export function showCasePanel(panel, list, no) {
  panel.hidden = !no;
  document.body.classList.toggle("panel-open", Boolean(no));
  for (const el of list.querySelectorAll("[data-case-no]")) {
    el.classList.toggle("selected", Boolean(no) && el.dataset.caseNo === no);
  }
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
