// map_layout.js — the map page's markup: the map, the search box, the layer list, the side
// panel and the status line (labels from data-i18n*, relabelled on a language switch).

import { h } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

const LAYER_ROWS = ["district", "street", "community", "grid", "road", "building", "label"];

export function layout() {
  const layerRow = (name) =>
    h(
      "label",
      {},
      h("input", { type: "checkbox", dataset: { layer: name }, checked: true }),
      " ",
      h("span", { "data-i18n": `layer.${name}` }, t(`layer.${name}`)),
    );
  return [
    h("div", { id: "map", class: "map-canvas", "data-i18n-aria-label": "map.label" }),
    h(
      "form",
      { id: "search", class: "map-search", role: "search", autocomplete: "off" },
      h("input", {
        id: "search-input",
        type: "search",
        name: "q",
        enterkeyhint: "search",
        "data-i18n-placeholder": "search.placeholder",
        placeholder: t("search.placeholder"),
        "data-i18n-aria-label": "search.label",
        "aria-label": t("search.label"),
      }),
      h("button", { type: "submit", "data-i18n": "search.button" }, t("search.button")),
      h("ol", { id: "search-results", class: "search-results", hidden: true }),
    ),
    h(
      "section",
      { id: "layers", class: "map-card layers" },
      h(
        "button",
        {
          id: "layers-toggle",
          type: "button",
          class: "layers-toggle",
          "aria-expanded": "false",
          "data-i18n": "layers.title",
        },
        t("layers.title"),
      ),
      h(
        "fieldset",
        { id: "layers-list" },
        h("legend", { "data-i18n": "layers.title" }, t("layers.title")),
        ...LAYER_ROWS.map(layerRow),
      ),
    ),
    h(
      "aside",
      { id: "panel", class: "map-card map-panel", hidden: true, "aria-live": "polite" },
      h(
        "button",
        {
          id: "panel-close",
          type: "button",
          class: "close",
          "data-i18n-aria-label": "panel.close",
          "aria-label": t("panel.close"),
        },
        "×",
      ),
      h("div", { id: "panel-body" }),
    ),
    h("div", { id: "status", class: "map-status", "aria-live": "polite" }),
  ];
}
