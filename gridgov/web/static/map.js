// map.js — 网格地图: the district's regions, unit grids, roads and buildings on one map.
//
// Everything drawn comes from our own API as GeoJSON; the style has no external source, glyphs or
// sprites, so the page works with no internet. Names are HTML labels (maplibregl.Marker), not
// symbol layers, because symbol text would need glyph PBFs from a server.
//
// Layers and when they load:
//   district / street / community boundaries  once, GET /api/regions.geojson?level=…
//   unit grids                                 zoom ≥ GRID_MIN_ZOOM, by bbox, on moveend
//   roads                                      zoom ≥ ROAD_MIN_ZOOM, by bbox, on moveend
//   buildings                                  zoom ≥ BUILDING_MIN_ZOOM, by bbox, on moveend
//   城市部件 components (staff only)           by bbox and zoom, on moveend, from
//                                              GET /api/map/components.geojson: counts per
//                                              street / community / unit grid at low zoom
//                                              (circles sized by count, coloured by the share
//                                              not intact), the components themselves from
//                                              zoom 17 or when the view holds few of them
// A click on a component shows it, a click on a count circle shows its counts, any other click
// identifies the grid under the point (geocode + grid detail); all in the side panel. The
// search box takes a grid code, a region code or an address.

import { ApiError, getJSON, isAbort, postJSON } from "./lib/api.js";
import { formatArea, formatDate, formatLonLat, h } from "./lib/dom.js";
import { has, initialLanguage, language, loadLanguage, t } from "./lib/i18n.js";

const maplibregl = window.maplibregl;

const GRID_MIN_ZOOM = 13;
const ROAD_MIN_ZOOM = 12;
const BUILDING_MIN_ZOOM = 15;
// Bbox layers are fetched for the view grown by this fraction on each side, so small pans need
// no new request; a new request goes out only when the view leaves the loaded box.
const BBOX_PADDING = 0.5;
const MAX_LABELS = 150;
const GRID_CODE_MIN_LENGTH = 14; // community (12 digits) + 2 or 3 digits of sequence
const FALLBACK_CENTER = [116.4074, 39.9042];
const REGION_LEVELS = ["district", "street", "community"];
const EMPTY = { type: "FeatureCollection", features: [] };
// Components: the server picks the level by zoom (gridgov/components/mapping.py); these mirror
// its thresholds so the page knows when a new level is due.
const COMPONENT_COMMUNITY_ZOOM = 12;
const COMPONENT_GRID_ZOOM = 14;
const COMPONENT_POINT_ZOOM = 17;
const COMPONENT_PADDING = { points: 0.2, other: 0.5 };
const COMPONENT_LIMIT = 5000;
const MAX_COUNT_LABELS = 150;
const COUNT_LABEL_MIN_ZOOM = { street: 0, community: 0, grid: 15.5 };
/** Where "zoom in" takes a count circle of each level. */
const NEXT_LEVEL_ZOOM = { street: 12.5, community: 14.5, grid: 17.2 };
const MAJOR_COLORS = {
  "01": "#2563eb",
  "02": "#7c3aed",
  "03": "#0d9488",
  "04": "#16a34a",
  "05": "#b45309",
  "06": "#64748b",
  "07": "#db2777",
};
const OTHER_MAJOR_COLOR = "#475569";
const STATE_RINGS = {
  intact: ["#ffffff", 1],
  damaged: ["#dc2626", 2.5],
  lost: ["#111827", 2.5],
  occupied: ["#f59e0b", 2.5],
  abandoned: ["#9ca3af", 2.5],
};
const COMPONENT_STATES = Object.keys(STATE_RINGS);

const COLORS = {
  background: "#e4e7e0",
  district: "#b91c1c",
  districtFill: "#f1efe8",
  street: "#b45309",
  community: "#7c3aed",
  grid: "#2563eb",
  road: "#ffffff",
  roadCasing: "#a9b0b8",
  building: "#d6cfc2",
  buildingLine: "#a89f8f",
  highlight: "#f59e0b",
};

// ---------------------------------------------------------------------------------------------
// Style: a background and our GeoJSON sources, nothing else.

function source() {
  return { type: "geojson", data: EMPTY };
}

const roadWidth = (scale) => [
  "interpolate",
  ["linear"],
  ["zoom"],
  12,
  ["*", scale, ["match", ["get", "road_class"], "main", 2.5, "secondary", 1.6, "minor", 0.8, 0.5]],
  17,
  ["*", scale, ["match", ["get", "road_class"], "main", 14, "secondary", 9, "minor", 5, 2]],
];

const STYLE = {
  version: 8,
  name: "gridgov",
  sources: {
    district: source(),
    street: source(),
    community: source(),
    grid: source(),
    road: source(),
    building: source(),
    highlight: source(),
    component: source(),
  },
  layers: [
    { id: "background", type: "background", paint: { "background-color": COLORS.background } },
    {
      id: "district-fill",
      type: "fill",
      source: "district",
      paint: { "fill-color": COLORS.districtFill },
    },
    {
      id: "building-fill",
      type: "fill",
      source: "building",
      minzoom: BUILDING_MIN_ZOOM,
      paint: { "fill-color": COLORS.building, "fill-outline-color": COLORS.buildingLine },
    },
    {
      id: "road-casing",
      type: "line",
      source: "road",
      minzoom: ROAD_MIN_ZOOM,
      filter: ["!=", ["get", "road_class"], "other"],
      layout: { "line-cap": "round", "line-join": "round" },
      paint: { "line-color": COLORS.roadCasing, "line-width": roadWidth(1.25) },
    },
    {
      id: "road-line",
      type: "line",
      source: "road",
      minzoom: ROAD_MIN_ZOOM,
      filter: ["!=", ["get", "road_class"], "other"],
      layout: { "line-cap": "round", "line-join": "round" },
      paint: { "line-color": COLORS.road, "line-width": roadWidth(1) },
    },
    {
      id: "road-other",
      type: "line",
      source: "road",
      minzoom: ROAD_MIN_ZOOM,
      filter: ["==", ["get", "road_class"], "other"],
      paint: { "line-color": "#7aa7c7", "line-width": 1.2 },
    },
    {
      id: "grid-fill",
      type: "fill",
      source: "grid",
      minzoom: GRID_MIN_ZOOM,
      paint: { "fill-color": COLORS.grid, "fill-opacity": 0.04 },
    },
    {
      id: "grid-line",
      type: "line",
      source: "grid",
      minzoom: GRID_MIN_ZOOM,
      paint: {
        "line-color": COLORS.grid,
        "line-opacity": 0.75,
        "line-width": ["interpolate", ["linear"], ["zoom"], 13, 0.6, 17, 1.5],
      },
    },
    {
      id: "community-line",
      type: "line",
      source: "community",
      paint: {
        "line-color": COLORS.community,
        "line-width": ["interpolate", ["linear"], ["zoom"], 11, 0.8, 16, 2],
        "line-dasharray": [3, 2],
      },
    },
    {
      id: "street-line",
      type: "line",
      source: "street",
      paint: {
        "line-color": COLORS.street,
        "line-width": ["interpolate", ["linear"], ["zoom"], 10, 1.5, 16, 3],
      },
    },
    {
      id: "district-line",
      type: "line",
      source: "district",
      paint: { "line-color": COLORS.district, "line-width": 3 },
    },
    {
      id: "highlight-fill",
      type: "fill",
      source: "highlight",
      paint: { "fill-color": COLORS.highlight, "fill-opacity": 0.25 },
    },
    {
      id: "highlight-line",
      type: "line",
      source: "highlight",
      paint: { "line-color": COLORS.highlight, "line-width": 3 },
    },
    {
      id: "component-group",
      type: "circle",
      source: "component",
      filter: ["has", "count"],
      paint: {
        "circle-radius": groupRadius("grid", 1),
        "circle-color": [
          "interpolate",
          ["linear"],
          ["/", ["get", "not_intact"], ["max", ["get", "count"], 1]],
          0,
          "#0284c7",
          0.1,
          "#f59e0b",
          0.25,
          "#dc2626",
        ],
        "circle-opacity": 0.55,
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": 1.2,
      },
    },
    {
      id: "component-point",
      type: "circle",
      source: "component",
      filter: ["has", "id"],
      paint: {
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 14, 2.5, 17, 4, 20, 8],
        "circle-color": [
          "match",
          ["get", "major"],
          ...Object.entries(MAJOR_COLORS).flat(),
          OTHER_MAJOR_COLOR,
        ],
        "circle-stroke-color": [
          "match",
          ["get", "state"],
          ...COMPONENT_STATES.flatMap((s) => [s, STATE_RINGS[s][0]]),
          "#ffffff",
        ],
        "circle-stroke-width": [
          "match",
          ["get", "state"],
          ...COMPONENT_STATES.flatMap((s) => [s, STATE_RINGS[s][1]]),
          1,
        ],
      },
    },
    {
      id: "component-selected",
      type: "circle",
      source: "component",
      filter: ["==", ["get", "id"], ""],
      paint: {
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 14, 7, 20, 14],
        "circle-color": "rgba(0,0,0,0)",
        "circle-stroke-color": COLORS.highlight,
        "circle-stroke-width": 3,
      },
    },
  ],
};

/** Circle radius of a count circle: area ∝ count, the biggest of the answer (`max`) at the
 * level's largest size (growing with the zoom where the level spans several zooms). */
function groupRadius(level, max) {
  const scale = (small, big) => [
    "interpolate",
    ["linear"],
    ["sqrt", ["get", "count"]],
    0,
    small,
    Math.sqrt(Math.max(max, 1)),
    big,
  ];
  if (level === "street") return scale(8, 36);
  if (level === "community")
    return ["interpolate", ["linear"], ["zoom"], 12, scale(5, 20), 14, scale(8, 32)];
  return ["interpolate", ["linear"], ["zoom"], 14, scale(2.5, 7), 17, scale(6, 24)];
}

// Map layers behind each checkbox of the layer panel (data-layer="…").
const LAYER_GROUPS = {
  district: ["district-fill", "district-line"],
  street: ["street-line"],
  community: ["community-line"],
  grid: ["grid-fill", "grid-line"],
  road: ["road-casing", "road-line", "road-other"],
  building: ["building-fill"],
  label: [],
  component: ["component-group", "component-point", "component-selected"],
};

// Layers fetched by bounding box as the map moves.
const BBOX_LAYERS = {
  grid: { url: "/api/grids.geojson", minZoom: GRID_MIN_ZOOM },
  road: { url: "/api/roads.geojson", minZoom: ROAD_MIN_ZOOM },
  building: { url: "/api/buildings.geojson", minZoom: BUILDING_MIN_ZOOM },
};

// ---------------------------------------------------------------------------------------------
// State

const timeZone = document.body.dataset.timezone || "Asia/Shanghai";
const visible = Object.fromEntries(Object.keys(LAYER_GROUPS).map((name) => [name, true]));
/** Components are for logged-in staff (the API says 401/403 to anyone else). */
const staffRole = (document.querySelector(".user-role")?.dataset.i18n || "").replace("role.", "");
const componentsAllowed = Boolean(staffRole) && staffRole !== "resident";
visible.component = componentsAllowed;
/** The components answer on the map: what was asked for and what came back. */
const componentState = {
  bbox: null,
  zoom: null,
  band: null,
  level: null,
  total: 0,
  truncated: false,
  classes: {},
  controller: null,
  selected: null,
};
const countMarkers = new Map(); // "level:code" → maplibregl.Marker
let departments = null; // code → name, loaded on the first component shown
/** The last FeatureCollection loaded into each source (for highlights, labels and tests). */
const data = Object.fromEntries(Object.keys(STYLE.sources).map((name) => [name, EMPTY]));
/** Per bbox layer: the box its data covers and the request in flight. */
const bboxState = Object.fromEntries(
  Object.keys(BBOX_LAYERS).map((name) => [name, { bbox: null, controller: null }]),
);
/** What the side panel shows; re-rendered on a language switch. */
let panel = null; // {kind: "grid"|"region"|"outside"|"loading", …}
let searchResults = null; // {query, results}
let selected = null; // {kind: "grid"|"region", code, level?}
let pin = null;
const labelMarkers = new Map(); // key → maplibregl.Marker
const labelPoints = new Map(); // key → [lon, lat]

/** Test hook: tests read counts and timings from here (see tests/e2e/test_map.py). */
const stats = {
  gridLoads: 0,
  gridFeatures: 0,
  lastGridMs: null,
  componentLoads: 0,
  lastComponentMs: null,
  inflight: 0,
  errors: [],
};
let map = null;
let mapLoaded = null; // resolves on the map's "load" event

/** getJSON, counted in stats.inflight so tests can wait until the page has settled. */
async function load(path, options) {
  stats.inflight += 1;
  try {
    return await getJSON(path, options);
  } finally {
    stats.inflight -= 1;
  }
}

// ---------------------------------------------------------------------------------------------
// Start-up

async function boot() {
  await loadLanguage(initialLanguage(document.body.dataset.defaultLang));
  document.getElementById("lang-select").value = language();
  wireControls();

  if (!maplibregl) {
    showError(new ApiError(0, "internal", "maplibre-gl.js did not load (front-end not built?)"));
    return;
  }
  let extent = { bbox: null, center: null, empty: true };
  try {
    extent = await load("/api/map/extent");
  } catch (err) {
    showError(err);
  }

  map = new maplibregl.Map({
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
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "bottom-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  window.gridgov.map = map;

  map.on("moveend", onMoveEnd);
  map.on("click", onMapClick);
  for (const id of ["component-group", "component-point"]) {
    map.on("mouseenter", id, () => (map.getCanvas().style.cursor = "pointer"));
    map.on("mouseleave", id, () => (map.getCanvas().style.cursor = ""));
  }
  map.on("error", (e) => showError(new ApiError(0, "internal", e.error?.message || "map error")));
  mapLoaded = new Promise((resolve) => map.once("load", resolve));
  // Fetch the first layers while the map initialises: both take a while on a slow device.
  // setData() waits for the map's "load" before handing data to a source.
  await Promise.all([loadRegions(), refreshBBoxLayers(), refreshComponents(), mapLoaded]);
  if (extent.empty) setStatus(t("status.no_data"));
  updateLabels();
  window.gridgov.ready = true;
}

let moveTimer = null;
function onMoveEnd() {
  // Debounced: a fly-to ends with one moveend, but wheel zooming can send several.
  clearTimeout(moveTimer);
  moveTimer = setTimeout(() => {
    moveTimer = null;
    statusOverride = null;
    refreshBBoxLayers();
    refreshComponents();
    updateLabels();
  }, 120);
}

// ---------------------------------------------------------------------------------------------
// Data

/** Load the three region levels once (they are small: a district has a few hundred units). */
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

/** Put a FeatureCollection into a source (once the map has loaded its style). */
async function setData(name, collection) {
  await mapLoaded;
  data[name] = collection;
  map.getSource(name).setData(collection);
  if (name === "grid" || REGION_LEVELS.includes(name)) labelPoints.clear();
}

/** The current view as [minx, miny, maxx, maxy], grown by `pad` of its size on each side. */
function viewBBox(pad = 0) {
  const b = map.getBounds();
  const dx = (b.getEast() - b.getWest()) * pad;
  const dy = (b.getNorth() - b.getSouth()) * pad;
  return [
    Math.max(-180, b.getWest() - dx),
    Math.max(-90, b.getSouth() - dy),
    Math.min(180, b.getEast() + dx),
    Math.min(90, b.getNorth() + dy),
  ];
}

function contains(outer, inner) {
  return (
    outer[0] <= inner[0] && outer[1] <= inner[1] && outer[2] >= inner[2] && outer[3] >= inner[3]
  );
}

/** Fetch each visible bbox layer whose loaded box no longer covers the view. */
async function refreshBBoxLayers() {
  const zoom = map.getZoom();
  const view = viewBBox(0);
  const jobs = Object.entries(BBOX_LAYERS).map(async ([name, cfg]) => {
    const state = bboxState[name];
    // Below the layer's zoom its minzoom hides it; keep what was loaded for zooming back in.
    if (zoom < cfg.minZoom || !visible[name]) return;
    if (state.bbox && contains(state.bbox, view)) return;
    state.controller?.abort();
    const controller = new AbortController();
    state.controller = controller;
    const want = viewBBox(BBOX_PADDING);
    const started = performance.now();
    try {
      const bbox = want.map((n) => n.toFixed(6)).join(",");
      const collection = await load(`${cfg.url}?bbox=${bbox}`, { signal: controller.signal });
      await setData(name, collection);
      state.bbox = want;
      if (name === "grid") {
        stats.gridLoads += 1;
        stats.gridFeatures = collection.features.length;
        stats.lastGridMs = Math.round(performance.now() - started);
        refreshHighlight();
      }
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
// Components (城市部件): counts at low zoom, the components themselves at high zoom

/** The level the server draws at a zoom (mirrors gridgov/components/mapping.py). */
function componentBand(zoom) {
  if (zoom >= COMPONENT_POINT_ZOOM) return "points";
  if (zoom >= COMPONENT_GRID_ZOOM) return "grid";
  if (zoom >= COMPONENT_COMMUNITY_ZOOM) return "community";
  return "street";
}

/** True when what is on the map no longer answers for the view: it left the loaded box, or
 * the zoom moved to another level (complete points stay right at any zoom), or points were cut
 * and the view got smaller. */
function componentsStale(view, zoom) {
  const c = componentState;
  if (!c.bbox || !contains(c.bbox, view)) return true;
  const band = componentBand(zoom);
  if (c.level === "points" && !c.truncated) return false;
  if (band !== c.band) return true;
  return c.truncated && zoom > c.zoom + 0.5;
}

/** Fetch the components layer for the view unless what is loaded still answers for it. A new
 * request aborts the one in flight (moveend is already debounced by onMoveEnd). */
async function refreshComponents() {
  if (!map || !componentsAllowed || !visible.component) return;
  const zoom = map.getZoom();
  const view = viewBBox(0);
  if (!componentsStale(view, zoom)) {
    updateCountLabels();
    return;
  }
  const c = componentState;
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
    await mapLoaded;
    if (componentState.controller !== controller) return;
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
      map.setPaintProperty(
        "component-group",
        "circle-radius",
        groupRadius(answer.level, answer.max),
      );
    }
    data.component = answer;
    map.getSource("component").setData(answer);
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
    if (componentState.controller === controller) componentState.controller = null;
  }
}

/** Count labels on the circles (HTML markers: no glyph server), for the circles in view once
 * they are big enough to hold one. */
function updateCountLabels() {
  if (!map) return;
  const wanted = new Map();
  const level = componentState.level;
  const show =
    visible.component &&
    level &&
    level !== "points" &&
    map.getZoom() >= COUNT_LABEL_MIN_ZOOM[level] &&
    data.component.level === level;
  if (show) {
    const view = viewBBox(0);
    const number = new Intl.NumberFormat(language());
    for (const f of data.component.features) {
      const [lon, lat] = f.geometry.coordinates;
      if (lon < view[0] || lon > view[2] || lat < view[1] || lat > view[3]) continue;
      wanted.set(`${level}:${f.properties.code}`, {
        p: [lon, lat],
        text: number.format(f.properties.count),
      });
      if (wanted.size >= MAX_COUNT_LABELS) break;
    }
  }
  for (const [key, marker] of countMarkers) {
    if (!wanted.has(key) || marker.getElement().textContent !== wanted.get(key).text) {
      marker.remove();
      countMarkers.delete(key);
    }
  }
  for (const [key, { p, text }] of wanted) {
    if (countMarkers.has(key)) continue;
    const el = h("div", { class: `count-label count-label--${level}` }, text);
    countMarkers.set(key, new maplibregl.Marker({ element: el }).setLngLat(p).addTo(map));
  }
}

/** The legend under the layer list: what size, colour and ring mean at the loaded level. */
function renderLegend() {
  const box = document.getElementById("component-legend");
  if (!box) return;
  const level = componentState.level;
  if (!visible.component || !level) {
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
          ...Object.entries(componentState.classes).map(([code, name]) =>
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
function componentAt(point) {
  if (!visible.component || !map.getLayer("component-point")) return null;
  const pad = 5;
  const box = [
    [point.x - pad, point.y - pad],
    [point.x + pad, point.y + pad],
  ];
  const layers = ["component-point", "component-group"];
  const hits = map.queryRenderedFeatures(box, { layers });
  return hits.find((f) => f.layer.id === "component-point") || hits[0] || null;
}

function onMapClick(e) {
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
    const f = data.component.features.find((x) => x.properties.code === code);
    if (f) showGroup(f);
  }
}

function selectComponent(id) {
  componentState.selected = id;
  if (map?.getLayer("component-selected")) {
    map.setFilter("component-selected", ["==", ["get", "id"], id || ""]);
  }
}

let componentController = null;

/** Show one component (GET /api/components/{id}) with its owner department's name. */
async function showComponent(id, props = {}) {
  identifyController?.abort();
  componentController?.abort();
  const controller = new AbortController();
  componentController = controller;
  pin?.remove();
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
async function loadDepartments(signal) {
  if (departments) return departments;
  const list = await load("/api/departments", { signal });
  departments = new Map(list.map((d) => [d.code, d.name]));
  return departments;
}

function showGroup(feature) {
  identifyController?.abort();
  componentController?.abort();
  pin?.remove();
  select(null);
  selectComponent(null);
  showPanel({ kind: "component-group", feature, classes: { ...componentState.classes } });
}

// ---------------------------------------------------------------------------------------------
// Selection highlight

function findFeature(name, code) {
  return data[name].features.find((f) => f.properties && f.properties.code === code) || null;
}

/** Draw the selected grid or region from the data already loaded (grids arrive after a fly). */
function refreshHighlight() {
  if (!map || !map.getSource("highlight")) return;
  let feature = null;
  if (selected?.kind === "grid") feature = findFeature("grid", selected.code);
  if (selected?.kind === "region") feature = findFeature(selected.level, selected.code);
  map
    .getSource("highlight")
    .setData(feature ? { type: "FeatureCollection", features: [feature] } : EMPTY);
}

function select(next) {
  selected = next;
  refreshHighlight();
}

function placePin(lon, lat) {
  if (!pin) pin = new maplibregl.Marker({ color: "#dc2626" });
  pin.setLngLat([lon, lat]).addTo(map);
}

function fitBBox(bbox, maxZoom) {
  map.fitBounds(
    [
      [bbox[0], bbox[1]],
      [bbox[2], bbox[3]],
    ],
    { padding: fitPadding(), maxZoom, duration: 700 },
  );
}

/** Keep the fitted shape clear of the side panel (right on a desktop, bottom on a phone). */
function fitPadding() {
  const phone = window.matchMedia("(max-width: 640px)").matches;
  return phone
    ? { top: 80, bottom: Math.round(window.innerHeight * 0.45), left: 24, right: 24 }
    : { top: 80, bottom: 40, left: 40, right: 380 };
}

// ---------------------------------------------------------------------------------------------
// Name labels (HTML markers; see the note at the top)

/** Area-weighted centroid of the largest polygon's outer ring: good enough for a label. */
function labelPoint(geometry) {
  const polygons =
    geometry.type === "Polygon"
      ? [geometry.coordinates]
      : geometry.type === "MultiPolygon"
        ? geometry.coordinates
        : [];
  let best = null;
  let bestArea = -1;
  for (const rings of polygons) {
    const ring = rings[0];
    let a = 0;
    let cx = 0;
    let cy = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const cross = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
      a += cross;
      cx += (ring[j][0] + ring[i][0]) * cross;
      cy += (ring[j][1] + ring[i][1]) * cross;
    }
    if (Math.abs(a) > bestArea && a !== 0) {
      bestArea = Math.abs(a);
      best = [cx / (3 * a), cy / (3 * a)];
    }
  }
  return best;
}

/** Which level is labelled at this zoom: streets, then communities, then grids. */
function labelLevel(zoom) {
  if (zoom < 12.5) return "street";
  if (zoom < 16.5) return "community";
  return "grid";
}

function updateLabels() {
  if (!map) return;
  const wanted = new Map();
  if (visible.label) {
    const level = labelLevel(map.getZoom());
    const layerShown = visible[level] && (level !== "grid" || map.getZoom() >= GRID_MIN_ZOOM);
    const view = viewBBox(0);
    for (const f of layerShown ? data[level].features : []) {
      const key = `${level}:${f.properties.code}`;
      if (!labelPoints.has(key)) labelPoints.set(key, labelPoint(f.geometry));
      const p = labelPoints.get(key);
      if (!p || p[0] < view[0] || p[0] > view[2] || p[1] < view[1] || p[1] > view[3]) continue;
      const text = level === "grid" ? f.properties.name || f.properties.code : f.properties.name;
      wanted.set(key, { p, text, level });
      if (wanted.size >= MAX_LABELS) break;
    }
  }
  for (const [key, marker] of labelMarkers) {
    if (!wanted.has(key)) {
      marker.remove();
      labelMarkers.delete(key);
    }
  }
  for (const [key, { p, text, level }] of wanted) {
    if (labelMarkers.has(key)) continue;
    const el = h("div", { class: `map-label map-label--${level}` }, text);
    labelMarkers.set(key, new maplibregl.Marker({ element: el }).setLngLat(p).addTo(map));
  }
}

// ---------------------------------------------------------------------------------------------
// Identify: point → grid → panel

let identifyController = null;

/** Find the grid at a point and show it; `address` is shown too when we came from a search. */
async function identify(lon, lat, address = null) {
  identifyController?.abort();
  const controller = new AbortController();
  identifyController = controller;
  placePin(lon, lat);
  showPanel({ kind: "loading" });
  try {
    const where = await load(`/api/geocode?lon=${lon.toFixed(7)}&lat=${lat.toFixed(7)}`, {
      signal: controller.signal,
    });
    const grid = await load(`/api/grids/${encodeURIComponent(where.grid.code)}`, {
      signal: controller.signal,
    });
    select({ kind: "grid", code: grid.code });
    showPanel({ kind: "grid", grid, point: { lon, lat }, address });
  } catch (err) {
    if (isAbort(err)) return;
    select(null);
    if (err instanceof ApiError && err.code === "outside") {
      showPanel({ kind: "outside", message: err.message, point: { lon, lat }, address });
    } else {
      hidePanel();
      showError(err);
    }
  }
}

async function showGridByCode(code) {
  const grid = await load(`/api/grids/${encodeURIComponent(code)}`);
  select({ kind: "grid", code: grid.code });
  pin?.remove();
  showPanel({ kind: "grid", grid, point: null, address: null });
  fitBBox(grid.bbox, 17);
}

async function showRegionByCode(code) {
  const region = await load(`/api/regions/${encodeURIComponent(code)}`);
  select({ kind: "region", code: region.code, level: region.level });
  pin?.remove();
  showPanel({ kind: "region", region });
  fitBBox(region.bbox, 16);
}

// ---------------------------------------------------------------------------------------------
// Side panel

function showPanel(model) {
  panel = model;
  renderPanel();
}

function hidePanel() {
  panel = null;
  document.getElementById("panel").hidden = true;
}

/** A <dt>/<dd> pair; the dd carries data-field for tests and styling. */
function row(field, labelKey, ...value) {
  return [h("dt", {}, t(labelKey)), h("dd", { dataset: { field } }, ...value)];
}

function ref(r) {
  if (!r) return t("value.none");
  return [r.name, " ", h("span", { class: "code" }, r.code)];
}

function regionName(code) {
  for (const level of REGION_LEVELS) {
    const f = findFeature(level, code);
    if (f) return f.properties.name;
  }
  return null;
}

function renderPanel() {
  const box = document.getElementById("panel");
  const body = document.getElementById("panel-body");
  if (!panel) {
    box.hidden = true;
    return;
  }
  body.replaceChildren(...panelContent(panel));
  box.hidden = false;
  box.dataset.kind = panel.kind;
}

function panelContent(model) {
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
      row("valid_from", "field.valid_from", formatDate(g.valid_from, timeZone)),
      g.valid_to ? row("valid_to", "field.valid_to", formatDate(g.valid_to, timeZone)) : null,
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

function stateBadge(state) {
  return h(
    "span",
    { class: `component-state component-state--${state}` },
    t(`component.state.${state}`),
  );
}

function deptRef(code) {
  if (!code) return t("value.none");
  const name = departments?.get(code);
  return name
    ? [name, " ", h("span", { class: "code" }, code)]
    : h("span", { class: "code" }, code);
}

function componentContent(model) {
  const c = model.component;
  const subclassName = model.props.subclass_name || "";
  const major = c.subclass_code.slice(0, 2);
  const majorName = componentState.classes[major] || "";
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

function groupContent(model) {
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
          map.easeTo({
            center: [lon, lat],
            zoom: Math.max(map.getZoom(), NEXT_LEVEL_ZOOM[p.level]),
            duration: 700,
          }),
      },
      t("component.zoom_in"),
    ),
  ];
}

// ---------------------------------------------------------------------------------------------
// Search: digits are a grid or region code, anything else an address

async function search(query) {
  const q = query.trim();
  hideResults();
  if (!q) {
    setStatus(t("search.empty"));
    return;
  }
  try {
    if (/^\d+$/.test(q)) {
      if (q.length >= GRID_CODE_MIN_LENGTH) await showGridByCode(q);
      else await showRegionByCode(q);
      return;
    }
    const answer = await load(`/api/address/search?q=${encodeURIComponent(q)}&limit=8`);
    searchResults = { query: q, results: answer.results || [] };
    renderResults();
  } catch (err) {
    showError(err);
  }
}

function renderResults() {
  const list = document.getElementById("search-results");
  if (!searchResults) {
    list.hidden = true;
    return;
  }
  const { query, results } = searchResults;
  const items = results.map((r) =>
    h(
      "li",
      {},
      h(
        "button",
        {
          type: "button",
          class: "result",
          dataset: { id: String(r.id) },
          onclick: () => chooseResult(r),
        },
        h("span", { class: "result-address" }, r.address),
        h("span", { class: "result-kind" }, has(`kind.${r.kind}`) ? t(`kind.${r.kind}`) : r.kind),
      ),
    ),
  );
  if (!items.length)
    items.push(h("li", { class: "muted empty" }, t("search.no_results", { q: query })));
  list.setAttribute("aria-label", t("search.results"));
  list.replaceChildren(...items);
  list.hidden = false;
}

function hideResults() {
  searchResults = null;
  document.getElementById("search-results").hidden = true;
}

function chooseResult(result) {
  hideResults();
  map.flyTo({ center: [result.lon, result.lat], zoom: Math.max(map.getZoom(), 17), duration: 700 });
  identify(result.lon, result.lat, result.address);
}

// ---------------------------------------------------------------------------------------------
// Controls, status line and error toast

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
    pin?.remove();
  });
  document.getElementById("lang-select").addEventListener("change", async (e) => {
    try {
      await loadLanguage(e.target.value);
    } catch (err) {
      showError(err);
      return;
    }
    renderPanel();
    renderResults();
    renderLegend();
    updateCountLabels();
    updateStatus();
  });
  // The shell's user block (name, logout) when someone is logged in (gridgov/web/pages.py).
  document.getElementById("logout")?.addEventListener("click", async () => {
    try {
      await postJSON("/api/auth/logout", null, { auth: "none" });
      window.location.assign("/login");
    } catch (err) {
      showError(err);
    }
  });
  const toggle = document.getElementById("layers-toggle");
  toggle.addEventListener("click", () => {
    const open = document.getElementById("layers").classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });
  if (componentsAllowed) addComponentToggle();
  for (const box of document.querySelectorAll("#layers-list input[data-layer]")) {
    box.addEventListener("change", () => setLayerVisible(box.dataset.layer, box.checked));
  }
}

/** The 城市部件 row of the layer list (staff only) and the legend under the list. */
function addComponentToggle() {
  const list = document.getElementById("layers-list");
  const before = list.querySelector('input[data-layer="label"]')?.closest("label") || null;
  const row = h(
    "label",
    {},
    h("input", { type: "checkbox", dataset: { layer: "component" }, checked: true }),
    " ",
    h("span", { "data-i18n": "layer.component" }, t("layer.component")),
  );
  list.insertBefore(row, before);
  list.after(h("div", { id: "component-legend", class: "component-legend", hidden: true }));
}

function setLayerVisible(name, on) {
  visible[name] = on;
  for (const id of LAYER_GROUPS[name]) {
    if (map?.getLayer(id)) map.setLayoutProperty(id, "visibility", on ? "visible" : "none");
  }
  if (name === "component") {
    if (on) refreshComponents();
    else componentState.controller?.abort();
    updateCountLabels();
    renderLegend();
    updateStatus();
  } else if (on && BBOX_LAYERS[name]) refreshBBoxLayers();
  else updateLabels();
}

let statusOverride = null;
function setStatus(text) {
  statusOverride = text;
  updateStatus();
}

function updateStatus() {
  const el = document.getElementById("status");
  if (!map) return;
  const zoom = map.getZoom();
  let text;
  if (zoom < GRID_MIN_ZOOM) text = t("status.zoom_for_grids");
  else if (zoom < BUILDING_MIN_ZOOM && visible.building) text = t("status.zoom_for_buildings");
  else text = "";
  if (zoom >= GRID_MIN_ZOOM && visible.grid) {
    const view = viewBBox(0);
    const n = data.grid.features.filter((f) => intersectsView(f, view)).length;
    text = [t("status.grid_count", { n }), text].filter(Boolean).join(" · ");
  }
  if (visible.component && componentState.level) {
    const c = componentState;
    const part = c.truncated
      ? t("component.status.truncated", { shown: data.component.features.length, n: c.total })
      : t("component.status.count", { n: componentsInView() });
    text = [text, part].filter(Boolean).join(" · ");
  }
  if (statusOverride) text = [statusOverride, text].filter(Boolean).join(" · ");
  el.textContent = text;
  el.hidden = !text;
}

/** Components in the view: the points in it, or the counts of the circles in it. */
function componentsInView() {
  const view = viewBBox(0);
  let n = 0;
  for (const f of data.component.features) {
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

let toastTimer = null;

/** Show an error: a translated headline by error code and the server's own message. */
function showError(err) {
  if (isAbort(err)) return;
  const code = err instanceof ApiError ? err.code : "internal";
  const message = err && err.message ? err.message : String(err);
  stats.errors.push({ code, message, status: err.status ?? null });
  console.warn("gridgov:", code, message);
  const toast = document.getElementById("toast");
  const headline = has(`error.${code}`) ? t(`error.${code}`) : t("error.title");
  toast.replaceChildren(
    h("strong", {}, headline),
    h("span", { class: "server-message", title: t("error.server_said") }, message),
    h(
      "button",
      {
        type: "button",
        class: "close",
        "aria-label": t("error.dismiss"),
        onclick: () => (toast.hidden = true),
      },
      "×",
    ),
  );
  toast.dataset.code = code;
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (toast.hidden = true), 10000);
}

// ---------------------------------------------------------------------------------------------

window.gridgov = {
  map: null,
  ready: false,
  stats,
  data,
  /** Grid features MapLibre has tiled for the current view (proves the layer is drawn). */
  renderedGridCount: () => (map ? map.querySourceFeatures("grid").length : 0),
  /** The components answer on the map: level, counts, and features drawn in the view. */
  components: () => ({
    level: componentState.level,
    total: componentState.total,
    truncated: componentState.truncated,
    features: data.component.features.length,
    rendered: map
      ? map.queryRenderedFeatures({ layers: ["component-group", "component-point"] }).length
      : 0,
    countLabels: countMarkers.size,
    selected: componentState.selected,
  }),
  showComponent,
  /** The code of the grid or region drawn as the selection, or null. */
  highlightedCode: () => {
    if (!selected) return null;
    const name = selected.kind === "grid" ? "grid" : selected.level;
    return findFeature(name, selected.code) ? selected.code : null;
  },
  /** True when nothing is loading, moving or about to load: a test may look at the map. */
  settled: () =>
    Boolean(
      map &&
      window.gridgov.ready &&
      stats.inflight === 0 &&
      moveTimer === null &&
      map.loaded() &&
      !map.isMoving() &&
      map.areTilesLoaded(),
    ),
  identify,
  search,
};

boot().catch((err) => showError(err));
