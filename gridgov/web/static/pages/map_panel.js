import { formatArea, formatDate, formatLonLat, h } from "../lib/dom.js";
import { language, t } from "../lib/i18n.js";
import { S } from "./map_state.js";
import { COMPONENT_STATES, EMPTY, MAJOR_COLORS, NEXT_LEVEL_ZOOM, OTHER_MAJOR_COLOR, REGION_LEVELS } from "./map_style.js";

// ---------------------------------------------------------------------------------------------
// Selection highlight

export function findFeature(name, code) {
  return S.data[name].features.find((f) => f.properties && f.properties.code === code) || null;
}

/** Draw the selected grid or region from the data already loaded (grids arrive after a fly). */
export function refreshHighlight() {
  if (!S.map || !S.map.getSource("highlight")) return;
  let feature = null;
  if (S.selected?.kind === "grid") feature = findFeature("grid", S.selected.code);
  if (S.selected?.kind === "region") feature = findFeature(S.selected.level, S.selected.code);
  S.map
    .getSource("highlight")
    .setData(feature ? { type: "FeatureCollection", features: [feature] } : EMPTY);
}

export function select(next) {
  S.selected = next;
  refreshHighlight();
}

export function placePin(lon, lat) {
  if (!S.pin) S.pin = new window.maplibregl.Marker({ color: "#dc2626" });
  S.pin.setLngLat([lon, lat]).addTo(S.map);
}

export function fitBBox(bbox, maxZoom) {
  S.map.fitBounds(
    [
      [bbox[0], bbox[1]],
      [bbox[2], bbox[3]],
    ],
    { padding: fitPadding(), maxZoom, duration: 700 },
  );
}

/** Keep the fitted shape clear of the side panel (right on a desktop, bottom on a phone). */
export function fitPadding() {
  const phone = window.matchMedia("(max-width: 640px)").matches;
  return phone
    ? { top: 80, bottom: Math.round(window.innerHeight * 0.45), left: 24, right: 24 }
    : { top: 80, bottom: 40, left: 40, right: 380 };
}
// ---------------------------------------------------------------------------------------------
// Side panel

export function showPanel(model) {
  S.panel = model;
  renderPanel();
}

export function hidePanel() {
  S.panel = null;
  document.getElementById("panel").hidden = true;
}

/** A <dt>/<dd> pair; the dd carries data-field for tests and styling. */
export function row(field, labelKey, ...value) {
  return [h("dt", {}, t(labelKey)), h("dd", { dataset: { field } }, ...value)];
}

export function ref(r) {
  if (!r) return t("value.none");
  return [r.name, " ", h("span", { class: "code" }, r.code)];
}

export function regionName(code) {
  for (const level of REGION_LEVELS) {
    const f = findFeature(level, code);
    if (f) return f.properties.name;
  }
  return null;
}

export function renderPanel() {
  const box = document.getElementById("panel");
  const body = document.getElementById("panel-body");
  if (!S.panel) {
    box.hidden = true;
    return;
  }
  body.replaceChildren(...panelContent(S.panel));
  box.hidden = false;
  box.dataset.kind = S.panel.kind;
}

export function panelContent(model) {
  if (model.kind === "loading") return [h("p", { class: "muted" }, t("status.loading"))];
  if (model.kind === "outside") {
    return [
      h("h2", {}, t("error.outside")),
      h("p", { class: "server-message" }, model.message),
      h("dl", {}, row("point", "field.point", formatLonLat(model.point.lon, model.point.lat))),
    ];
  }
  if (model.kind === "component") return componentContent(model);
  if (model.kind === "component-group") return groupContent(model);
  if (model.kind === "region") {
    const r = model.region;
    const parent = r.parent_code
      ? [regionName(r.parent_code) || "", " ", h("span", { class: "code" }, r.parent_code)]
      : t("value.none");
    return [
      h("p", { class: "kicker" }, t(`level.${r.level}`)),
      h("h2", { dataset: { field: "title" } }, r.name),
      h(
        "dl",
        {},
        row("code", "field.region_code", h("span", { class: "code" }, r.code)),
        row("level", "field.level", t(`level.${r.level}`)),
        row("parent", "field.parent", parent),
        row("area", "field.area", formatArea(r.area_m2)),
        row("children", "field.children", String(r.children_count)),
      ),
      h(
        "button",
        { type: "button", class: "link", onclick: () => fitBBox(r.bbox, 16) },
        t("panel.zoom_to"),
      ),
    ];
  }
  const g = model.grid;
  const supervisor = g.supervisor
    ? [g.supervisor.name, " ", h("span", { class: "code" }, g.supervisor.username)]
    : h("span", { class: "muted" }, t("supervisor.none"));
  return [
    h("p", { class: "kicker" }, t("panel.grid")),
    h(
      "h2",
      { dataset: { field: "title" } },
      h("span", { class: "code" }, g.code),
      " ",
      g.name || "",
    ),
    h(
      "dl",
      {},
      model.address ? row("address", "field.address", model.address) : null,
      row("code", "field.code", h("span", { class: "code" }, g.code)),
      row("name", "field.name", g.name || t("value.none")),
      row("community", "field.community", ref(g.community)),
      row("street", "field.street", ref(g.street)),
      row("district", "field.district", ref(g.district)),
      g.city ? row("city", "field.city", ref(g.city)) : null,
      row("area", "field.area", formatArea(g.area_m2)),
      row("supervisor", "field.supervisor", supervisor),
      row("valid_from", "field.valid_from", formatDate(g.valid_from, S.timeZone)),
      g.valid_to ? row("valid_to", "field.valid_to", formatDate(g.valid_to, S.timeZone)) : null,
      model.point
        ? row("point", "field.point", formatLonLat(model.point.lon, model.point.lat))
        : null,
    ),
    g.bbox
      ? h(
          "button",
          { type: "button", class: "link", onclick: () => fitBBox(g.bbox, 17) },
          t("panel.zoom_to"),
        )
      : null,
  ];
}

export function stateBadge(state) {
  return h(
    "span",
    { class: `component-state component-state--${state}` },
    t(`component.state.${state}`),
  );
}

export function deptRef(code) {
  if (!code) return t("value.none");
  const name = S.departments?.get(code);
  return name
    ? [name, " ", h("span", { class: "code" }, code)]
    : h("span", { class: "code" }, code);
}

export function componentContent(model) {
  const c = model.component;
  const subclassName = model.props.subclass_name || "";
  const major = c.subclass_code.slice(0, 2);
  const majorName = S.componentState.classes[major] || "";
  return [
    h("p", { class: "kicker" }, t("component.kicker")),
    h(
      "h2",
      { dataset: { field: "title" } },
      c.name || subclassName,
      " ",
      h("span", { class: "code" }, c.id),
    ),
    h(
      "dl",
      {},
      row("component_id", "component.field.id", h("span", { class: "code" }, c.id)),
      row("name", "field.name", c.name || t("value.none")),
      row("subclass", "component.field.subclass", [
        subclassName,
        " ",
        h("span", { class: "code" }, c.subclass_code),
      ]),
      row("major", "component.field.major", [majorName, " ", h("span", { class: "code" }, major)]),
      row("state", "component.field.state", stateBadge(c.state)),
      row("owner", "component.field.owner", deptRef(c.owner_dept_code)),
      c.maintainer_dept_code && c.maintainer_dept_code !== c.owner_dept_code
        ? row("maintainer", "component.field.maintainer", deptRef(c.maintainer_dept_code))
        : null,
      row("grid", "component.field.grid", h("span", { class: "code" }, c.grid_code)),
      row("point", "component.field.point", formatLonLat(c.lon, c.lat)),
    ),
  ];
}

export function groupContent(model) {
  const p = model.feature.properties;
  const number = new Intl.NumberFormat(language());
  const kicker = p.level === "grid" ? t("panel.grid") : t(`level.${p.level}`);
  const byState = COMPONENT_STATES.filter((s) => p.states[s]).map((s) =>
    h("li", {}, stateBadge(s), " ", number.format(p.states[s])),
  );
  const byClass = Object.entries(p.classes).map(([code, n]) =>
    h(
      "li",
      {},
      h("span", {
        class: "legend-dot",
        style: `background:${MAJOR_COLORS[code] || OTHER_MAJOR_COLOR}`,
      }),
      ` ${model.classes[code] || code} `,
      h("span", { class: "code" }, code),
      ` ${number.format(n)}`,
    ),
  );
  const [lon, lat] = model.feature.geometry.coordinates;
  return [
    h("p", { class: "kicker" }, `${kicker} · ${t("component.group_kicker")}`),
    h(
      "h2",
      { dataset: { field: "title" } },
      p.name || "",
      " ",
      h("span", { class: "code" }, p.code),
    ),
    h(
      "dl",
      {},
      row("count", "component.field.count", number.format(p.count)),
      row("not_intact", "component.field.not_intact", number.format(p.not_intact)),
      row("by_state", "component.field.by_state", h("ul", { class: "counts" }, ...byState)),
      row("by_class", "component.field.by_class", h("ul", { class: "counts" }, ...byClass)),
    ),
    h(
      "button",
      {
        type: "button",
        class: "link",
        onclick: () =>
          S.map.easeTo({
            center: [lon, lat],
            zoom: Math.max(S.map.getZoom(), NEXT_LEVEL_ZOOM[p.level]),
            duration: 700,
          }),
      },
      t("component.zoom_in"),
    ),
  ];
}
