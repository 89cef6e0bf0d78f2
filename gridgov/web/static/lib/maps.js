// maps.js — small MapLibre maps of our own layers (grids, roads, buildings, a point).
//
// For pages that show a map beside other work (a case's location, a pin to choose a place).
// The full map page is static/map.js. Nothing comes from outside: the style is a background and
// GeoJSON sources filled from /api/grids.geojson, /api/roads.geojson and /api/buildings.geojson
// by bounding box; no glyphs, sprites or tiles.
//
// MapLibre is loaded on first use (ensureMapLibre); the page table (Page.maplibre in
// gridgov/web/pages.py) only preloads the file for pages that show a map, so the download starts
// early but the first paint never waits for it, and pages without a map never pay for it.
//
//   const m = await pointMap(container, {point: [lon, lat], onPick: ([lon, lat]) => …});
//   m.setPoint([lon, lat]); m.destroy();

import { getJSON, isAbort, stats } from "./api.js";
import { loadScript, loadStyle } from "./lazy.js";
import { showError } from "./notice.js";

const EMPTY = { type: "FeatureCollection", features: [] };
const LAYERS = {
  grid: { url: "/api/grids.geojson", minZoom: 13 },
  road: { url: "/api/roads.geojson", minZoom: 12 },
  building: { url: "/api/buildings.geojson", minZoom: 15 },
};

function config() {
  return (window.gridgov && window.gridgov.config) || {};
}

/** window.maplibregl, loading the vendor script and stylesheet the first time. */
export function ensureMapLibre() {
  if (window.maplibregl) return Promise.resolve(window.maplibregl);
  const vendor = config().vendor || {};
  loadStyle(vendor.maplibre_css || "/static/vendor/maplibre-gl.css", "maplibre");
  return loadScript(vendor.maplibre_js || "/static/vendor/maplibre-gl.js", "maplibregl");
}

const STYLE = {
  version: 8,
  name: "gridgov-small",
  sources: {
    grid: { type: "geojson", data: EMPTY },
    road: { type: "geojson", data: EMPTY },
    building: { type: "geojson", data: EMPTY },
    point: { type: "geojson", data: EMPTY },
  },
  layers: [
    { id: "background", type: "background", paint: { "background-color": "#eef0ea" } },
    {
      id: "building-fill",
      type: "fill",
      source: "building",
      minzoom: LAYERS.building.minZoom,
      paint: { "fill-color": "#d6cfc2", "fill-outline-color": "#a89f8f" },
    },
    {
      id: "road-line",
      type: "line",
      source: "road",
      layout: { "line-cap": "round", "line-join": "round" },
      paint: {
        "line-color": "#ffffff",
        "line-width": ["interpolate", ["linear"], ["zoom"], 12, 1, 17, 8],
      },
    },
    {
      id: "grid-line",
      type: "line",
      source: "grid",
      paint: { "line-color": "#2563eb", "line-opacity": 0.7, "line-width": 1 },
    },
    {
      id: "point-halo",
      type: "circle",
      source: "point",
      paint: { "circle-radius": 11, "circle-color": "#ffffff", "circle-opacity": 0.9 },
    },
    {
      id: "point",
      type: "circle",
      source: "point",
      paint: {
        "circle-radius": 7,
        "circle-color": "#dc2626",
        "circle-stroke-color": "#7f1d1d",
        "circle-stroke-width": 1.5,
      },
    },
  ],
};

function pointData(point) {
  if (!point) return EMPTY;
  return {
    type: "FeatureCollection",
    features: [
      { type: "Feature", properties: {}, geometry: { type: "Point", coordinates: point } },
    ],
  };
}

/**
 * A small map in `container`. Options: point [lon, lat] (drawn and centred), bounds
 * [minx, miny, maxx, maxy] when there is no point, zoom, onPick([lon, lat]) to let a click
 * choose the point. Resolves to {map, setPoint(point), destroy()}.
 */
export async function pointMap(container, options = {}) {
  // Counted as a request in flight until the map has loaded and drawn its first data, so
  // window.gridgov.settled() (and the browser tests) wait for it.
  stats.inflight += 1;
  try {
    return await createPointMap(container, options);
  } finally {
    stats.inflight -= 1;
  }
}

async function createPointMap(container, { point = null, bounds = null, zoom = 16, onPick } = {}) {
  const maplibregl = await ensureMapLibre();
  const style = structuredClone(STYLE);
  style.sources.point.data = pointData(point);
  const view = point
    ? { center: point, zoom }
    : bounds
      ? { bounds, fitBoundsOptions: { padding: 16 } }
      : { center: [116.4074, 39.9042], zoom: 11 };
  const map = new maplibregl.Map({
    container,
    style,
    ...view,
    maxZoom: 19,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    attributionControl: false,
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  let controller = null;
  let loadedBox = null;

  const refresh = async () => {
    const b = map.getBounds();
    const box = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    if (loadedBox && box.every((v, i) => (i < 2 ? v >= loadedBox[i] : v <= loadedBox[i]))) return;
    controller?.abort();
    controller = new AbortController();
    const dx = (box[2] - box[0]) * 0.5;
    const dy = (box[3] - box[1]) * 0.5;
    const want = [box[0] - dx, box[1] - dy, box[2] + dx, box[3] + dy];
    const bbox = want.map((n) => n.toFixed(6)).join(",");
    const signal = controller.signal;
    const zoomNow = map.getZoom();
    try {
      await Promise.all(
        Object.entries(LAYERS).map(async ([name, layer]) => {
          if (zoomNow < layer.minZoom) return;
          const data = await getJSON(`${layer.url}?bbox=${bbox}`, { signal });
          map.getSource(name)?.setData(data);
        }),
      );
      if (zoomNow >= LAYERS.building.minZoom) loadedBox = want;
    } catch (err) {
      if (!isAbort(err)) showError(err);
    }
  };

  await new Promise((resolve) => map.once("load", resolve));
  map.on("moveend", refresh);
  if (onPick) {
    map.getCanvas().style.cursor = "crosshair";
    map.on("click", (e) => {
      const picked = [Number(e.lngLat.lng.toFixed(7)), Number(e.lngLat.lat.toFixed(7))];
      map.getSource("point").setData(pointData(picked));
      onPick(picked);
    });
  }
  await refresh();
  return {
    map,
    setPoint(p, { fly = true } = {}) {
      map.getSource("point")?.setData(pointData(p));
      if (p && fly) map.jumpTo({ center: p, zoom: Math.max(map.getZoom(), 16) });
    },
    resize() {
      map.resize();
    },
    destroy() {
      controller?.abort();
      map.remove();
    },
  };
}

/** The district's extent (for a map with no point yet). */
export async function districtExtent() {
  try {
    const extent = await getJSON("/api/map/extent");
    return extent && extent.bbox ? extent.bbox : null;
  } catch (err) {
    showError(err);
    return null;
  }
}
