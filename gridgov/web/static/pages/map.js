// map.js — 网格地图 (/map, in the shell; public, components for logged-in staff): regions, unit
// grids, roads, buildings and components on one map of our own layers.
//
// Everything drawn comes from our own API as GeoJSON; the style has no external source, glyphs
// or sprites (map_style.js). Names are HTML labels (maplibregl.Marker), not symbol layers.
//
// Layers and when they load:
//   district / street / community boundaries  once, GET /api/regions.geojson?level=…
//   unit grids                                 by view, in tiles (lib/grid_tiles.js): the grids
//                                              from zoom 13, below it one outline per community
//                                              or street with its grid count
//   roads / buildings                          from zoom 12 / 15, by bbox, on moveend
//   城市部件 components (staff only)           map_components.js
// A click on a component shows it, a click on a count circle shows its counts, any other click
// identifies the grid under the point; all in the side panel (map_panel.js). The search box
// takes a grid code, a region code or an address (map_find.js).

import { ApiError, isAbort } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { gridLoader } from "../lib/grid_tiles.js";
import { t } from "../lib/i18n.js";
import { background } from "../lib/lazy.js";
import { ensureMapLibre } from "../lib/maps.js";
import { showError } from "../lib/notice.js";
import {
  onMapClick,
  refreshComponents,
  renderLegend,
  selectComponent,
  showComponent,
  updateCountLabels,
} from "./map_components.js";
import { hideResults, identify, renderResults, search, updateLabels } from "./map_find.js";
import { layout } from "./map_layout.js";
import { findFeature, hidePanel, refreshHighlight, renderPanel, select } from "./map_panel.js";
import { S, contains, load, setData, stats, viewBBox } from "./map_state.js";
import {
  BBOX_LAYERS,
  BBOX_PADDING,
  BUILDING_MIN_ZOOM,
  FALLBACK_CENTER,
  GRID_MIN_ZOOM,
  LAYER_GROUPS,
  REGION_LEVELS,
  STYLE,
} from "./map_style.js";

/** Per bbox layer (roads, buildings): the box its data covers and the request in flight. */
const bboxState = Object.fromEntries(
  Object.keys(BBOX_LAYERS).map((name) => [name, { bbox: null, controller: null }]),
);
let grids = null; // the grid loader (lib/grid_tiles.js)

export async function mount(ctx) {
  const role = ctx.user ? ctx.user.role : null;
  S.timeZone = ctx.config.timezone || "Asia/Shanghai";
  S.componentsAllowed = Boolean(role) && role !== "resident";
  S.visible.component = S.componentsAllowed;
  ctx.main.replaceChildren(...layout());
  wireControls();
  ctx.onLanguage(() => {
    renderPanel();
    renderResults();
    renderLegend();
    updateCountLabels();
    updateStatus();
  });
  exposeHooks();
  // The page is usable now (search, layer list); the map and its data follow after the first
  // paint, counted as in flight so window.gridgov.settled() waits for them.
  background(buildMap);
}

async function buildMap() {
  const [maplibregl, extent] = await Promise.all([
    ensureMapLibre(),
    load("/api/map/extent").catch((err) => {
      showError(err);
      return { bbox: null, center: null, empty: true };
    }),
  ]);
  S.map = new maplibregl.Map({
    container: "map",
    style: STYLE,
    ...(extent.bbox
      ? { bounds: extent.bbox, fitBoundsOptions: { padding: 24 } }
      : { center: FALLBACK_CENTER, zoom: 11 }),
    maxZoom: 20,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    attributionControl: { compact: true },
  });
  const map = S.map;
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "bottom-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  window.gridgov.map = map;
  for (const [name, on] of Object.entries(S.visible)) if (!on) setLayerVisible(name, false);

  map.on("moveend", onMoveEnd);
  map.on("click", onMapClick);
  for (const id of ["component-group", "component-point"]) {
    map.on("mouseenter", id, () => (map.getCanvas().style.cursor = "pointer"));
    map.on("mouseleave", id, () => (map.getCanvas().style.cursor = ""));
  }
  map.on("error", (e) => showError(new ApiError(0, "internal", e.error?.message || "map error")));
  S.mapLoaded = new Promise((resolve) => map.once("load", resolve));
  grids = gridLoader({ onData: drawGrids, onError: showError, stats });
  // Fetch the first layers while the map initialises; setData() waits for its "load".
  await Promise.all([
    loadRegions(),
    refreshGrids(),
    refreshBBoxLayers(),
    refreshComponents(),
    S.mapLoaded,
  ]);
  if (extent.empty) setStatus(t("status.no_data"));
  updateLabels();
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once("idle", resolve)));
}

function onMoveEnd() {
  // Debounced: a fly-to ends with one moveend, but wheel zooming can send several.
  clearTimeout(S.moveTimer);
  S.moveTimer = setTimeout(() => {
    S.moveTimer = null;
    S.statusOverride = null;
    refreshGrids();
    refreshBBoxLayers();
    refreshComponents();
    updateLabels();
  }, 120);
}

// ---------------------------------------------------------------------------------------------
// Data

/** Load the three region levels once. */
async function loadRegions() {
  await Promise.all(
    REGION_LEVELS.map(async (level) => {
      try {
        await setData(level, await load(`/api/regions.geojson?level=${level}`));
      } catch (err) {
        showError(err);
      }
    }),
  );
  refreshHighlight();
}

/** The unit grids in view (or the community / street outlines with their counts). */
function refreshGrids() {
  if (!S.map || !S.visible.grid) return Promise.resolve();
  return grids.refresh(S.map);
}

async function drawGrids(collection, level) {
  const EMPTY = { type: "FeatureCollection", features: [] };
  if (level === "grid") await setData("grid", collection);
  await setData("gridarea", level === "grid" ? EMPTY : collection);
  refreshHighlight();
  updateStatus();
  updateLabels();
}

/** Fetch each visible bbox layer whose loaded box no longer covers the view. */
async function refreshBBoxLayers() {
  const zoom = S.map.getZoom();
  const view = viewBBox(0);
  const jobs = Object.entries(BBOX_LAYERS).map(async ([name, cfg]) => {
    const state = bboxState[name];
    // Below the layer's zoom its minzoom hides it; keep what was loaded for zooming back in.
    if (zoom < cfg.minZoom || !S.visible[name]) return;
    if (state.bbox && contains(state.bbox, view)) return;
    state.controller?.abort();
    const controller = new AbortController();
    state.controller = controller;
    const want = viewBBox(BBOX_PADDING);
    try {
      const bbox = want.map((n) => n.toFixed(6)).join(",");
      const collection = await load(`${cfg.url}?bbox=${bbox}`, { signal: controller.signal });
      await setData(name, collection);
      state.bbox = want;
    } catch (err) {
      if (!isAbort(err)) showError(err);
    } finally {
      if (state.controller === controller) state.controller = null;
    }
  });
  await Promise.all(jobs);
  updateStatus();
  updateLabels();
}

// ---------------------------------------------------------------------------------------------
// Controls and status line

function wireControls() {
  document.getElementById("search").addEventListener("submit", (e) => {
    e.preventDefault();
    search(document.getElementById("search-input").value);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") hideResults();
  });
  // A click anywhere outside the search box closes the result list.
  document.addEventListener("click", (e) => {
    if (!document.getElementById("search").contains(e.target)) hideResults();
  });
  document.getElementById("panel-close").addEventListener("click", () => {
    hidePanel();
    select(null);
    selectComponent(null);
    S.pin?.remove();
  });
  const toggle = document.getElementById("layers-toggle");
  toggle.addEventListener("click", () => {
    const open = document.getElementById("layers").classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });
  if (S.componentsAllowed) addComponentToggle();
  for (const box of document.querySelectorAll("#layers-list input[data-layer]")) {
    box.addEventListener("change", () => setLayerVisible(box.dataset.layer, box.checked));
  }
}

/** The 城市部件 row of the layer list (staff only) and the legend under the list. */
function addComponentToggle() {
  const list = document.getElementById("layers-list");
  const before = list.querySelector('input[data-layer="label"]')?.closest("label") || null;
  const line = h(
    "label",
    {},
    h("input", { type: "checkbox", dataset: { layer: "component" }, checked: true }),
    " ",
    h("span", { "data-i18n": "layer.component" }, t("layer.component")),
  );
  list.insertBefore(line, before);
  list.after(h("div", { id: "component-legend", class: "component-legend", hidden: true }));
}

export function setLayerVisible(name, on) {
  S.visible[name] = on;
  for (const id of LAYER_GROUPS[name]) {
    if (S.map?.getLayer(id)) S.map.setLayoutProperty(id, "visibility", on ? "visible" : "none");
  }
  if (!S.map) return;
  if (name === "component") {
    if (on) refreshComponents();
    else S.componentState.controller?.abort();
    updateCountLabels();
    renderLegend();
    updateStatus();
  } else if (on && name === "grid") refreshGrids();
  else if (on && BBOX_LAYERS[name]) refreshBBoxLayers();
  else updateLabels();
}

export function setStatus(text) {
  S.statusOverride = text;
  updateStatus();
}

export function updateStatus() {
  const el = document.getElementById("status");
  if (!S.map || !el) return;
  const zoom = S.map.getZoom();
  let text;
  if (zoom < GRID_MIN_ZOOM) text = t("status.zoom_for_grids");
  else if (zoom < BUILDING_MIN_ZOOM && S.visible.building) text = t("status.zoom_for_buildings");
  else text = "";
  if (S.visible.grid) {
    const view = viewBBox(0);
    const inView = (f) => intersectsView(f, view);
    const n =
      zoom >= GRID_MIN_ZOOM
        ? S.data.grid.features.filter(inView).length
        : S.data.gridarea.features.filter(inView).reduce((sum, f) => sum + f.properties.grids, 0);
    text = [t("status.grid_count", { n }), text].filter(Boolean).join(" · ");
  }
  if (S.visible.component && S.componentState.level) {
    const c = S.componentState;
    const part = c.truncated
      ? t("component.status.truncated", { shown: S.data.component.features.length, n: c.total })
      : t("component.status.count", { n: componentsInView() });
    text = [text, part].filter(Boolean).join(" · ");
  }
  if (S.statusOverride) text = [S.statusOverride, text].filter(Boolean).join(" · ");
  el.textContent = text;
  el.hidden = !text;
}

/** Components in the view: the points in it, or the counts of the circles in it. */
function componentsInView() {
  const view = viewBBox(0);
  let n = 0;
  for (const f of S.data.component.features) {
    const [lon, lat] = f.geometry.coordinates;
    if (lon < view[0] || lon > view[2] || lat < view[1] || lat > view[3]) continue;
    n += f.properties.count ?? 1;
  }
  return n;
}

/** Cheap view test on a feature's first coordinate (for the status count only). */
function intersectsView(feature, view) {
  let c = feature.geometry.coordinates;
  while (Array.isArray(c[0])) c = c[0];
  return c[0] >= view[0] && c[0] <= view[2] && c[1] >= view[1] && c[1] <= view[3];
}

// ---------------------------------------------------------------------------------------------
// Test hooks (tests/e2e/test_map.py, test_map_components.py, gridgov/benchmarks/map_layers.py)

function exposeHooks() {
  const shellSettled = window.gridgov.settled;
  Object.assign(window.gridgov, {
    map: null,
    data: S.data,
    /** Grid features MapLibre has tiled for the current view (proves the layer is drawn). */
    renderedGridCount: () => (S.map ? S.map.querySourceFeatures("grid").length : 0),
    /** The grid layer's level in view and its tile cache. */
    grids: () => ({
      level: grids?.current().level ?? null,
      features: grids?.current().collection.features.length ?? 0,
      cachedTiles: grids?.cacheSize() ?? 0,
    }),
    /** The components answer on the map: level, counts, and features drawn in the view. */
    components: () => ({
      level: S.componentState.level,
      total: S.componentState.total,
      truncated: S.componentState.truncated,
      features: S.data.component.features.length,
      rendered: S.map
        ? S.map.queryRenderedFeatures({ layers: ["component-group", "component-point"] }).length
        : 0,
      countLabels: S.countMarkers.size,
      selected: S.componentState.selected,
    }),
    showComponent,
    /** The code of the grid or region drawn as the selection, or null. */
    highlightedCode: () => {
      if (!S.selected) return null;
      const name = S.selected.kind === "grid" ? "grid" : S.selected.level;
      return findFeature(name, S.selected.code) ? S.selected.code : null;
    },
    /** True when nothing is loading, moving or about to load: a test may look at the map. */
    settled: () =>
      Boolean(
        shellSettled() &&
        S.map &&
        S.moveTimer === null &&
        !grids?.busy() &&
        S.map.loaded() &&
        !S.map.isMoving() &&
        S.map.areTilesLoaded(),
      ),
    identify,
    search,
  });
}
