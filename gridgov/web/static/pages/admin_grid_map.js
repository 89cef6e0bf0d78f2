// admin_grid_map.js — the grids tab's map (pages/admin_grids.js): its style, drawn from our
// own layers only (communities, grids, the polygons being edited, their vertices and midpoints,
// the places a refusal points at), and the polygon helpers of the vertex editor.

export const EMPTY = { type: "FeatureCollection", features: [] };
export const GRID_MIN_ZOOM = 12;
/** Two vertices closer than this (degrees, ≈ 2 cm) are the same point: the API rounds to 1e-7. */
const SAME_POINT = 2e-7;

export const GRID_STYLE = {
  version: 8,
  name: "gridgov-admin",
  sources: {
    community: { type: "geojson", data: EMPTY },
    grid: { type: "geojson", data: EMPTY },
    edit: { type: "geojson", data: EMPTY },
    vertex: { type: "geojson", data: EMPTY },
    mid: { type: "geojson", data: EMPTY },
    problem: { type: "geojson", data: EMPTY },
  },
  layers: [
    { id: "background", type: "background", paint: { "background-color": "#eef0ea" } },
    {
      id: "community-fill",
      type: "fill",
      source: "community",
      paint: { "fill-color": "#f8f7f2", "fill-outline-color": "#7c3aed" },
    },
    {
      id: "grid-fill",
      type: "fill",
      source: "grid",
      paint: { "fill-color": "#2563eb", "fill-opacity": 0.06 },
    },
    {
      id: "grid-line",
      type: "line",
      source: "grid",
      paint: { "line-color": "#2563eb", "line-width": 1, "line-opacity": 0.75 },
    },
    {
      id: "community-line",
      type: "line",
      source: "community",
      paint: { "line-color": "#7c3aed", "line-width": 2 },
    },
    {
      id: "grid-selected",
      type: "line",
      source: "grid",
      filter: ["==", ["get", "code"], ""],
      paint: { "line-color": "#f59e0b", "line-width": 3 },
    },
    {
      id: "edit-fill",
      type: "fill",
      source: "edit",
      paint: {
        "fill-color": ["case", ["get", "main"], "#f59e0b", "#38bdf8"],
        "fill-opacity": ["case", ["get", "main"], 0.28, ["get", "changed"], 0.22, 0.04],
      },
    },
    {
      id: "edit-line",
      type: "line",
      source: "edit",
      paint: {
        "line-color": [
          "case",
          ["get", "main"],
          "#d97706",
          ["get", "changed"],
          "#0284c7",
          "#2563eb",
        ],
        "line-width": ["case", ["get", "main"], 2.5, ["get", "changed"], 2, 1],
      },
    },
    {
      id: "edit-mid",
      type: "circle",
      source: "mid",
      paint: {
        "circle-radius": 4,
        "circle-color": "#ffffff",
        "circle-opacity": 0.85,
        "circle-stroke-color": "#d97706",
        "circle-stroke-width": 1.5,
      },
    },
    {
      id: "edit-vertex",
      type: "circle",
      source: "vertex",
      paint: {
        "circle-radius": ["case", ["get", "shared"], 7, 6],
        "circle-color": ["case", ["get", "shared"], "#0284c7", "#d97706"],
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": 2,
      },
    },
    {
      id: "problem-halo",
      type: "circle",
      source: "problem",
      paint: {
        "circle-radius": 16,
        "circle-color": "#dc2626",
        "circle-opacity": 0.2,
        "circle-stroke-color": "#dc2626",
        "circle-stroke-width": 2,
      },
    },
  ],
};

export function sameLonLat(a, b) {
  return Math.abs(a[0] - b[0]) <= SAME_POINT && Math.abs(a[1] - b[1]) <= SAME_POINT;
}

/** Polygon coordinates → rings without the closing point (what the editor moves). */
export function openRings(geometry) {
  const polygon = geometry.type === "MultiPolygon" ? geometry.coordinates[0] : geometry.coordinates;
  return polygon.map((ring) => {
    const pts = ring.map((p) => [p[0], p[1]]);
    if (pts.length > 1 && sameLonLat(pts[0], pts[pts.length - 1])) pts.pop();
    return pts;
  });
}

export function closedPolygon(rings) {
  const round = (v) => Math.round(v * 1e7) / 1e7;
  return {
    type: "Polygon",
    coordinates: rings.map((ring) => {
      const pts = ring.map((p) => [round(p[0]), round(p[1])]);
      return [...pts, pts[0]];
    }),
  };
}
