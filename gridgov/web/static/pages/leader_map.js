// leader_map.js — the cockpit's density map (领导驾驶舱, pages/leader.js): case density as a
// choropleth (GET /api/dashboard/density?level=… over the grid layer by view, lib/grid_tiles.js:
// per community or street at low zoom, per unit grid from zoom 13) and the open cases as points
// coloured by light (GET /api/dashboard/cases.geojson). Our own layers only, no tiles.

import { getJSON, query } from "../lib/api.js";
import { formatNumber, h, tx } from "../lib/dom.js";
import { gridLevel, gridLoader } from "../lib/grid_tiles.js";
import { label, t } from "../lib/i18n.js";
import { ensureMapLibre } from "../lib/maps.js";
import { showError } from "../lib/notice.js";

export const METRICS = ["reported", "open", "overdue"];
export const DENSITY_DAYS = 30;
const EMPTY = { type: "FeatureCollection", features: [] };

const COLORS = {
  background: "#0b1a2e",
  district: "#38bdf8",
  street: "#7dd3fc",
  gridLine: "#1e3a5f",
  // Density: an inferno-like ramp (dark purple → magenta → orange → yellow) that reads on the
  // dark screen and never passes through grey.
  zero: "#10233b",
  low: "#3b1c6e",
  mid: "#b5367a",
  midHigh: "#f0743a",
  high: "#fbd34d",
  green: "#22c55e",
  yellow: "#facc15",
  red: "#ef4444",
  none: "#94a3b8",
};

const STYLE = {
  version: 8,
  name: "gridgov-leader",
  sources: {
    district: { type: "geojson", data: EMPTY },
    street: { type: "geojson", data: EMPTY },
    grid: { type: "geojson", data: EMPTY, promoteId: "code" },
    cases: { type: "geojson", data: EMPTY },
  },
  layers: [
    { id: "background", type: "background", paint: { "background-color": COLORS.background } },
    {
      id: "grid-fill",
      type: "fill",
      source: "grid",
      paint: {
        "fill-color": [
          "interpolate",
          ["linear"],
          ["coalesce", ["feature-state", "ratio"], 0],
          0,
          COLORS.zero,
          0.001,
          COLORS.low,
          0.35,
          COLORS.mid,
          0.7,
          COLORS.midHigh,
          1,
          COLORS.high,
        ],
        "fill-opacity": 0.78,
      },
    },
    {
      id: "grid-line",
      type: "line",
      source: "grid",
      paint: { "line-color": COLORS.gridLine, "line-width": 0.6 },
    },
    {
      id: "grid-selected",
      type: "line",
      source: "grid",
      filter: ["==", ["get", "code"], ""],
      paint: { "line-color": "#ffffff", "line-width": 2.5 },
    },
    {
      id: "street-line",
      type: "line",
      source: "street",
      paint: { "line-color": COLORS.street, "line-width": 1.4, "line-dasharray": [3, 2] },
    },
    {
      id: "district-line",
      type: "line",
      source: "district",
      paint: { "line-color": COLORS.district, "line-width": 2.5 },
    },
    {
      id: "case-point",
      type: "circle",
      source: "cases",
      paint: {
        "circle-radius": [
          "interpolate",
          ["linear"],
          ["zoom"],
          12,
          ["match", ["get", "light"], "red", 4, "yellow", 3, 2],
          17,
          ["match", ["get", "light"], "red", 10, "yellow", 8, 6],
        ],
        "circle-color": [
          "match",
          ["get", "light"],
          "red",
          COLORS.red,
          "yellow",
          COLORS.yellow,
          "green",
          COLORS.green,
          COLORS.none,
        ],
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": ["match", ["get", "light"], "red", 1.5, 0.8],
      },
    },
  ],
};

/**
 * The map panel. `cache` (grids, level, cases) and `densities` (level → density answer) are the
 * page's; `view` holds the metric, the case points' visibility and the selected grid;
 * `loadDensity(level)` fetches a level's density; `onCase(caseNo)` opens a case (督办).
 */
export function leaderMap({ cache, densities, view, loadDensity, onCase }) {
  let map = null; // set once the map's style has loaded (feature states need it)
  let gridsLoader = null;

  const metricBar = h(
    "div",
    {
      class: "metric-switch",
      role: "group",
      "data-i18n-aria-label": "leader.map.metric",
      "aria-label": t("leader.map.metric"),
    },
    ...METRICS.map((m) =>
      h(
        "button",
        {
          type: "button",
          class: "metric",
          dataset: { metric: m },
          "aria-pressed": String(m === view.metric),
          onclick: () => {
            view.metric = m;
            drawDensity();
          },
        },
        tx(`leader.map.metric.${m}`, { days: DENSITY_DAYS }),
      ),
    ),
  );
  const casesToggle = h("input", {
    type: "checkbox",
    checked: true,
    onchange: () => {
      view.showCases = casesToggle.checked;
      if (map)
        map.setLayoutProperty("case-point", "visibility", view.showCases ? "visible" : "none");
    },
  });
  const legendMax = h("span", { class: "legend-max" }, "0");
  const legend = h(
    "div",
    { class: "legend" },
    h("span", { class: "legend-title" }),
    h(
      "div",
      { class: "legend-scale" },
      h("span", {}, "0"),
      h("i", { class: "legend-bar" }),
      legendMax,
    ),
    h(
      "div",
      { class: "legend-lights" },
      ...["red", "yellow", "green"].map((l) =>
        h(
          "span",
          { class: `legend-light light-dot-${l}` },
          h("i"),
          h("span", { "data-i18n": `light.${l}` }, label("light", l)),
        ),
      ),
    ),
  );
  const gridInfo = h("div", { class: "grid-info", hidden: true });
  const mapBox = h("div", { class: "ls-map-canvas", id: "leader-map" });
  const panel = h(
    "section",
    { class: "panel ls-map" },
    h(
      "div",
      { class: "map-head" },
      h("h2", {}, tx("leader.map.title")),
      metricBar,
      h("label", { class: "cases-toggle" }, casesToggle, tx("leader.map.show_cases")),
    ),
    h("div", { class: "map-wrap" }, mapBox, legend, gridInfo),
  );

  /** The map, after the first view: MapLibre, the outlines, then the district's grids (the
   * biggest download of the screen) for the density colours. */
  async function buildMap() {
    const [maplibregl, extent, district, street] = await Promise.all([
      ensureMapLibre(),
      getJSON("/api/map/extent"),
      getJSON(`/api/regions.geojson${query({ level: "district" })}`),
      getJSON(`/api/regions.geojson${query({ level: "street" })}`),
    ]);
    const camera =
      extent && extent.bbox
        ? { bounds: extent.bbox, fitBoundsOptions: { padding: 24 } }
        : { center: [116.4074, 39.9042], zoom: 12 };
    const m = new maplibregl.Map({
      container: mapBox,
      style: structuredClone(STYLE),
      ...camera,
      maxZoom: 19,
      dragRotate: false,
      pitchWithRotate: false,
      touchPitch: false,
      attributionControl: false,
    });
    m.touchZoomRotate.disableRotation();
    m.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    await new Promise((resolve) => m.once("load", resolve));
    map = m;
    window.gridgov.map = map;
    map.getSource("district").setData(district);
    map.getSource("street").setData(street);
    for (const layer of ["case-point", "grid-fill"]) {
      map.on("mouseenter", layer, () => {
        map.getCanvas().style.cursor = "pointer";
      });
      map.on("mouseleave", layer, () => {
        map.getCanvas().style.cursor = "";
      });
    }
    map.on("click", (e) => {
      const hit = map.queryRenderedFeatures(e.point, { layers: ["case-point"] });
      if (hit.length) {
        const red = hit.find((f) => f.properties.light === "red") || hit[0];
        onCase(red.properties.case_no);
        return;
      }
      const grid = map.queryRenderedFeatures(e.point, { layers: ["grid-fill"] })[0];
      selectGrid(grid ? grid.properties : null);
    });
    drawCases();
    gridsLoader = gridLoader({
      minLevel: "community",
      onError: showError,
      onData: async (collection, level) => {
        cache.grids = collection;
        cache.level = level;
        map.getSource("grid").setData(collection);
        if (!densities[level]) await loadDensity(level);
        drawDensity();
      },
    });
    map.on("moveend", () => gridsLoader.schedule(map));
    await gridsLoader.refresh(map);
    await new Promise((resolve) => (map.loaded() ? resolve() : map.once("idle", resolve)));
  }

  function drawDensity() {
    for (const button of metricBar.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.dataset.metric === view.metric));
    }
    legend.querySelector(".legend-title").textContent = t(`leader.map.metric.${view.metric}`, {
      days: DENSITY_DAYS,
    });
    const density = densities[cache.level];
    if (!map || !density || !cache.grids) return;
    const max = density.max[view.metric] || 0;
    legendMax.textContent = formatNumber(max);
    for (const f of cache.grids.features) {
      const code = f.properties.code;
      const counts = density.grids[code];
      const value = counts ? counts[view.metric] : 0;
      map.setFeatureState({ source: "grid", id: code }, { value, ratio: max ? value / max : 0 });
    }
    if (view.selectedGrid) selectGrid(view.selectedGrid);
  }

  function selectGrid(props) {
    view.selectedGrid = props;
    map.setFilter("grid-selected", ["==", ["get", "code"], props ? props.code : ""]);
    if (!props) {
      gridInfo.hidden = true;
      return;
    }
    const density = densities[cache.level];
    const counts = (density && density.grids[props.code]) || {
      reported: 0,
      open: 0,
      overdue: 0,
    };
    gridInfo.hidden = false;
    gridInfo.replaceChildren(
      h("strong", {}, props.name || props.code),
      h("span", { class: "code" }, props.code),
      ...METRICS.map((m) =>
        h(
          "span",
          { class: "grid-count", dataset: { metric: m } },
          t(`leader.map.metric.${m}`, { days: DENSITY_DAYS }),
          " ",
          h("strong", {}, formatNumber(counts[m])),
        ),
      ),
    );
  }

  function drawCases() {
    if (map && cache.cases) map.getSource("cases").setData(cache.cases);
  }

  return {
    panel,
    build: buildMap,
    drawDensity,
    drawCases,
    /** The level the density is loaded at: the map's (never coarser than communities). */
    level: () => (map ? gridLevel(Math.max(map.getZoom(), 11)) : cache.level),
    loader: () => gridsLoader,
    destroy: () => gridsLoader?.destroy(),
  };
}
