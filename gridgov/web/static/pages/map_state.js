// map_state.js — what the map page's modules share: the map, the data on it, the selection.
//
// The page (map.js) fills `S` in mount(); map_components.js, map_panel.js and map_find.js read
// and change it. `stats` is the shell's request counter (lib/api.js) with the map's own figures
// added, read by the browser tests (window.gridgov.stats).

import { getJSON, stats as apiStats } from "../lib/api.js";
import { EMPTY, LAYER_GROUPS, REGION_LEVELS, STYLE } from "./map_style.js";

export const S = {
  map: null,
  mapLoaded: null, // resolves on the map's "load" event
  timeZone: "Asia/Shanghai",
  /** Components are for logged-in staff (the API says 401/403 to anyone else). */
  componentsAllowed: false,
  visible: Object.fromEntries(Object.keys(LAYER_GROUPS).map((name) => [name, true])),
  /** The components answer on the map: what was asked for and what came back. */
  componentState: {
    bbox: null,
    zoom: null,
    band: null,
    level: null,
    total: 0,
    truncated: false,
    classes: {},
    controller: null,
    selected: null,
  },
  countMarkers: new Map(), // "level:code" → maplibregl.Marker
  departments: null, // code → name, loaded on the first component shown
  /** The last FeatureCollection loaded into each source (for highlights, labels and tests). */
  data: Object.fromEntries(Object.keys(STYLE.sources).map((name) => [name, EMPTY])),
  /** What the side panel shows; re-rendered on a language switch. */
  panel: null, // {kind: "grid"|"region"|"outside"|"loading", …}
  searchResults: null, // {query, results}
  selected: null, // {kind: "grid"|"region", code, level?}
  pin: null,
  labelMarkers: new Map(), // key → maplibregl.Marker
  labelPoints: new Map(), // key → [lon, lat]
  statusOverride: null,
  moveTimer: null,
  identifyController: null,
  componentController: null,
};

/** Test hook: tests read counts and timings from here (see tests/e2e/test_map.py). */
export const stats = Object.assign(apiStats, {
  gridLoads: 0,
  gridFeatures: 0,
  lastGridMs: null,
  componentLoads: 0,
  lastComponentMs: null,
});

/** getJSON (counted in stats.inflight by lib/api.js, so tests wait until the page settled). */
export function load(path, options) {
  return getJSON(path, options);
}

/** Put a FeatureCollection into a source (once the map has loaded its style). */
export async function setData(name, collection) {
  await S.mapLoaded;
  S.data[name] = collection;
  S.map.getSource(name).setData(collection);
  if (name === "grid" || name === "gridarea" || REGION_LEVELS.includes(name)) {
    S.labelPoints.clear();
  }
}

/** The current view as [minx, miny, maxx, maxy], grown by `pad` of its size on each side. */
export function viewBBox(pad = 0) {
  const b = S.map.getBounds();
  const dx = (b.getEast() - b.getWest()) * pad;
  const dy = (b.getNorth() - b.getSouth()) * pad;
  return [
    Math.max(-180, b.getWest() - dx),
    Math.max(-90, b.getSouth() - dy),
    Math.min(180, b.getEast() + dx),
    Math.min(90, b.getNorth() + dy),
  ];
}

export function contains(outer, inner) {
  return (
    outer[0] <= inner[0] && outer[1] <= inner[1] && outer[2] >= inner[2] && outer[3] >= inner[3]
  );
}
