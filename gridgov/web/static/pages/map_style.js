// map_style.js — the map page's style: a background and our GeoJSON sources, nothing else
// (no external source, glyphs or sprites), its colours and zoom thresholds.

import { GRID_ZOOM } from "../lib/grid_tiles.js";

export const GRID_MIN_ZOOM = GRID_ZOOM;
export const ROAD_MIN_ZOOM = 12;
export const BUILDING_MIN_ZOOM = 15;
// Bbox layers are fetched for the view grown by this fraction on each side, so small pans need
// no new request; a new request goes out only when the view leaves the loaded box.
export const BBOX_PADDING = 0.5;
export const MAX_LABELS = 150;
export const GRID_CODE_MIN_LENGTH = 14; // community (12 digits) + 2 or 3 digits of sequence
export const FALLBACK_CENTER = [116.4074, 39.9042];
export const REGION_LEVELS = ["district", "street", "community"];
export const EMPTY = { type: "FeatureCollection", features: [] };
// Components: the server picks the level by zoom (gridgov/components/mapping.py); these mirror
// its thresholds so the page knows when a new level is due.
export const COMPONENT_COMMUNITY_ZOOM = 12;
export const COMPONENT_GRID_ZOOM = 14;
export const COMPONENT_POINT_ZOOM = 17;
export const COMPONENT_PADDING = { points: 0.2, other: 0.5 };
export const COMPONENT_LIMIT = 5000;
export const MAX_COUNT_LABELS = 150;
export const COUNT_LABEL_MIN_ZOOM = { street: 0, community: 0, grid: 15.5 };
/** Where "zoom in" takes a count circle of each level. */
export const NEXT_LEVEL_ZOOM = { street: 12.5, community: 14.5, grid: 17.2 };
export const MAJOR_COLORS = {
  "01": "#2563eb",
  "02": "#7c3aed",
  "03": "#0d9488",
  "04": "#16a34a",
  "05": "#b45309",
  "06": "#64748b",
  "07": "#db2777",
};
export const OTHER_MAJOR_COLOR = "#475569";
export const STATE_RINGS = {
  intact: ["#ffffff", 1],
  damaged: ["#dc2626", 2.5],
  lost: ["#111827", 2.5],
  occupied: ["#f59e0b", 2.5],
  abandoned: ["#9ca3af", 2.5],
};
export const COMPONENT_STATES = Object.keys(STATE_RINGS);

export const COLORS = {
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

export function source() {
  return { type: "geojson", data: EMPTY };
}

export const roadWidth = (scale) => [
  "interpolate",
  ["linear"],
  ["zoom"],
  12,
  ["*", scale, ["match", ["get", "road_class"], "main", 2.5, "secondary", 1.6, "minor", 0.8, 0.5]],
  17,
  ["*", scale, ["match", ["get", "road_class"], "main", 14, "secondary", 9, "minor", 5, 2]],
];

export const STYLE = {
  version: 8,
  name: "gridgov",
  sources: {
    district: source(),
    street: source(),
    community: source(),
    grid: source(),
    road: source(),
    building: source(),
    gridarea: source(),
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
      id: "gridarea-fill",
      type: "fill",
      source: "gridarea",
      maxzoom: GRID_MIN_ZOOM,
      paint: {
        "fill-color": COLORS.grid,
        "fill-opacity": ["interpolate", ["linear"], ["get", "grids"], 0, 0, 200, 0.12],
      },
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
export function groupRadius(level, max) {
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
export const LAYER_GROUPS = {
  district: ["district-fill", "district-line"],
  street: ["street-line"],
  community: ["community-line"],
  grid: ["grid-fill", "grid-line", "gridarea-fill"],
  road: ["road-casing", "road-line", "road-other"],
  building: ["building-fill"],
  label: [],
  component: ["component-group", "component-point", "component-selected"],
};

// Layers fetched by bounding box as the map moves (the grids: lib/grid_tiles.js).
export const BBOX_LAYERS = {
  road: { url: "/api/roads.geojson", minZoom: ROAD_MIN_ZOOM },
  building: { url: "/api/buildings.geojson", minZoom: BUILDING_MIN_ZOOM },
};