import { ApiError, isAbort } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { language, t } from "../lib/i18n.js";
import { showError } from "../lib/notice.js";
import { setLayerVisible, updateStatus } from "./map.js";
import { identify } from "./map_find.js";
import { hidePanel, select, showPanel } from "./map_panel.js";
import { S, contains, load, stats, viewBBox } from "./map_state.js";
import { COMPONENT_COMMUNITY_ZOOM, COMPONENT_GRID_ZOOM, COMPONENT_LIMIT, COMPONENT_PADDING, COMPONENT_POINT_ZOOM, COUNT_LABEL_MIN_ZOOM, MAJOR_COLORS, MAX_COUNT_LABELS, OTHER_MAJOR_COLOR, STATE_RINGS, groupRadius } from "./map_style.js";

// ---------------------------------------------------------------------------------------------
// Components (城市部件): counts at low zoom, the components themselves at high zoom

/** The level the server draws at a zoom (mirrors gridgov/components/mapping.py). */
export function componentBand(zoom) {
  if (zoom >= COMPONENT_POINT_ZOOM) return "points";
  if (zoom >= COMPONENT_GRID_ZOOM) return "grid";
  if (zoom >= COMPONENT_COMMUNITY_ZOOM) return "community";
  return "street";
}

/** True when what is on the map no longer answers for the view: it left the loaded box, or
 * the zoom moved to another level (complete points stay right at any zoom), or points were cut
 * and the view got smaller. */
export function componentsStale(view, zoom) {
  const c = S.componentState;
  if (!c.bbox || !contains(c.bbox, view)) return true;
  const band = componentBand(zoom);
  if (c.level === "points" && !c.truncated) return false;
  if (band !== c.band) return true;
  return c.truncated && zoom > c.zoom + 0.5;
}

/** Fetch the components layer for the view unless what is loaded still answers for it. A new
 * request aborts the one in flight (moveend is already debounced by onMoveEnd). */
export async function refreshComponents() {
  if (!S.map || !S.componentsAllowed || !S.visible.component) return;
  const zoom = S.map.getZoom();
  const view = viewBBox(0);
  if (!componentsStale(view, zoom)) {
    updateCountLabels();
    return;
  }
  const c = S.componentState;
  c.controller?.abort();
  const controller = new AbortController();
  c.controller = controller;
  const band = componentBand(zoom);
  const want = viewBBox(band === "points" ? COMPONENT_PADDING.points : COMPONENT_PADDING.other);
  const started = performance.now();
  try {
    const bbox = want.map((n) => n.toFixed(5)).join(",");
    // The level changes at whole zooms: a whole zoom keeps the URL (and its ETag) reusable.
    const url = `/api/map/components.geojson?bbox=${bbox}&zoom=${Math.floor(zoom)}&limit=${COMPONENT_LIMIT}`;
    const answer = await load(url, { signal: controller.signal, auth: "none" });
    const fetchedMs = Math.round(performance.now() - started);
    await S.mapLoaded;
    if (S.componentState.controller !== controller) return;
    Object.assign(c, {
      bbox: want,
      zoom,
      band,
      level: answer.level,
      total: answer.total,
      truncated: answer.truncated,
      classes: answer.classes || {},
    });
    if (answer.level !== "points") {
      S.map.setPaintProperty(
        "component-group",
        "circle-radius",
        groupRadius(answer.level, answer.max),
      );
    }
    S.data.component = answer;
    S.map.getSource("component").setData(answer);
    stats.componentLoads += 1;
    stats.lastComponentMs = fetchedMs;
    renderLegend();
    updateCountLabels();
    updateStatus();
  } catch (err) {
    if (isAbort(err)) return;
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      // The session ended or the role may not see components: drop the layer quietly.
      setLayerVisible("component", false);
      const box = document.querySelector('#layers-list input[data-layer="component"]');
      if (box) box.checked = false;
      return;
    }
    showError(err);
  } finally {
    if (S.componentState.controller === controller) S.componentState.controller = null;
  }
}

/** Count labels on the circles (HTML markers: no glyph server), for the circles in view once
 * they are big enough to hold one. */
export function updateCountLabels() {
  if (!S.map) return;
  const wanted = new Map();
  const level = S.componentState.level;
  const show =
    S.visible.component &&
    level &&
    level !== "points" &&
    S.map.getZoom() >= COUNT_LABEL_MIN_ZOOM[level] &&
    S.data.component.level === level;
  if (show) {
    const view = viewBBox(0);
    const number = new Intl.NumberFormat(language());
    for (const f of S.data.component.features) {
      const [lon, lat] = f.geometry.coordinates;
      if (lon < view[0] || lon > view[2] || lat < view[1] || lat > view[3]) continue;
      wanted.set(`${level}:${f.properties.code}`, {
        p: [lon, lat],
        text: number.format(f.properties.count),
      });
      if (wanted.size >= MAX_COUNT_LABELS) break;
    }
  }
  for (const [key, marker] of S.countMarkers) {
    if (!wanted.has(key) || marker.getElement().textContent !== wanted.get(key).text) {
      marker.remove();
      S.countMarkers.delete(key);
    }
  }
  for (const [key, { p, text }] of wanted) {
    if (S.countMarkers.has(key)) continue;
    const el = h("div", { class: `count-label count-label--${level}` }, text);
    S.countMarkers.set(key, new window.maplibregl.Marker({ element: el }).setLngLat(p).addTo(S.map));
  }
}

/** The legend under the layer list: what size, colour and ring mean at the loaded level. */
export function renderLegend() {
  const box = document.getElementById("component-legend");
  if (!box) return;
  const level = S.componentState.level;
  if (!S.visible.component || !level) {
    box.hidden = true;
    return;
  }
  const dot = (color, ring = null) =>
    h("span", {
      class: "legend-dot",
      style: `background:${color}` + (ring ? `;box-shadow:0 0 0 ${ring[1]}px ${ring[0]}` : ""),
    });
  const items =
    level === "points"
      ? [
          ...Object.entries(S.componentState.classes).map(([code, name]) =>
            h("li", {}, dot(MAJOR_COLORS[code] || OTHER_MAJOR_COLOR), ` ${name}`),
          ),
          ...COMPONENT_STATES.map((s) =>
            h("li", {}, dot("#e5e7eb", STATE_RINGS[s]), ` ${t(`component.state.${s}`)}`),
          ),
        ]
      : [
          h("li", { class: "legend-text" }, t("component.legend.size")),
          h(
            "li",
            { class: "legend-text" },
            h("span", { class: "legend-ramp" }),
            ` ${t("component.legend.colour")}`,
          ),
        ];
  box.replaceChildren(
    h(
      "p",
      { class: "legend-title" },
      t(level === "points" ? "component.legend.points" : "component.legend.counts"),
    ),
    h("ul", {}, ...items),
  );
  box.hidden = false;
}

/** Which component or count circle is under a click (a few pixels of slack for a finger). */
export function componentAt(point) {
  if (!S.visible.component || !S.map.getLayer("component-point")) return null;
  const pad = 5;
  const box = [
    [point.x - pad, point.y - pad],
    [point.x + pad, point.y + pad],
  ];
  const layers = ["component-point", "component-group"];
  const hits = S.map.queryRenderedFeatures(box, { layers });
  return hits.find((f) => f.layer.id === "component-point") || hits[0] || null;
}

export function onMapClick(e) {
  const hit = componentAt(e.point);
  if (!hit) {
    selectComponent(null);
    identify(e.lngLat.lng, e.lngLat.lat);
    return;
  }
  // Rendered features carry flattened properties; the loaded answer keeps the nested counts.
  if (hit.properties.id) {
    showComponent(hit.properties.id, hit.properties);
  } else {
    const code = hit.properties.code;
    const f = S.data.component.features.find((x) => x.properties.code === code);
    if (f) showGroup(f);
  }
}

export function selectComponent(id) {
  S.componentState.selected = id;
  if (S.map?.getLayer("component-selected")) {
    S.map.setFilter("component-selected", ["==", ["get", "id"], id || ""]);
  }
}


/** Show one component (GET /api/components/{id}) with its owner department's name. */
export async function showComponent(id, props = {}) {
  S.identifyController?.abort();
  S.componentController?.abort();
  const controller = new AbortController();
  S.componentController = controller;
  S.pin?.remove();
  select(null);
  selectComponent(id);
  showPanel({ kind: "loading" });
  try {
    const [detail] = await Promise.all([
      load(`/api/components/${encodeURIComponent(id)}`, { signal: controller.signal }),
      loadDepartments(controller.signal),
    ]);
    showPanel({ kind: "component", component: detail, props });
  } catch (err) {
    if (isAbort(err)) return;
    hidePanel();
    showError(err);
  }
}

/** Department names by code, once (GET /api/departments; a missing name shows the code). */
export async function loadDepartments(signal) {
  if (S.departments) return S.departments;
  const list = await load("/api/departments", { signal });
  S.departments = new Map(list.map((d) => [d.code, d.name]));
  return S.departments;
}

export function showGroup(feature) {
  S.identifyController?.abort();
  S.componentController?.abort();
  S.pin?.remove();
  select(null);
  selectComponent(null);
  showPanel({ kind: "component-group", feature, classes: { ...S.componentState.classes } });
}
