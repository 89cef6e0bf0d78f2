// admin_grids.js — the admin page's 网格 tab (pages/admin.js): the region tree (streets, then
// their communities and unit grids), a map of our own layers (admin_grid_map.js) with the grids in
// view, and the selected grid's facts with 编辑 / 重画, which open the vertex editor
// (admin_grid_editor.js). The tree makes the tab usable; the map follows after the first paint.

import { getJSON, query } from "../lib/api.js";
import { formatArea, h, tx } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { background } from "../lib/lazy.js";
import { ensureMapLibre } from "../lib/maps.js";
import { showError } from "../lib/notice.js";
import { formatDateTime } from "../lib/time.js";
import { gridEditor } from "./admin_grid_editor.js";
import { EMPTY, GRID_MIN_ZOOM, GRID_STYLE } from "./admin_grid_map.js";
import { button } from "./admin_kit.js";

export function gridsTab(panel) {
  const state = {
    map: null,
    selected: null, // {code, name, community_code, detail}
    edit: null, // see startEdit (admin_grid_editor.js)
    grids: EMPTY,
    loadedBox: null,
    communityGrids: [],
  };

  // --- layout ---
  const streetList = h("ul", { class: "region-tree", id: "region-tree" });
  const gridList = h("ul", { class: "grid-list", id: "grid-list" });
  const gridListTitle = h("h3", { class: "grid-list-title", hidden: true });
  const selectedBox = h("div", { class: "grid-selected card", id: "grid-selected", hidden: true });
  const editBox = h("div", { class: "grid-edit card", id: "grid-edit", hidden: true });
  const mapBox = h("div", { class: "admin-map", id: "admin-map" });
  const modeNote = h("div", { class: "map-mode", hidden: true });
  panel.append(
    h(
      "div",
      { class: "grids-layout" },
      h(
        "aside",
        { class: "grids-side" },
        h("h2", {}, tx("admin.grids.regions")),
        streetList,
        gridListTitle,
        gridList,
        selectedBox,
        editBox,
      ),
      h("div", { class: "admin-map-wrap" }, mapBox, modeNote),
    ),
  );

  // --- editing (admin_grid_editor.js, admin_grid_edit_form.js) ---
  const {
    startEdit,
    addDrawnPoint,
    finishDrawing,
    onVertexDown,
    onMidClick,
    onVertexRemove,
    updateButtons,
    drawProblems,
    handles,
  } = gridEditor({
    state,
    editBox,
    selectedBox,
    modeNote,
    fit,
    selectGrid,
    loadGrids,
    drawSelected,
  });

  // --- region tree ---
  async function loadTree() {
    const streets = await getJSON(`/api/regions${query({ level: "street" })}`);
    streetList.replaceChildren(
      ...streets.map((s) => {
        const children = h("ul", { class: "communities", hidden: true });
        const toggle = h(
          "button",
          {
            type: "button",
            class: "tree-node street-node",
            dataset: { code: s.code },
            "aria-expanded": "false",
            onclick: async () => {
              const open = toggle.getAttribute("aria-expanded") !== "true";
              toggle.setAttribute("aria-expanded", String(open));
              children.hidden = !open;
              if (open && !children.childElementCount) {
                try {
                  const communities = await getJSON(`/api/regions${query({ parent: s.code })}`);
                  children.replaceChildren(
                    ...communities.map((c) =>
                      h(
                        "li",
                        {},
                        h(
                          "button",
                          {
                            type: "button",
                            class: "tree-node community-node",
                            dataset: { code: c.code },
                            onclick: () => openCommunity(c),
                          },
                          h("span", {}, c.name),
                          " ",
                          h("span", { class: "code" }, c.code),
                        ),
                      ),
                    ),
                  );
                } catch (err) {
                  showError(err);
                }
              }
              if (open) fit(s.bbox);
            },
          },
          h("span", {}, s.name),
          " ",
          h("span", { class: "code" }, s.code),
          " ",
          h("span", { class: "count" }, t("admin.grids.count", { n: s.children_count })),
        );
        return h("li", {}, toggle, children);
      }),
    );
  }

  async function openCommunity(c) {
    fit(c.bbox);
    try {
      const fc = await getJSON(`/api/grids.geojson${query({ region: c.code })}`);
      state.communityGrids = fc.features;
      gridListTitle.hidden = false;
      gridListTitle.replaceChildren(tx("admin.grids.of_community", { name: c.name }));
      drawGridList();
    } catch (err) {
      showError(err);
    }
  }

  function drawGridList() {
    gridList.replaceChildren(
      ...state.communityGrids.map((f) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "grid-node",
              dataset: { code: f.properties.code },
              "aria-current":
                state.selected && state.selected.code === f.properties.code ? "true" : null,
              onclick: () => selectGrid(f.properties.code, { fly: true }),
            },
            h("span", { class: "code" }, f.properties.code),
            " ",
            h("span", {}, f.properties.name || ""),
            " ",
            h("span", { class: "muted" }, formatArea(f.properties.area_m2)),
          ),
        ),
      ),
    );
  }

  // --- map ---
  let pendingFit = null; // a region chosen before the map was there
  function fit(bbox) {
    if (!bbox) return;
    if (state.map) state.map.fitBounds(bbox, { padding: 30, duration: 0, maxZoom: 17 });
    else pendingFit = bbox;
  }

  async function buildMap() {
    const [maplibregl, extent, communities] = await Promise.all([
      ensureMapLibre(),
      getJSON("/api/map/extent"),
      getJSON(`/api/regions.geojson${query({ level: "community" })}`),
    ]);
    const map = new maplibregl.Map({
      container: mapBox,
      style: structuredClone(GRID_STYLE),
      ...(extent && extent.bbox
        ? { bounds: extent.bbox, fitBoundsOptions: { padding: 20 } }
        : { center: [116.4074, 39.9042], zoom: 12 }),
      maxZoom: 20,
      dragRotate: false,
      pitchWithRotate: false,
      touchPitch: false,
      doubleClickZoom: false,
      attributionControl: false,
    });
    map.touchZoomRotate.disableRotation();
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    await new Promise((resolve) => map.once("load", resolve));
    // Only now: filters and sources need the loaded style (a click before would throw).
    state.map = map;
    window.gridgov.map = map;
    map.getSource("community").setData(communities);
    if (pendingFit) fit(pendingFit);
    map.on("moveend", () => loadGrids().catch(showError));
    map.on("click", onMapClick);
    map.on("dblclick", onMapDblClick);
    map.on("mousedown", "edit-vertex", onVertexDown);
    map.on("touchstart", "edit-vertex", onVertexDown);
    map.on("click", "edit-mid", onMidClick);
    map.on("contextmenu", "edit-vertex", onVertexRemove);
    for (const layer of ["edit-vertex", "edit-mid"]) {
      map.on("mouseenter", layer, () => {
        map.getCanvas().style.cursor = "move";
      });
      map.on("mouseleave", layer, () => {
        map.getCanvas().style.cursor = state.edit && state.edit.drawing ? "crosshair" : "";
      });
    }
    await loadGrids();
  }

  async function loadGrids(force = false) {
    const map = state.map;
    if (!map) return;
    if (map.getZoom() < GRID_MIN_ZOOM) {
      map.getSource("grid").setData(EMPTY);
      state.loadedBox = null;
      return;
    }
    const b = map.getBounds();
    const box = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    const inside = (lb) =>
      lb && box[0] >= lb[0] && box[1] >= lb[1] && box[2] <= lb[2] && box[3] <= lb[3];
    if (!force && inside(state.loadedBox)) return;
    const dx = (box[2] - box[0]) * 0.5;
    const dy = (box[3] - box[1]) * 0.5;
    const want = [box[0] - dx, box[1] - dy, box[2] + dx, box[3] + dy];
    const data = await getJSON(
      `/api/grids.geojson${query({ bbox: want.map((n) => n.toFixed(6)).join(",") })}`,
    );
    state.grids = data;
    state.loadedBox = want;
    map.getSource("grid").setData(data);
  }

  function onMapClick(e) {
    const edit = state.edit;
    if (edit) {
      if (edit.drawing) addDrawnPoint([e.lngLat.lng, e.lngLat.lat]);
      return;
    }
    const hit = state.map.queryRenderedFeatures(e.point, { layers: ["grid-fill"] })[0];
    if (hit) selectGrid(hit.properties.code);
  }

  function onMapDblClick(e) {
    if (state.edit && state.edit.drawing) {
      e.preventDefault();
      finishDrawing();
    }
  }

  // --- selection ---
  /** Select a grid (its detail from the server; `fly`: fit the map to it). */
  async function selectGrid(code, { fly = false } = {}) {
    if (!state.map) await mapReady;
    if (state.edit || !state.map) return;
    let detail;
    try {
      detail = await getJSON(`/api/grids/${encodeURIComponent(code)}`);
    } catch (err) {
      showError(err);
      return;
    }
    state.selected = { code, detail };
    state.map.setFilter("grid-selected", ["==", ["get", "code"], code]);
    if (fly) fit(detail.bbox);
    drawSelected();
    drawGridList();
  }

  function drawSelected() {
    const sel = state.selected;
    selectedBox.hidden = !sel;
    if (!sel) return;
    const d = sel.detail;
    selectedBox.replaceChildren(
      h("h3", {}, tx("admin.grids.selected")),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, tx("admin.grids.code")),
        h("dd", { class: "code", dataset: { field: "code" } }, d.code),
        h("dt", {}, tx("admin.grids.name")),
        h("dd", { dataset: { field: "name" } }, d.name || t("value.none")),
        h("dt", {}, tx("admin.grids.community")),
        h("dd", {}, d.community ? `${d.community.name} ${d.community.code}` : t("value.none")),
        h("dt", {}, tx("admin.grids.area")),
        h("dd", { dataset: { field: "area" } }, formatArea(d.area_m2)),
        h("dt", {}, tx("admin.grids.version")),
        h(
          "dd",
          { dataset: { field: "revision" } },
          t("admin.grids.version_text", {
            revision: d.revision_id,
            since: formatDateTime(d.valid_from),
          }),
        ),
      ),
      h(
        "div",
        { class: "form-buttons" },
        button("admin.grids.edit", () => startEdit(false), {
          cls: "primary",
          id: "grid-edit-start",
        }),
        button("admin.grids.redraw", () => startEdit(true), { id: "grid-redraw-start" }),
      ),
    );
  }

  // Usable with the region tree; the map (MapLibre, communities, grids in view) follows after
  // the first paint (lib/lazy.js), still counted by window.gridgov.settled().
  const ready = loadTree();
  const mapReady = background(async () => {
    await ready.catch(() => {}); // the tree first; its error is shown by the tab
    return buildMap();
  });
  return {
    ready,
    state,
    handles,
    selectGrid,
    startEdit,
    shown: () => state.map?.resize(),
    relabel: () => {
      if (state.selected && !state.edit) drawSelected();
      drawGridList();
      if (state.edit) {
        updateButtons();
        if (state.edit.problems.length) drawProblems(state.edit.problems);
      }
    },
  };
}
