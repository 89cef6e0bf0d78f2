// command_map.js — the command centre's map (pages/command.js): the open cases coloured by
// their deadline light over our own layers only (districts, streets, communities, grids from
// zoom 13, GET /api/dashboard/cases.geojson), with a legend of the counts. A point opens the case.
//
//   const m = commandMap({mapBox, legend, mapStatus, openCase});
//   m.setData(fc); await m.start();    // MapLibre is loaded in the background (lib/lazy.js)
//   await m.loadCases(); m.resize(); m.cases(); m.drawLegend()

import { getJSON, isAbort, query } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { label, t } from "../lib/i18n.js";
import { ensureMapLibre } from "../lib/maps.js";
import { showError } from "../lib/notice.js";

const GRID_MIN_ZOOM = 13;
const FALLBACK_CENTER = [116.4074, 39.9042];
const EMPTY = { type: "FeatureCollection", features: [] };
export const LIGHT_COLORS = {
  red: "#dc2626",
  yellow: "#f59e0b",
  green: "#16a34a",
  none: "#64748b",
};

export function commandMap({ mapBox, legend, mapStatus, openCase }) {
  let map = null;
  let cases = EMPTY;
  let casesController = null;
  const gridState = { bbox: null, controller: null };

  function style() {
    const src = () => ({ type: "geojson", data: EMPTY });
    return {
      version: 8,
      name: "gridgov-command",
      sources: { district: src(), street: src(), community: src(), grid: src(), cases: src() },
      layers: [
        { id: "background", type: "background", paint: { "background-color": "#e4e7e0" } },
        {
          id: "district-fill",
          type: "fill",
          source: "district",
          paint: { "fill-color": "#f1efe8" },
        },
        {
          id: "grid-line",
          type: "line",
          source: "grid",
          minzoom: GRID_MIN_ZOOM,
          paint: { "line-color": "#2563eb", "line-opacity": 0.5, "line-width": 0.8 },
        },
        {
          id: "community-line",
          type: "line",
          source: "community",
          paint: { "line-color": "#7c3aed", "line-width": 0.8, "line-dasharray": [3, 2] },
        },
        {
          id: "street-line",
          type: "line",
          source: "street",
          paint: { "line-color": "#b45309", "line-width": 1.5 },
        },
        {
          id: "district-line",
          type: "line",
          source: "district",
          paint: { "line-color": "#b91c1c", "line-width": 2.5 },
        },
        {
          id: "case-point",
          type: "circle",
          source: "cases",
          layout: {
            "circle-sort-key": ["match", ["get", "light"], "red", 3, "yellow", 2, "green", 1, 0],
          },
          paint: {
            "circle-color": [
              "match",
              ["get", "light"],
              "red",
              LIGHT_COLORS.red,
              "yellow",
              LIGHT_COLORS.yellow,
              "green",
              LIGHT_COLORS.green,
              LIGHT_COLORS.none,
            ],
            "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 4, 14, 6, 17, 9],
            "circle-stroke-color": "#ffffff",
            "circle-stroke-width": 1.2,
          },
        },
      ],
    };
  }

  async function startMap() {
    const extentLoaded = getJSON("/api/map/extent").catch((err) => {
      showError(err);
      return null;
    });
    let maplibregl;
    try {
      maplibregl = await ensureMapLibre();
    } catch (err) {
      mapBox.replaceChildren(h("p", { class: "page-error" }, t("command.map.unavailable")));
      showError(err);
      return;
    }
    const extent = await extentLoaded;
    try {
      map = new maplibregl.Map({
        container: mapBox,
        style: style(),
        ...(extent && extent.bbox
          ? { bounds: extent.bbox, fitBoundsOptions: { padding: 16 } }
          : { center: FALLBACK_CENTER, zoom: 11 }),
        maxZoom: 19,
        dragRotate: false,
        pitchWithRotate: false,
        touchPitch: false,
        attributionControl: false,
      });
    } catch (err) {
      map = null; // no WebGL: the boards still work
      mapBox.replaceChildren(h("p", { class: "page-error" }, t("command.map.unavailable")));
      showError(err);
      return;
    }
    map.touchZoomRotate.disableRotation();
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    window.gridgov.map = map;
    const loaded = new Promise((resolve) => map.once("load", resolve));
    map.on("click", "case-point", (e) => {
      const f = e.features && e.features[0];
      if (f) openCase(f.properties.case_no);
    });
    map.on("mouseenter", "case-point", () => {
      map.getCanvas().style.cursor = "pointer";
    });
    map.on("mouseleave", "case-point", () => {
      map.getCanvas().style.cursor = "";
    });
    map.on("moveend", () => loadGrids());
    await loaded;
    await Promise.all([loadRegions(), loadGrids(), setCases()]);
  }

  async function loadRegions() {
    await Promise.all(
      ["district", "street", "community"].map(async (level) => {
        try {
          const fc = await getJSON(`/api/regions.geojson${query({ level })}`);
          map.getSource(level)?.setData(fc);
        } catch (err) {
          showError(err);
        }
      }),
    );
  }

  async function loadGrids() {
    if (!map || map.getZoom() < GRID_MIN_ZOOM) return;
    const b = map.getBounds();
    const view = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    const have = gridState.bbox;
    if (
      have &&
      have[0] <= view[0] &&
      have[1] <= view[1] &&
      have[2] >= view[2] &&
      have[3] >= view[3]
    )
      return;
    gridState.controller?.abort();
    const controller = new AbortController();
    gridState.controller = controller;
    const dx = (view[2] - view[0]) * 0.5;
    const dy = (view[3] - view[1]) * 0.5;
    const want = [view[0] - dx, view[1] - dy, view[2] + dx, view[3] + dy];
    try {
      const fc = await getJSON(
        `/api/grids.geojson?bbox=${want.map((n) => n.toFixed(6)).join(",")}`,
        {
          signal: controller.signal,
        },
      );
      map.getSource("grid")?.setData(fc);
      gridState.bbox = want;
    } catch (err) {
      if (!isAbort(err)) showError(err);
    }
  }

  async function loadCases() {
    casesController?.abort();
    const controller = new AbortController();
    casesController = controller;
    try {
      cases = await getJSON("/api/dashboard/cases.geojson", { signal: controller.signal });
    } catch (err) {
      if (isAbort(err)) return;
      throw err;
    }
    await setCases();
  }

  async function setCases() {
    drawLegend();
    if (map && map.getSource("cases")) map.getSource("cases").setData(cases);
  }

  function drawLegend() {
    const by = { red: 0, yellow: 0, green: 0, none: 0 };
    for (const f of cases.features || []) by[f.properties.light || "none"] += 1;
    legend.replaceChildren(
      ...["red", "yellow", "green", "none"].map((light) =>
        h(
          "span",
          { class: "cmd-legend-item", dataset: { light } },
          h("span", { class: "cmd-dot", style: `background:${LIGHT_COLORS[light]}` }),
          label("light", light),
          " ",
          h("span", { class: "count", dataset: { count: light } }, String(by[light])),
        ),
      ),
    );
    mapStatus.textContent = cases.features
      ? t(cases.truncated ? "command.map.truncated" : "command.map.shown", {
          n: cases.features.length,
          total: cases.total ?? cases.features.length,
        })
      : "";
  }

  function resize() {
    if (map) window.requestAnimationFrame(() => map.resize());
  }

  return {
    start: startMap,
    loadCases,
    setCases,
    drawLegend,
    resize,
    setData: (fc) => {
      cases = fc;
    },
    cases: () => cases,
  };
}
