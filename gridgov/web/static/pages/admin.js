// admin.js — 系统管理 (/admin; admin): the configuration that is data, not code (DESIGN §4.2).
//
// Tabs (the open one is ?tab= in the URL, so a reload or a login comes back to it):
//   grids        regions and unit grids: the region tree, a map of our own layers, a grid's
//                polygon edited vertex by vertex (drag; click a midpoint to add; right-click to
//                remove; shared vertices of neighbouring grids move together) or redrawn, saved
//                through PUT /api/grids/{code} or POST /api/grids/edit; a refusal (overlap, gap,
//                outside the community …) is listed and marked on the map where the server found it
//   taxonomy     classes and subclasses (GET /api/taxonomy/*), a subclass's time limits edited
//                (PUT /api/taxonomy/subclasses/{code}/time-limits), JSON and Excel import/export
//   calendar     the year's status with a warning when next year is not covered, the rules of a
//                year, local overrides added and removed, a State Council notice imported
//   departments  departments and the responsibility matrix (list, create, edit, delete) and the
//                routing preview (GET /api/routing/preview)
//   users        users with role, jurisdictions and active flag; create, edit, reset password
// Every form validates before sending, shows the server's refusal and keeps what was typed
// (lib/form.js).

import { deleteJSON, getJSON, patchJSON, postJSON, putJSON, query, upload } from "../lib/api.js";
import { formatArea, formatNumber, h, tx } from "../lib/dom.js";
import {
  bindForm,
  buttons,
  field,
  input,
  readJSON,
  select,
  textarea,
  writeJSON,
} from "../lib/form.js";
import { label, language, t } from "../lib/i18n.js";
import { background } from "../lib/lazy.js";
import { ensureMapLibre } from "../lib/maps.js";
import { showError, toast } from "../lib/notice.js";
import { formatDate, formatDateTime } from "../lib/time.js";

const TABS = ["grids", "taxonomy", "calendar", "departments", "users"];
const KINDS = ["component", "event"];
const STEPS = ["register", "dispatch", "handle", "check"];
const UNITS = ["working_hours", "working_days", "natural_hours"];
const LEVELS = ["city", "district", "street", "community"];
const BASES = ["owner", "territory", "subclass"];
const ROLES = [
  "supervisor",
  "acceptor",
  "shift_lead",
  "dispatcher",
  "department",
  "leader",
  "resident",
  "registrar",
  "admin",
];
const SCOPE_KINDS = ["region", "grid", "department"];
const DAY_KINDS = ["holiday", "workday"];
const USERNAME_RE = /^[a-z0-9][a-z0-9_.-]{2,59}$/;
const PASSWORD_MIN = 8;
const USERS_PAGE = 100;

// ---------------------------------------------------------------------------------------------
// Small helpers

function th(key) {
  return h("th", { scope: "col", "data-i18n": key }, t(key));
}

function button(key, onclick, { cls = "secondary", type = "button", ...attrs } = {}) {
  return h("button", { type, class: cls, "data-i18n": key, onclick, ...attrs }, t(key));
}

function option(value, key) {
  return h("option", { value, "data-i18n": key }, t(key));
}

function enumSelect(
  name,
  values,
  prefix,
  { required = false, empty = null, labelKey = null } = {},
) {
  const el = h("select", { name, required, dataset: labelKey ? { labelKey } : {} });
  if (empty) el.append(option("", empty));
  for (const v of values) el.append(option(v, `${prefix}.${v}`));
  return el;
}

function emptyRow(cols, key = "admin.empty") {
  return h("tr", { class: "empty" }, h("td", { colspan: String(cols), class: "muted" }, t(key)));
}

function download(href, key) {
  return h("a", { class: "button secondary", href, download: "", "data-i18n": key }, t(key));
}

/** A file chooser that calls `onFile(file)`; the input is reset afterwards. */
function fileButton(key, accept, onFile) {
  const inputEl = h("input", { type: "file", accept, class: "sr-only" });
  inputEl.addEventListener("change", async () => {
    const file = inputEl.files && inputEl.files[0];
    inputEl.value = "";
    if (file) await onFile(file);
  });
  return h(
    "label",
    { class: "button secondary file-button" },
    inputEl,
    h("span", { "data-i18n": key }, t(key)),
  );
}

/** The problems of an import refusal as a table (sheet/row/field/reason or kind/codes/…). */
function problemList(err) {
  const problems = (err && err.problems) || [];
  if (!problems.length) return null;
  return h(
    "ul",
    { class: "problem-list" },
    ...problems
      .slice(0, 200)
      .map((p) =>
        h(
          "li",
          {},
          [p.sheet, p.row ? `#${p.row}` : null, p.field].filter(Boolean).join(" · "),
          p.sheet || p.field ? ": " : "",
          p.reason || p.message || "",
        ),
      ),
  );
}

/** After a write: the list is updated from the answer at once and reloaded from the server
 * (the API commits before it answers, so the reload sees the write). */
function reloadAfterWrite(fn) {
  Promise.resolve().then(fn).catch(showError);
}

function resultBox() {
  return h("div", { class: "result-box", role: "status", hidden: true });
}

function showResult(box, kind, nodes) {
  box.hidden = false;
  box.dataset.kind = kind;
  box.replaceChildren(...nodes.filter(Boolean));
}

function showRefusalIn(box, err) {
  if (err && err.redirecting) return;
  showResult(box, "error", [
    h("strong", {}, t("admin.refused")),
    h("span", { class: "server-message" }, err && err.message ? err.message : String(err)),
    problemList(err),
  ]);
}

/** Read a chosen file as JSON (a 422-like ApiError-shaped refusal when it is not JSON). */
async function readJSONFile(file) {
  const text = await file.text();
  try {
    return JSON.parse(text);
  } catch {
    const refusal = new Error(t("admin.not_json", { file: file.name }));
    refusal.code = "client";
    throw refusal;
  }
}

// ---------------------------------------------------------------------------------------------
// The page

export async function mount(ctx) {
  const params = new URLSearchParams(window.location.search);
  let current = TABS.includes(params.get("tab")) ? params.get("tab") : "grids";
  const panels = {};
  const tabs = {};
  const mounted = {};
  const tabBar = h("nav", {
    class: "admin-tabs",
    role: "tablist",
    "data-i18n-aria-label": "page.admin",
    "aria-label": t("page.admin"),
  });
  for (const name of TABS) {
    tabs[name] = h(
      "button",
      {
        type: "button",
        role: "tab",
        id: `tab-${name}`,
        class: "admin-tab",
        dataset: { tab: name },
        "aria-controls": `panel-${name}`,
        onclick: () => show(name),
      },
      tx(`admin.tab.${name}`),
    );
    tabBar.append(tabs[name]);
    panels[name] = h("section", {
      class: `admin-panel admin-${name}`,
      id: `panel-${name}`,
      role: "tabpanel",
      "aria-labelledby": `tab-${name}`,
      hidden: true,
    });
  }
  ctx.main.replaceChildren(
    h(
      "div",
      { class: "admin-page" },
      h(
        "div",
        { class: "admin-top" },
        h("h1", { "data-i18n": "page.admin" }, t("page.admin")),
        tabBar,
      ),
      ...Object.values(panels),
    ),
  );

  const builders = {
    grids: gridsTab,
    taxonomy: taxonomyTab,
    calendar: calendarTab,
    departments: departmentsTab,
    users: usersTab,
  };

  async function show(name) {
    current = name;
    for (const n of TABS) {
      tabs[n].setAttribute("aria-selected", String(n === name));
      panels[n].hidden = n !== name;
    }
    const url = new URL(window.location.href);
    url.searchParams.set("tab", name);
    window.history.replaceState(null, "", url);
    if (!mounted[name]) {
      mounted[name] = builders[name](panels[name], ctx);
      try {
        await mounted[name].ready;
      } catch (err) {
        showError(err);
      }
    } else {
      mounted[name].shown?.();
    }
  }

  ctx.onLanguage(() => {
    for (const tab of Object.values(mounted)) tab.relabel?.();
  });
  window.gridgov.admin = { show, tabs: mounted };
  await show(current);
}

// =============================================================================================
// (a) Regions and grids

const EMPTY = { type: "FeatureCollection", features: [] };
const GRID_MIN_ZOOM = 12;
/** Two vertices closer than this (degrees, ≈ 2 cm) are the same point: the API rounds to 1e-7. */
const SAME_POINT = 2e-7;

const GRID_STYLE = {
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

function sameLonLat(a, b) {
  return Math.abs(a[0] - b[0]) <= SAME_POINT && Math.abs(a[1] - b[1]) <= SAME_POINT;
}

/** Polygon coordinates → rings without the closing point (what the editor moves). */
function openRings(geometry) {
  const polygon = geometry.type === "MultiPolygon" ? geometry.coordinates[0] : geometry.coordinates;
  return polygon.map((ring) => {
    const pts = ring.map((p) => [p[0], p[1]]);
    if (pts.length > 1 && sameLonLat(pts[0], pts[pts.length - 1])) pts.pop();
    return pts;
  });
}

function closedPolygon(rings) {
  const round = (v) => Math.round(v * 1e7) / 1e7;
  return {
    type: "Polygon",
    coordinates: rings.map((ring) => {
      const pts = ring.map((p) => [round(p[0]), round(p[1])]);
      return [...pts, pts[0]];
    }),
  };
}

function bboxOf(rings) {
  let minx = Infinity;
  let miny = Infinity;
  let maxx = -Infinity;
  let maxy = -Infinity;
  for (const ring of rings) {
    for (const [x, y] of ring) {
      minx = Math.min(minx, x);
      miny = Math.min(miny, y);
      maxx = Math.max(maxx, x);
      maxy = Math.max(maxy, y);
    }
  }
  return [minx, miny, maxx, maxy];
}

function gridsTab(panel) {
  const state = {
    map: null,
    selected: null, // {code, name, community_code, detail}
    edit: null, // see startEdit
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

  // --- editing ---
  //
  // state.edit = {
  //   code, shapes: Map(code → {rings, original, revision_id, name}), linked, drawing, draft,
  //   history: [snapshot, …], form (bindForm), problems
  // }

  async function startEdit(redraw) {
    const sel = state.selected;
    if (!sel) return;
    const [minx, miny, maxx, maxy] = sel.detail.bbox;
    const pad = Math.max(maxx - minx, maxy - miny) * 0.05 + 1e-5;
    let fc;
    try {
      fc = await getJSON(
        `/api/grids.geojson${query({ bbox: [minx - pad, miny - pad, maxx + pad, maxy + pad].map((n) => n.toFixed(7)).join(",") })}`,
      );
    } catch (err) {
      showError(err);
      return;
    }
    const main = fc.features.find((f) => f.properties.code === sel.code);
    if (!main) {
      toast(t("admin.grids.gone"), { kind: "error" });
      return;
    }
    const shapes = new Map();
    const mainRings = openRings(main.geometry);
    const mainPoints = mainRings.flat();
    // Neighbours: grids sharing at least one vertex with the edited one (they move with it).
    const neighbours = fc.features.filter(
      (f) =>
        f.properties.code !== sel.code &&
        openRings(f.geometry)
          .flat()
          .some((p) => mainPoints.some((q) => sameLonLat(p, q))),
    );
    shapes.set(sel.code, {
      code: sel.code,
      rings: mainRings,
      original: JSON.stringify(closedPolygon(mainRings)),
      revision_id: sel.detail.revision_id,
      name: sel.detail.name,
    });
    const details = await Promise.all(
      neighbours.map((f) =>
        getJSON(`/api/grids/${encodeURIComponent(f.properties.code)}`).catch(() => null),
      ),
    );
    neighbours.forEach((f, i) => {
      const rings = openRings(f.geometry);
      shapes.set(f.properties.code, {
        code: f.properties.code,
        rings,
        original: JSON.stringify(closedPolygon(rings)),
        revision_id: details[i] ? details[i].revision_id : null,
        name: details[i] ? details[i].name : f.properties.name,
      });
    });
    state.edit = {
      code: sel.code,
      shapes,
      linked: true,
      drawing: false,
      drawn: [],
      history: [],
      problems: [],
      form: null,
    };
    state.map.setFilter("grid-line", [
      "!",
      ["in", ["get", "code"], ["literal", [...shapes.keys()]]],
    ]);
    state.map.setFilter("grid-selected", ["==", ["get", "code"], ""]);
    selectedBox.hidden = true;
    drawEditBox();
    if (redraw) startDrawing();
    drawEdit();
    fit(sel.detail.bbox);
  }

  function snapshot() {
    const edit = state.edit;
    return [...edit.shapes.values()].map((s) => [s.code, JSON.stringify(s.rings)]);
  }

  function pushHistory() {
    const edit = state.edit;
    edit.history.push(snapshot());
    if (edit.history.length > 100) edit.history.shift();
    updateButtons();
  }

  function undo() {
    const edit = state.edit;
    const last = edit && edit.history.pop();
    if (!last) return;
    for (const [code, rings] of last) edit.shapes.get(code).rings = JSON.parse(rings);
    drawEdit();
    updateButtons();
  }

  function changedShapes() {
    const edit = state.edit;
    return [...edit.shapes.values()].filter(
      (s) => JSON.stringify(closedPolygon(s.rings)) !== s.original,
    );
  }

  function drawEdit() {
    const edit = state.edit;
    const map = state.map;
    if (!edit) {
      for (const src of ["edit", "vertex", "mid"]) map.getSource(src).setData(EMPTY);
      return;
    }
    const changed = new Set(changedShapes().map((s) => s.code));
    const features = [];
    for (const s of edit.shapes.values()) {
      if (s.code === edit.code && edit.drawing) continue;
      features.push({
        type: "Feature",
        properties: { code: s.code, main: s.code === edit.code, changed: changed.has(s.code) },
        geometry: closedPolygon(s.rings),
      });
    }
    if (edit.drawing && edit.drawn.length) {
      features.push({
        type: "Feature",
        properties: { code: edit.code, main: true, changed: true },
        geometry: {
          type: "LineString",
          coordinates: edit.drawn.length > 1 ? edit.drawn : [edit.drawn[0], edit.drawn[0]],
        },
      });
    }
    map.getSource("edit").setData({ type: "FeatureCollection", features });
    const vertices = [];
    const mids = [];
    if (edit.drawing) {
      edit.drawn.forEach((p, index) =>
        vertices.push({
          type: "Feature",
          properties: { ring: -1, index, shared: false },
          geometry: { type: "Point", coordinates: p },
        }),
      );
    } else {
      const main = edit.shapes.get(edit.code);
      main.rings.forEach((ring, r) => {
        ring.forEach((p, index) => {
          vertices.push({
            type: "Feature",
            properties: { ring: r, index, shared: sharedWith(p).length > 0 },
            geometry: { type: "Point", coordinates: p },
          });
          const q = ring[(index + 1) % ring.length];
          mids.push({
            type: "Feature",
            properties: { ring: r, index },
            geometry: { type: "Point", coordinates: [(p[0] + q[0]) / 2, (p[1] + q[1]) / 2] },
          });
        });
      });
    }
    map.getSource("vertex").setData({ type: "FeatureCollection", features: vertices });
    map.getSource("mid").setData({ type: "FeatureCollection", features: mids });
  }

  /** Vertices of the neighbours at the point `p`: [{code, ring, index}]. */
  function sharedWith(p) {
    const edit = state.edit;
    const out = [];
    for (const s of edit.shapes.values()) {
      if (s.code === edit.code) continue;
      s.rings.forEach((ring, r) =>
        ring.forEach((q, i) => {
          if (sameLonLat(p, q)) out.push({ code: s.code, ring: r, index: i });
        }),
      );
    }
    return out;
  }

  let dragFrame = null;

  function onVertexDown(e) {
    const edit = state.edit;
    if (!edit || edit.drawing || !e.features || !e.features.length) return;
    if (e.originalEvent && e.originalEvent.button === 2) return; // right button: remove
    e.preventDefault(); // no map panning while dragging a vertex
    const { ring, index } = e.features[0].properties;
    const main = edit.shapes.get(edit.code);
    const start = main.rings[ring][index];
    const linked = edit.linked ? sharedWith(start) : [];
    pushHistory();
    const map = state.map;
    map.getCanvas().style.cursor = "grabbing";
    const move = (ev) => {
      const p = [ev.lngLat.lng, ev.lngLat.lat];
      main.rings[ring][index] = p;
      for (const l of linked) edit.shapes.get(l.code).rings[l.ring][l.index] = [p[0], p[1]];
      if (!dragFrame) {
        dragFrame = requestAnimationFrame(() => {
          dragFrame = null;
          drawEdit();
        });
      }
    };
    const up = () => {
      map.off("mousemove", move);
      map.off("touchmove", move);
      map.getCanvas().style.cursor = "";
      if (JSON.stringify(main.rings[ring][index]) === JSON.stringify(start)) edit.history.pop();
      drawEdit();
      updateButtons();
    };
    map.on("mousemove", move);
    map.on("touchmove", move);
    map.once(e.type === "touchstart" ? "touchend" : "mouseup", up);
  }

  function onMidClick(e) {
    const edit = state.edit;
    if (!edit || edit.drawing || !e.features || !e.features.length) return;
    const { ring, index } = e.features[0].properties;
    const main = edit.shapes.get(edit.code);
    const pts = main.rings[ring];
    const a = pts[index];
    const b = pts[(index + 1) % pts.length];
    const m = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
    pushHistory();
    pts.splice(index + 1, 0, m);
    if (edit.linked) {
      // The same edge in a neighbour gets the vertex too, so the shared edge stays shared.
      for (const s of edit.shapes.values()) {
        if (s.code === edit.code) continue;
        for (const other of s.rings) {
          for (let i = 0; i < other.length; i += 1) {
            const p = other[i];
            const q = other[(i + 1) % other.length];
            if ((sameLonLat(p, a) && sameLonLat(q, b)) || (sameLonLat(p, b) && sameLonLat(q, a))) {
              other.splice(i + 1, 0, [m[0], m[1]]);
              break;
            }
          }
        }
      }
    }
    drawEdit();
    updateButtons();
  }

  function onVertexRemove(e) {
    const edit = state.edit;
    if (!edit || edit.drawing || !e.features || !e.features.length) return;
    e.preventDefault();
    const { ring, index } = e.features[0].properties;
    const main = edit.shapes.get(edit.code);
    if (main.rings[ring].length <= 3) {
      toast(t("admin.grids.min_vertices"), { kind: "error" });
      return;
    }
    pushHistory();
    const p = main.rings[ring][index];
    const linked = edit.linked ? sharedWith(p) : [];
    main.rings[ring].splice(index, 1);
    for (const l of linked) {
      const other = edit.shapes.get(l.code).rings[l.ring];
      if (other.length > 3) {
        const i = other.findIndex((q) => sameLonLat(q, p));
        if (i >= 0) other.splice(i, 1);
      }
    }
    drawEdit();
    updateButtons();
  }

  function startDrawing() {
    const edit = state.edit;
    pushHistory();
    edit.drawing = true;
    edit.drawn = [];
    state.map.getCanvas().style.cursor = "crosshair";
    modeNote.hidden = false;
    modeNote.replaceChildren(tx("admin.grids.drawing_hint"));
    drawEdit();
    updateButtons();
  }

  function addDrawnPoint(p) {
    const edit = state.edit;
    if (edit.drawn.length >= 3) {
      const first = state.map.project(edit.drawn[0]);
      const here = state.map.project(p);
      if (Math.hypot(first.x - here.x, first.y - here.y) < 10) {
        finishDrawing();
        return;
      }
    }
    edit.drawn.push(p);
    drawEdit();
    updateButtons();
  }

  function finishDrawing() {
    const edit = state.edit;
    // A double-click also added its first click as a point: drop a duplicate at the end.
    const pts = edit.drawn.filter((p, i, all) => i === 0 || !sameLonLat(p, all[i - 1]));
    if (pts.length < 3) {
      toast(t("admin.grids.min_vertices"), { kind: "error" });
      return;
    }
    edit.shapes.get(edit.code).rings = [pts];
    edit.drawing = false;
    edit.drawn = [];
    state.map.getCanvas().style.cursor = "";
    modeNote.hidden = true;
    drawEdit();
    updateButtons();
  }

  function drawProblems(problems) {
    const edit = state.edit;
    if (edit) edit.problems = problems;
    const points = problems
      .filter((p) => Array.isArray(p.location))
      .map((p) => ({
        type: "Feature",
        properties: { kind: p.kind },
        geometry: { type: "Point", coordinates: p.location },
      }));
    state.map.getSource("problem").setData({ type: "FeatureCollection", features: points });
    const list = editBox.querySelector(".grid-problems");
    if (!list) return;
    list.hidden = !problems.length;
    list.replaceChildren(
      ...problems.map((p) =>
        h(
          "li",
          { class: `problem problem-${p.kind}`, dataset: { kind: p.kind } },
          h("strong", {}, label("admin.problem", p.kind)),
          " ",
          (p.codes || []).join(" / "),
          p.area_m2 != null ? ` · ${formatArea(p.area_m2)}` : "",
          Array.isArray(p.location)
            ? h(
                "button",
                {
                  type: "button",
                  class: "link-button",
                  "data-i18n": "admin.grids.show_problem",
                  onclick: () =>
                    state.map.jumpTo({
                      center: p.location,
                      zoom: Math.max(state.map.getZoom(), 18),
                    }),
                },
                t("admin.grids.show_problem"),
              )
            : null,
          h("span", { class: "problem-message server-message" }, p.message),
        ),
      ),
    );
    const first = points[0];
    if (first)
      state.map.jumpTo({
        center: first.geometry.coordinates,
        zoom: Math.max(state.map.getZoom(), 17),
      });
  }

  function updateButtons() {
    const edit = state.edit;
    if (!edit) return;
    const undoButton = editBox.querySelector("#grid-undo");
    const finish = editBox.querySelector("#grid-finish-drawing");
    const changedCount = editBox.querySelector(".changed-count");
    if (undoButton) undoButton.disabled = !edit.history.length;
    if (finish) {
      finish.hidden = !edit.drawing;
      finish.disabled = edit.drawn.length < 3;
    }
    if (changedCount) {
      const changed = changedShapes().map((s) => s.code);
      changedCount.textContent = changed.length
        ? t("admin.grids.changed", { n: changed.length, codes: changed.join(", ") })
        : t("admin.grids.unchanged");
      changedCount.dataset.count = String(changed.length);
    }
  }

  function drawEditBox() {
    const edit = state.edit;
    const main = edit.shapes.get(edit.code);
    const linked = h("input", {
      type: "checkbox",
      id: "grid-linked",
      checked: true,
      "data-no-draft": "",
      onchange: () => {
        edit.linked = linked.checked;
      },
    });
    const form = h(
      "form",
      { id: "grid-edit-form", class: "grid-edit-form" },
      h("h3", {}, tx("admin.grids.editing", { code: edit.code })),
      h("ul", { class: "grid-problems", hidden: true }),
      h("p", { class: "muted hint" }, tx("admin.grids.edit_hint")),
      h("label", { class: "check" }, linked, tx("admin.grids.linked")),
      field("admin.grids.name", input("name", { maxlength: "100", value: main.name || "" })),
      field("admin.grids.note", textarea("note", { rows: 2, maxlength: "500" }), {
        hint: "admin.grids.note_hint",
      }),
      h("p", { class: "changed-count muted" }),
      h(
        "div",
        { class: "form-buttons" },
        h(
          "button",
          { type: "submit", class: "primary", id: "grid-save", "data-i18n": "admin.grids.save" },
          t("admin.grids.save"),
        ),
        button("admin.grids.finish_drawing", finishDrawing, {
          id: "grid-finish-drawing",
          hidden: true,
        }),
        button("admin.grids.undo", undo, { id: "grid-undo", disabled: true }),
        button("admin.grids.cancel", () => stopEdit(), { id: "grid-cancel" }),
      ),
    );
    editBox.hidden = false;
    editBox.replaceChildren(form);
    edit.form = bindForm(form, {
      draft: `grid-edit-${edit.code}`,
      resetOnSuccess: false,
      validate: (values) => {
        if (edit.drawing) return { name: t("admin.grids.finish_first") };
        const renamed = (values.name || "").trim() !== (main.name || "");
        if (!renamed && !changedShapes().length) return { name: t("admin.nothing_changed") };
        return {};
      },
      submit: async (values) => {
        drawProblems([]);
        const name = (values.name || "").trim();
        const changed = changedShapes();
        if (name !== (main.name || "") && !changed.includes(main)) changed.unshift(main);
        const item = (s) => ({
          code: s.code,
          geometry: closedPolygon(s.rings),
          ...(s.code === edit.code ? { name } : {}),
          ...(s.revision_id != null ? { expected_revision_id: s.revision_id } : {}),
        });
        const note = (values.note || "").trim();
        try {
          if (changed.length === 1) {
            const { code, ...body } = item(changed[0]);
            return await putJSON(`/api/grids/${encodeURIComponent(code)}`, { ...body, note });
          }
          return await postJSON("/api/grids/edit", { grids: changed.map(item), note });
        } catch (err) {
          if (err && Array.isArray(err.problems) && err.problems.some((p) => p.kind)) {
            drawProblems(err.problems);
          }
          throw err;
        }
      },
      onSuccess: async (result) => {
        toast(t("admin.grids.saved", { n: result.changed.length, revision: result.revision_id }), {
          kind: "success",
        });
        const code = edit.code;
        stopEdit({ keepDraft: false });
        await selectGrid(code);
        await loadGrids(true).catch(showError);
      },
    });
    updateButtons();
  }

  function stopEdit({ keepDraft = false } = {}) {
    const edit = state.edit;
    if (!edit) return;
    if (!keepDraft) edit.form?.clearDraft();
    edit.form?.destroy();
    state.edit = null;
    editBox.hidden = true;
    editBox.replaceChildren();
    modeNote.hidden = true;
    state.map.getCanvas().style.cursor = "";
    state.map.setFilter("grid-line", null);
    state.map.getSource("problem").setData(EMPTY);
    drawEdit();
    if (state.selected) {
      state.map.setFilter("grid-selected", ["==", ["get", "code"], state.selected.code]);
      drawSelected();
    }
  }

  /** Test and debugging help: the editable vertices with their page pixels. */
  function handles() {
    const edit = state.edit;
    if (!edit || edit.drawing) return [];
    const rect = state.map.getContainer().getBoundingClientRect();
    const out = [];
    edit.shapes.get(edit.code).rings.forEach((ring, r) =>
      ring.forEach((p, index) => {
        const px = state.map.project(p);
        out.push({
          ring: r,
          index,
          lon: p[0],
          lat: p[1],
          x: rect.left + px.x,
          y: rect.top + px.y,
          shared: sharedWith(p).map((s) => s.code),
        });
      }),
    );
    return out;
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

// =============================================================================================
// (b) Taxonomy and time limits

function taxonomyTab(panel) {
  const state = { kind: "event", classes: [], major: null, subclasses: [], sub: null, q: "" };
  const kindSwitch = h(
    "div",
    { class: "kind-switch", role: "group" },
    ...KINDS.map((k) =>
      h(
        "button",
        {
          type: "button",
          class: "kind",
          dataset: { kind: k },
          "aria-pressed": String(k === state.kind),
          onclick: () => {
            state.kind = k;
            state.major = null;
            state.sub = null;
            load().catch(showError);
          },
        },
        tx(`subclass_kind.${k}`),
      ),
    ),
  );
  const classList = h("ul", { class: "class-list", id: "class-list" });
  const search = h("input", {
    type: "search",
    id: "subclass-search",
    "data-i18n-placeholder": "admin.taxonomy.search",
    placeholder: t("admin.taxonomy.search"),
  });
  const subList = h("ul", { class: "subclass-list", id: "subclass-list" });
  const detail = h("div", { class: "subclass-detail card", id: "subclass-detail", hidden: true });
  const result = resultBox();

  const toolbar = h(
    "div",
    { class: "toolbar" },
    download("/api/taxonomy/export.json", "admin.taxonomy.export_json"),
    download("/api/taxonomy/export.xlsx", "admin.taxonomy.export_xlsx"),
    fileButton("admin.taxonomy.import_json", "application/json,.json", async (file) => {
      try {
        const data = await readJSONFile(file);
        const summary = await postJSON("/api/taxonomy/import", data);
        importDone(summary);
      } catch (err) {
        showRefusalIn(result, err);
      }
    }),
    fileButton(
      "admin.taxonomy.import_xlsx",
      ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      async (file) => {
        try {
          importDone(await upload("/api/taxonomy/import.xlsx", file));
        } catch (err) {
          showRefusalIn(result, err);
        }
      },
    ),
  );

  function importDone(summary) {
    showResult(result, "success", [
      h(
        "span",
        {},
        t("admin.taxonomy.imported", {
          classes_created: summary.classes_created,
          classes_updated: summary.classes_updated,
          subclasses_created: summary.subclasses_created,
          subclasses_updated: summary.subclasses_updated,
        }),
      ),
    ]);
    load().catch(showError);
  }

  panel.append(
    toolbar,
    result,
    h(
      "div",
      { class: "taxonomy-layout" },
      h("div", { class: "card" }, kindSwitch, h("h3", {}, tx("admin.taxonomy.classes")), classList),
      h("div", { class: "card" }, h("h3", {}, tx("admin.taxonomy.subclasses")), search, subList),
      detail,
    ),
  );

  let searchTimer = null;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      state.q = search.value.trim();
      loadSubclasses().catch(showError);
    }, 250);
  });

  async function load() {
    for (const b of kindSwitch.querySelectorAll("button")) {
      b.setAttribute("aria-pressed", String(b.dataset.kind === state.kind));
    }
    state.classes = await getJSON(`/api/taxonomy/classes${query({ kind: state.kind })}`);
    if (!state.major && state.classes.length) state.major = state.classes[0].code;
    drawClasses();
    await loadSubclasses();
  }

  async function loadSubclasses() {
    state.subclasses = await getJSON(
      `/api/taxonomy/subclasses${query({ kind: state.kind, q: state.q })}`,
    );
    drawSubclasses();
    if (state.sub) {
      const fresh = state.subclasses.find((s) => s.code === state.sub.code);
      if (fresh) state.sub = fresh;
    }
    drawDetail();
  }

  function drawClasses() {
    classList.replaceChildren(
      ...state.classes.map((c) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "list-node",
              dataset: { code: c.code },
              "aria-current": c.code === state.major ? "true" : null,
              onclick: () => {
                state.major = c.code;
                drawClasses();
                drawSubclasses();
              },
            },
            h("span", { class: "code" }, c.code),
            " ",
            c.name,
            c.is_local ? h("span", { class: "badge" }, t("admin.taxonomy.local")) : null,
          ),
        ),
      ),
    );
  }

  function drawSubclasses() {
    const shown = state.q
      ? state.subclasses
      : state.subclasses.filter((s) => s.major_code === state.major);
    subList.replaceChildren(
      ...shown.map((s) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "list-node",
              dataset: { code: s.code },
              "aria-current": state.sub && state.sub.code === s.code ? "true" : null,
              onclick: () => {
                state.sub = s;
                drawSubclasses();
                drawDetail();
              },
            },
            h("span", { class: "code" }, s.code),
            " ",
            s.name,
          ),
        ),
      ),
    );
    if (!shown.length) subList.append(h("li", { class: "muted" }, t("form.no_results")));
  }

  function limitLabel(limit) {
    return `${limit.value} ${label("admin.unit", limit.unit)}`;
  }

  function drawDetail() {
    const s = state.sub;
    detail.hidden = !s;
    if (!s) return;
    const order = (l) =>
      STEPS.indexOf(l.step) * 10 +
      (l.urgency ? ["normal", "urgent", "critical"].indexOf(l.urgency) : 0);
    const limits = [...s.time_limits].sort((a, b) => order(a) - order(b));
    const tbody = h("tbody");
    for (const limit of limits) tbody.append(limitRow(s, limit));
    detail.replaceChildren(
      h(
        "h3",
        {},
        `${s.name} `,
        h("span", { class: "code" }, `${label("subclass_kind", s.kind)} ${s.code}`),
      ),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, tx("admin.taxonomy.register_condition")),
        h("dd", {}, s.register_condition),
        h("dt", {}, tx("admin.taxonomy.close_condition")),
        h("dd", {}, s.close_condition),
        h("dt", {}, tx("admin.taxonomy.urgency_levels")),
        h("dd", {}, s.urgency_levels.map((u) => label("urgency", u)).join("、")),
      ),
      h("h4", {}, tx("admin.taxonomy.time_limits")),
      h(
        "table",
        { class: "limits-table", id: "limits-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            th("admin.taxonomy.step"),
            th("admin.taxonomy.urgency"),
            th("admin.taxonomy.limit"),
            h("th"),
          ),
        ),
        tbody,
      ),
    );
  }

  function limitRow(s, limit) {
    const key = `${limit.step}:${limit.urgency || ""}`;
    const row = h(
      "tr",
      { dataset: { limit: key } },
      h("td", {}, label("step", limit.step)),
      h("td", {}, limit.urgency ? label("urgency", limit.urgency) : t("value.none")),
      h("td", { class: "limit-value" }, limitLabel(limit)),
      h(
        "td",
        {},
        button("admin.taxonomy.edit_limit", () => editLimit(s, limit, row), {
          class: "link-button edit-limit",
        }),
      ),
    );
    return row;
  }

  function editLimit(s, limit, row) {
    const valueInput = input("value", {
      type: "number",
      min: "1",
      max: "9999",
      step: "1",
      required: true,
      value: String(limit.value),
      labelKey: "admin.taxonomy.value",
      class: "limit-input",
    });
    const unitSelect = enumSelect("unit", UNITS, "admin.unit", {
      required: true,
      labelKey: "admin.taxonomy.unit",
    });
    unitSelect.value = limit.unit;
    const form = h(
      "form",
      { class: "limit-form", id: `limit-form-${limit.step}-${limit.urgency || "any"}` },
      h("div", { class: "field" }, valueInput),
      h("div", { class: "field" }, unitSelect),
      h(
        "div",
        { class: "form-buttons" },
        h(
          "button",
          { type: "submit", class: "primary", "data-i18n": "admin.save" },
          t("admin.save"),
        ),
        button("form.cancel", () => drawDetail()),
      ),
    );
    const cell = h("td", { colspan: "2" }, form);
    row.replaceChildren(row.children[0], row.children[1], cell);
    bindForm(form, {
      draft: `limit-${s.kind}-${s.code}-${limit.step}-${limit.urgency || ""}`,
      validate: (values) => {
        const n = Number(values.value);
        if (!Number.isInteger(n) || n < 1) return { value: t("admin.taxonomy.value_invalid") };
        return {};
      },
      submit: (values) =>
        putJSON(`/api/taxonomy/subclasses/${encodeURIComponent(s.code)}/time-limits`, {
          kind: s.kind,
          step: limit.step,
          urgency: limit.urgency,
          value: Number(values.value),
          unit: values.unit,
        }),
      onSuccess: (updated) => {
        state.sub = updated;
        const i = state.subclasses.findIndex((x) => x.code === updated.code);
        if (i >= 0) state.subclasses[i] = updated;
        toast(t("admin.taxonomy.limit_saved", { name: updated.name }), { kind: "success" });
        drawDetail();
      },
      resetOnSuccess: false,
    });
    valueInput.focus();
  }

  return {
    ready: load(),
    relabel: () => {
      drawClasses();
      drawSubclasses();
      drawDetail();
    },
  };
}

// =============================================================================================
// (c) Working calendar

function calendarTab(panel) {
  const thisYear = Number(
    new Intl.DateTimeFormat("en-CA", {
      year: "numeric",
      timeZone: window.gridgov.config.timezone,
    }).format(new Date()),
  );
  const state = { year: thisYear, statuses: [], rules: [] };
  const statusBox = h("div", { class: "calendar-status", id: "calendar-status" });
  const banner = h("div", {
    class: "calendar-warning",
    id: "calendar-warning",
    role: "alert",
    hidden: true,
  });
  const yearSelect = h(
    "select",
    { id: "calendar-year" },
    ...[thisYear - 1, thisYear, thisYear + 1, thisYear + 2].map((y) =>
      h("option", { value: String(y) }, String(y)),
    ),
  );
  yearSelect.value = String(thisYear);
  yearSelect.addEventListener("change", () => {
    state.year = Number(yearSelect.value);
    loadRules().catch(showError);
  });
  const onlyLocal = h("input", { type: "checkbox", id: "calendar-only-overrides" });
  onlyLocal.addEventListener("change", () => drawRules());
  const tbody = h("tbody");
  const table = h(
    "table",
    { class: "calendar-table", id: "calendar-rules" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        th("admin.calendar.date"),
        th("admin.calendar.kind"),
        th("admin.calendar.note"),
        th("admin.calendar.source"),
        th("admin.calendar.effective"),
        h("th"),
      ),
    ),
    tbody,
  );

  const kindSel = enumSelect("kind", DAY_KINDS, "admin.day", {
    required: true,
    labelKey: "admin.calendar.kind",
  });
  const overrideForm = h(
    "form",
    { id: "override-form", class: "card" },
    h("h3", {}, tx("admin.calendar.add_override")),
    h(
      "div",
      { class: "field-row" },
      field(
        "admin.calendar.date",
        input("day", { type: "date", required: true, labelKey: "admin.calendar.date" }),
        { required: true },
      ),
      field("admin.calendar.kind", kindSel, { required: true }),
    ),
    field("admin.calendar.note", input("note", { maxlength: "200" }), {
      hint: "admin.calendar.note_hint",
    }),
    buttons("admin.calendar.save_override"),
  );
  bindForm(overrideForm, {
    validate: (values) => {
      if (values.day && !/^\d{4}-\d{2}-\d{2}$/.test(values.day))
        return { day: t("admin.calendar.date_invalid") };
      return {};
    },
    submit: (values) =>
      putJSON(`/api/calendar/overrides/${encodeURIComponent(values.day)}`, {
        kind: values.kind,
        note: values.note.trim(),
      }),
    onSuccess: (row) => {
      toast(
        t("admin.calendar.override_saved", { date: row.date, kind: label("admin.day", row.kind) }),
        { kind: "success" },
      );
      const year = Number(String(row.date).slice(0, 4));
      if (year !== state.year && [...yearSelect.options].some((o) => Number(o.value) === year)) {
        state.year = year;
        yearSelect.value = String(year);
        reloadAfterWrite(() => Promise.all([loadStatus(), loadRules()]));
        return;
      }
      // The new rule decides its date: shown at once, the year reloaded from the server.
      state.rules = [
        ...state.rules
          .filter((r) => !(r.date === row.date && r.source === "override"))
          .map((r) => (r.date === row.date ? { ...r, effective: false } : r)),
        row,
      ].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
      drawRules();
      reloadAfterWrite(() => Promise.all([loadStatus(), loadRules()]));
    },
  });

  const noticeResult = resultBox();
  const noticeBox = h(
    "div",
    { class: "card notice-import" },
    h("h3", {}, tx("admin.calendar.notice")),
    h("p", { class: "muted hint" }, tx("admin.calendar.notice_hint")),
    fileButton(
      "admin.calendar.notice_file",
      ".csv,text/csv,.json,application/json",
      async (file) => {
        try {
          let summary;
          if (/\.json$/i.test(file.name))
            summary = await postJSON("/api/calendar/notice", await readJSONFile(file));
          else summary = await upload("/api/calendar/notice", file);
          showResult(noticeResult, "success", [
            h("span", {}, t("admin.calendar.notice_done", summary)),
          ]);
          state.year = summary.year;
          if (![...yearSelect.options].some((o) => Number(o.value) === summary.year)) {
            yearSelect.append(h("option", { value: String(summary.year) }, String(summary.year)));
          }
          yearSelect.value = String(summary.year);
          reloadAfterWrite(() => Promise.all([loadStatus(), loadRules()]));
        } catch (err) {
          showRefusalIn(noticeResult, err);
        }
      },
    ),
    noticeResult,
  );

  panel.append(
    banner,
    statusBox,
    h(
      "div",
      { class: "calendar-layout" },
      h(
        "div",
        { class: "card" },
        h(
          "div",
          { class: "toolbar" },
          h("label", {}, tx("admin.calendar.year"), " ", yearSelect),
          h("label", { class: "check" }, onlyLocal, tx("admin.calendar.only_overrides")),
        ),
        h("div", { class: "table-scroll" }, table),
      ),
      h("div", { class: "calendar-side" }, overrideForm, noticeBox),
    ),
  );

  async function loadStatus() {
    state.statuses = await Promise.all(
      [thisYear, thisYear + 1].map((year) => getJSON(`/api/calendar/status${query({ year })}`)),
    );
    drawStatus();
  }

  function drawStatus() {
    statusBox.replaceChildren(
      ...state.statuses.map((s) =>
        h(
          "div",
          {
            class: `year-status ${s.covered ? "covered" : "uncovered"}`,
            dataset: { year: String(s.year), covered: String(s.covered) },
          },
          h("strong", {}, String(s.year)),
          " ",
          h("span", {}, t(s.covered ? "admin.calendar.covered" : "admin.calendar.not_covered")),
          " · ",
          h("span", { class: "muted" }, label("admin.calendar.source", s.source)),
        ),
      ),
    );
    const uncovered = state.statuses.filter((s) => !s.covered);
    banner.hidden = !uncovered.length;
    banner.replaceChildren(
      ...uncovered.map((s) =>
        h(
          "p",
          { dataset: { year: String(s.year) } },
          h("strong", {}, t("admin.calendar.warning_title", { year: s.year })),
          " ",
          (language() === "zh-CN" ? s.warning_zh : s.warning_en) || s.warning || "",
        ),
      ),
    );
  }

  async function loadRules() {
    state.rules = await getJSON(`/api/calendar/rules${query({ year: state.year })}`);
    drawRules();
  }

  function drawRules() {
    const rows = onlyLocal.checked
      ? state.rules.filter((r) => r.source === "override")
      : state.rules;
    tbody.replaceChildren(
      ...rows.map((r) =>
        h(
          "tr",
          {
            dataset: { date: r.date, source: r.source },
            class: r.effective ? "effective" : "shadowed",
          },
          h("td", { class: "code" }, `${r.date} ${weekday(r.date)}`),
          h("td", {}, h("span", { class: `badge day-${r.kind}` }, label("admin.day", r.kind))),
          h("td", {}, r.note || ""),
          h("td", {}, label("admin.calendar.source", r.source)),
          h("td", {}, r.effective ? "✓" : ""),
          h(
            "td",
            {},
            r.source === "override"
              ? button("admin.calendar.remove", () => removeOverride(r.date), {
                  class: "link-button remove-override",
                })
              : null,
          ),
        ),
      ),
    );
    if (!rows.length) tbody.append(emptyRow(6));
  }

  function weekday(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    return new Intl.DateTimeFormat(language(), { weekday: "short", timeZone: "UTC" }).format(
      new Date(Date.UTC(y, m - 1, d)),
    );
  }

  async function removeOverride(day) {
    if (!window.confirm(t("admin.calendar.remove_confirm", { date: day }))) return;
    try {
      await deleteJSON(`/api/calendar/overrides/${encodeURIComponent(day)}`);
      toast(t("admin.calendar.removed", { date: day }), { kind: "success" });
      state.rules = state.rules.filter((r) => !(r.date === day && r.source === "override"));
      drawRules();
      reloadAfterWrite(() => Promise.all([loadStatus(), loadRules()]));
    } catch (err) {
      showError(err);
    }
  }

  return {
    ready: Promise.all([loadStatus(), loadRules()]),
    relabel: () => {
      drawStatus();
      drawRules();
    },
  };
}

// =============================================================================================
// (d) Departments and the routing matrix

function departmentsTab(panel) {
  const state = { departments: [], rules: [], kind: "", editingDept: null, editingRule: null };
  const deptBody = h("tbody");
  const ruleBody = h("tbody");
  const deptFormBox = h("div", {
    class: "card form-card",
    id: "department-form-box",
    hidden: true,
  });
  const ruleFormBox = h("div", { class: "card form-card", id: "rule-form-box", hidden: true });
  const kindFilter = enumSelect("rule_kind", KINDS, "subclass_kind", { empty: "form.all" });
  kindFilter.id = "rule-kind-filter";
  kindFilter.addEventListener("change", () => {
    state.kind = kindFilter.value;
    loadRules().catch(showError);
  });
  const previewResult = h("div", { class: "preview-result", id: "routing-result", hidden: true });

  const previewForm = h(
    "form",
    { id: "routing-preview-form", class: "card" },
    h("h3", {}, tx("admin.routing.title")),
    h(
      "div",
      { class: "field-row" },
      field(
        "admin.rule.kind",
        enumSelect("kind", KINDS, "subclass_kind", { required: true, labelKey: "admin.rule.kind" }),
        { required: true },
      ),
      field(
        "admin.routing.subclass",
        input("subclass_code", {
          required: true,
          maxlength: "4",
          inputmode: "numeric",
          labelKey: "admin.routing.subclass",
        }),
        { required: true },
      ),
    ),
    h(
      "div",
      { class: "field-row" },
      field(
        "admin.routing.grid",
        input("grid_code", {
          required: true,
          maxlength: "15",
          inputmode: "numeric",
          labelKey: "admin.routing.grid",
        }),
        { required: true },
      ),
      field("admin.routing.owner", input("component_owner", { maxlength: "40" })),
    ),
    buttons("admin.routing.run"),
    previewResult,
  );
  bindForm(previewForm, {
    resetOnSuccess: false,
    validate: (v) => {
      const out = {};
      if (v.subclass_code && !/^\d{4}$/.test(v.subclass_code.trim()))
        out.subclass_code = t("admin.routing.subclass_invalid");
      if (v.grid_code && !/^\d{12,15}$/.test(v.grid_code.trim()))
        out.grid_code = t("admin.routing.grid_invalid");
      return out;
    },
    submit: (v) =>
      getJSON(
        `/api/routing/preview${query({
          kind: v.kind,
          subclass_code: v.subclass_code.trim(),
          grid_code: v.grid_code.trim(),
          component_owner: v.component_owner.trim(),
        })}`,
      ),
    onSuccess: (r) => {
      previewResult.hidden = false;
      const names = new Map(state.departments.map((d) => [d.code, d.name]));
      previewResult.replaceChildren(
        h(
          "p",
          { class: "preview-department" },
          h("strong", {}, tx("admin.routing.department")),
          " ",
          r.department_code
            ? `${names.get(r.department_code) || ""} ${r.department_code}`
            : t("admin.routing.none"),
        ),
        h("p", { class: "preview-reason" }, r.reason),
        r.candidates.length
          ? h(
              "ol",
              { class: "candidates" },
              ...r.candidates.map((c) =>
                h(
                  "li",
                  {},
                  `${c.department_name} ${c.department_code} · ${label("admin.basis", c.basis)}`,
                  c.rule_id ? ` · #${c.rule_id}` : "",
                ),
              ),
            )
          : null,
      );
    },
  });

  panel.append(
    h(
      "div",
      { class: "departments-layout" },
      h(
        "section",
        { class: "card" },
        h(
          "div",
          { class: "toolbar" },
          h("h3", {}, tx("admin.dept.title")),
          button("admin.dept.new", () => editDepartment(null), {
            id: "department-new",
            cls: "primary",
          }),
          download("/api/departments/export.json", "admin.dept.export"),
        ),
        deptFormBox,
        h(
          "div",
          { class: "table-scroll" },
          h(
            "table",
            { id: "department-table" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                th("admin.dept.code"),
                th("admin.dept.name"),
                th("admin.dept.parent"),
                th("admin.dept.level"),
                th("admin.dept.phone"),
                th("admin.dept.regions"),
                th("admin.dept.active"),
              ),
            ),
            deptBody,
          ),
        ),
      ),
      h(
        "section",
        { class: "card" },
        h(
          "div",
          { class: "toolbar" },
          h("h3", {}, tx("admin.rule.title")),
          h("label", {}, tx("admin.rule.kind"), " ", kindFilter),
          button("admin.rule.new", () => editRule(null), { id: "rule-new", cls: "primary" }),
        ),
        h("p", { class: "muted hint" }, tx("admin.rule.hint")),
        ruleFormBox,
        h(
          "div",
          { class: "table-scroll" },
          h(
            "table",
            { id: "rule-table" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                th("admin.rule.id"),
                th("admin.rule.kind"),
                th("admin.rule.subclass"),
                th("admin.rule.region"),
                th("admin.rule.department"),
                th("admin.rule.priority"),
                th("admin.rule.basis"),
                th("admin.rule.note"),
              ),
            ),
            ruleBody,
          ),
        ),
      ),
      previewForm,
    ),
  );

  async function loadDepartments() {
    state.departments = await getJSON("/api/departments");
    drawDepartments();
  }

  async function loadRules() {
    state.rules = await getJSON(`/api/responsibility-rules${query({ kind: state.kind })}`);
    drawRules();
  }

  function deptName(code) {
    const d = state.departments.find((x) => x.code === code);
    return d ? d.name : code;
  }

  function drawDepartments() {
    deptBody.replaceChildren(
      ...state.departments.map((d) =>
        h(
          "tr",
          {
            dataset: { code: d.code },
            class: `clickable${d.active ? "" : " inactive"}`,
            onclick: () => editDepartment(d),
          },
          h("td", { class: "code" }, d.code),
          h("td", {}, d.name),
          h("td", { class: "code" }, d.parent_code || ""),
          h("td", {}, label("admin.level", d.level)),
          h("td", {}, d.phone || ""),
          h("td", { class: "code wrap" }, d.region_codes.join(" ")),
          h("td", {}, d.active ? "✓" : t("admin.inactive")),
        ),
      ),
    );
    if (!state.departments.length) deptBody.append(emptyRow(7));
  }

  function drawRules() {
    ruleBody.replaceChildren(
      ...state.rules.map((r) =>
        h(
          "tr",
          { dataset: { id: String(r.id) }, class: "clickable", onclick: () => editRule(r) },
          h("td", { class: "code" }, `#${r.id}`),
          h("td", {}, label("subclass_kind", r.kind)),
          h("td", { class: "code" }, r.subclass_code || t("admin.rule.any")),
          h("td", { class: "code" }, r.region_prefix || t("admin.rule.any")),
          h(
            "td",
            {},
            r.department_code ? deptName(r.department_code) : t("admin.rule.territory_dept"),
          ),
          h("td", {}, String(r.priority)),
          h("td", {}, label("admin.basis", r.basis)),
          h("td", { class: "wrap" }, r.note || ""),
        ),
      ),
    );
    if (!state.rules.length) ruleBody.append(emptyRow(8));
  }

  function deptOptions(exclude) {
    return state.departments
      .filter((d) => d.code !== exclude)
      .map((d) => [d.code, `${d.name} (${d.code})`]);
  }

  function editDepartment(d) {
    state.editingDept = d;
    const isNew = !d;
    const codeInput = input("code", {
      required: isNew,
      maxlength: "40",
      labelKey: "admin.dept.code",
      disabled: !isNew,
      value: d ? d.code : "",
    });
    const parent = select("parent_code", deptOptions(d && d.code), {
      empty: t("admin.dept.no_parent"),
    });
    const level = enumSelect("level", LEVELS, "admin.level", {
      required: true,
      labelKey: "admin.dept.level",
    });
    const active = h("input", { type: "checkbox", name: "active", checked: d ? d.active : true });
    const form = h(
      "form",
      { id: "department-form" },
      h("h4", {}, isNew ? tx("admin.dept.new") : tx("admin.dept.edit", { code: d.code })),
      h(
        "div",
        { class: "field-row" },
        field("admin.dept.code", codeInput, { required: isNew }),
        field(
          "admin.dept.name",
          input("name", {
            required: true,
            maxlength: "100",
            labelKey: "admin.dept.name",
            value: d ? d.name : "",
          }),
          { required: true },
        ),
      ),
      h(
        "div",
        { class: "field-row" },
        field("admin.dept.parent", parent),
        field("admin.dept.level", level, { required: true }),
      ),
      h(
        "div",
        { class: "field-row" },
        field(
          "admin.dept.phone",
          input("phone", { maxlength: "30", value: d && d.phone ? d.phone : "" }),
        ),
        field(
          "admin.dept.sort_order",
          input("sort_order", { type: "number", step: "1", value: d ? String(d.sort_order) : "0" }),
        ),
      ),
      field("admin.dept.regions", input("regions", { value: d ? d.region_codes.join(" ") : "" }), {
        hint: "admin.dept.regions_hint",
      }),
      h("label", { class: "check" }, active, tx("admin.dept.active")),
      h(
        "div",
        { class: "form-buttons" },
        h(
          "button",
          { type: "submit", class: "primary", "data-i18n": "admin.save" },
          t("admin.save"),
        ),
        button("form.cancel", () => closeDeptForm()),
        isNew
          ? null
          : button("admin.delete", () => removeDepartment(d), {
              cls: "danger",
              id: "department-delete",
            }),
      ),
    );
    parent.value = d && d.parent_code ? d.parent_code : "";
    level.value = d ? d.level : "district";
    deptFormBox.hidden = false;
    deptFormBox.replaceChildren(form);
    bindForm(form, {
      draft: isNew ? "department-new" : `department-${d.code}`,
      validate: (v) => {
        const out = {};
        if (isNew && v.code && !/^[\w.-]{1,40}$/.test(v.code.trim()))
          out.code = t("admin.dept.code_invalid");
        if (v.sort_order !== "" && !Number.isInteger(Number(v.sort_order)))
          out.sort_order = t("admin.integer");
        return out;
      },
      submit: (v) => {
        const body = {
          name: v.name.trim(),
          parent_code: v.parent_code || null,
          level: v.level,
          phone: v.phone.trim() || null,
          sort_order: Number(v.sort_order || 0),
          active: v.active,
          regions: v.regions.split(/[\s,，;；]+/).filter(Boolean),
        };
        return isNew
          ? postJSON("/api/departments", { code: v.code.trim(), ...body })
          : patchJSON(`/api/departments/${encodeURIComponent(d.code)}`, body);
      },
      onSuccess: (saved) => {
        toast(t("admin.dept.saved", { name: saved.name }), { kind: "success" });
        closeDeptForm();
        const i = state.departments.findIndex((x) => x.code === saved.code);
        if (i >= 0) state.departments[i] = saved;
        else state.departments.push(saved);
        drawDepartments();
        reloadAfterWrite(loadDepartments);
      },
    });
  }

  function closeDeptForm() {
    deptFormBox.hidden = true;
    deptFormBox.replaceChildren();
    state.editingDept = null;
  }

  async function removeDepartment(d) {
    if (!window.confirm(t("admin.dept.delete_confirm", { name: d.name }))) return;
    try {
      await deleteJSON(`/api/departments/${encodeURIComponent(d.code)}`);
      toast(t("admin.dept.deleted", { name: d.name }), { kind: "success" });
      closeDeptForm();
      state.departments = state.departments.filter((x) => x.code !== d.code);
      drawDepartments();
      reloadAfterWrite(loadDepartments);
    } catch (err) {
      showError(err);
    }
  }

  function editRule(r) {
    state.editingRule = r;
    const isNew = !r;
    const kind = enumSelect("kind", KINDS, "subclass_kind", {
      required: true,
      labelKey: "admin.rule.kind",
    });
    const dept = select("department_code", deptOptions(null), {
      empty: t("admin.rule.territory_dept"),
    });
    const basis = enumSelect("basis", BASES, "admin.basis", {
      required: true,
      labelKey: "admin.rule.basis",
    });
    const form = h(
      "form",
      { id: "rule-form" },
      h("h4", {}, isNew ? tx("admin.rule.new") : tx("admin.rule.edit", { id: r.id })),
      h(
        "div",
        { class: "field-row" },
        field("admin.rule.kind", kind, { required: true }),
        field(
          "admin.rule.subclass",
          input("subclass_code", {
            maxlength: "4",
            inputmode: "numeric",
            value: r ? r.subclass_code : "",
          }),
          { hint: "admin.rule.subclass_hint" },
        ),
      ),
      h(
        "div",
        { class: "field-row" },
        field(
          "admin.rule.region",
          input("region_prefix", {
            maxlength: "12",
            inputmode: "numeric",
            value: r && r.region_prefix ? r.region_prefix : "",
          }),
          { hint: "admin.rule.region_hint" },
        ),
        field("admin.rule.department", dept),
      ),
      h(
        "div",
        { class: "field-row" },
        field(
          "admin.rule.priority",
          input("priority", {
            type: "number",
            step: "1",
            required: true,
            labelKey: "admin.rule.priority",
            value: r ? String(r.priority) : "100",
          }),
          { required: true },
        ),
        field("admin.rule.basis", basis, { required: true }),
      ),
      field("admin.rule.note", input("note", { maxlength: "200", value: r ? r.note : "" })),
      h(
        "div",
        { class: "form-buttons" },
        h(
          "button",
          { type: "submit", class: "primary", "data-i18n": "admin.save" },
          t("admin.save"),
        ),
        button("form.cancel", () => closeRuleForm()),
        isNew
          ? null
          : button("admin.delete", () => removeRule(r), { cls: "danger", id: "rule-delete" }),
      ),
    );
    kind.value = r ? r.kind : state.kind || "event";
    dept.value = r && r.department_code ? r.department_code : "";
    basis.value = r ? r.basis : "territory";
    ruleFormBox.hidden = false;
    ruleFormBox.replaceChildren(form);
    bindForm(form, {
      draft: isNew ? "rule-new" : `rule-${r.id}`,
      validate: (v) => {
        const out = {};
        if (v.subclass_code && !/^(\d{2}|\d{4})$/.test(v.subclass_code.trim()))
          out.subclass_code = t("admin.rule.subclass_invalid");
        if (v.region_prefix && !/^\d{1,12}$/.test(v.region_prefix.trim()))
          out.region_prefix = t("admin.rule.region_invalid");
        if (!Number.isInteger(Number(v.priority))) out.priority = t("admin.integer");
        if (!v.department_code && v.basis !== "territory")
          out.department_code = t("admin.rule.department_needed");
        return out;
      },
      submit: (v) => {
        const body = {
          kind: v.kind,
          subclass_code: v.subclass_code.trim(),
          region_prefix: v.region_prefix.trim() || null,
          department_code: v.department_code || null,
          priority: Number(v.priority),
          basis: v.basis,
          note: v.note.trim(),
        };
        return isNew
          ? postJSON("/api/responsibility-rules", body)
          : patchJSON(`/api/responsibility-rules/${r.id}`, body);
      },
      onSuccess: (saved) => {
        toast(t("admin.rule.saved", { id: saved.id }), { kind: "success" });
        closeRuleForm();
        const i = state.rules.findIndex((x) => x.id === saved.id);
        if (i >= 0) state.rules[i] = saved;
        else state.rules.push(saved);
        drawRules();
        reloadAfterWrite(loadRules);
      },
    });
  }

  function closeRuleForm() {
    ruleFormBox.hidden = true;
    ruleFormBox.replaceChildren();
    state.editingRule = null;
  }

  async function removeRule(r) {
    if (!window.confirm(t("admin.rule.delete_confirm", { id: r.id }))) return;
    try {
      await deleteJSON(`/api/responsibility-rules/${r.id}`);
      toast(t("admin.rule.deleted", { id: r.id }), { kind: "success" });
      closeRuleForm();
      state.rules = state.rules.filter((x) => x.id !== r.id);
      drawRules();
      reloadAfterWrite(loadRules);
    } catch (err) {
      showError(err);
    }
  }

  return {
    ready: Promise.all([loadDepartments(), loadRules()]),
    relabel: () => {
      drawDepartments();
      drawRules();
    },
  };
}

// =============================================================================================
// (e) Users and jurisdictions

/** A list of jurisdictions ({kind, code}) in a hidden JSON input, with an add row. */
function jurisdictionEditor(name, { regions = [], departments = [] } = {}) {
  const value = h("input", { type: "hidden", name, dataset: { json: "" } });
  const list = h("ul", { class: "chips" });
  const kind = enumSelect("", SCOPE_KINDS, "admin.scope", {});
  kind.removeAttribute("name");
  const listId = `jur-options-${Math.random().toString(36).slice(2, 8)}`;
  const code = h("input", {
    type: "text",
    class: "jur-code",
    list: listId,
    maxlength: "40",
    "data-no-draft": "",
    "data-i18n-placeholder": "admin.users.jur_code",
    placeholder: t("admin.users.jur_code"),
  });
  const options = h("datalist", { id: listId });
  const fillOptions = () => {
    const source =
      kind.value === "department"
        ? departments.map((d) => [d.code, d.name])
        : kind.value === "region"
          ? regions.map((r) => [r.code, r.name])
          : [];
    options.replaceChildren(...source.map(([c, n]) => h("option", { value: c }, n)));
  };
  kind.addEventListener("change", fillOptions);
  fillOptions();
  const read = () => readJSON(value) || [];
  const names = new Map([
    ...regions.map((r) => [r.code, r.name]),
    ...departments.map((d) => [d.code, d.name]),
  ]);
  const draw = () => {
    list.replaceChildren(
      ...read().map((j, i) =>
        h(
          "li",
          { class: "chip", dataset: { kind: j.kind, code: j.code } },
          h("span", { class: "chip-kind" }, label("admin.scope", j.kind)),
          " ",
          h("span", { class: "code" }, j.code),
          names.get(j.code) ? ` ${names.get(j.code)}` : "",
          h(
            "button",
            {
              type: "button",
              class: "close",
              "aria-label": t("admin.users.jur_remove"),
              onclick: () => {
                const next = read().filter((_, k) => k !== i);
                writeJSON(value, next.length ? next : null);
                value.dispatchEvent(new Event("change", { bubbles: true }));
                draw();
              },
            },
            "×",
          ),
        ),
      ),
    );
    if (!read().length) list.append(h("li", { class: "muted" }, t("admin.users.jur_none")));
  };
  const add = () => {
    const c = code.value.trim();
    if (!c) {
      code.focus();
      return;
    }
    const current = read();
    if (!current.some((j) => j.kind === kind.value && j.code === c)) {
      writeJSON(value, [...current, { kind: kind.value, code: c }]);
      value.dispatchEvent(new Event("change", { bubbles: true }));
    }
    code.value = "";
    draw();
  };
  code.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      add();
    }
  });
  value.addEventListener("gridgov:set", draw);
  const root = h(
    "div",
    { class: "jurisdictions" },
    value,
    list,
    h(
      "div",
      { class: "picker-row" },
      kind,
      code,
      options,
      button("admin.users.jur_add", add, { class: "secondary jur-add" }),
    ),
  );
  return {
    root,
    set(items) {
      writeJSON(value, items && items.length ? items : null);
      draw();
    },
    draw,
  };
}

function usersTab(panel) {
  const state = {
    users: [],
    role: "",
    active: "",
    offset: 0,
    more: false,
    selected: null,
    regions: [],
    departments: [],
  };
  const roleFilter = enumSelect("role_filter", ROLES, "role", { empty: "form.all" });
  roleFilter.id = "user-role-filter";
  const activeFilter = h(
    "select",
    { id: "user-active-filter" },
    option("", "form.all"),
    option("true", "admin.users.active_only"),
    option("false", "admin.users.inactive_only"),
  );
  for (const el of [roleFilter, activeFilter]) {
    el.addEventListener("change", () => {
      state.role = roleFilter.value;
      state.active = activeFilter.value;
      load().catch(showError);
    });
  }
  const tbody = h("tbody");
  const moreButton = button("admin.users.more", () => load({ append: true }).catch(showError), {
    hidden: true,
  });
  const createBox = h("div", { class: "card form-card", id: "user-create-box", hidden: true });
  const editBox = h("div", { class: "card form-card", id: "user-edit-box", hidden: true });

  panel.append(
    h(
      "div",
      { class: "users-layout" },
      h(
        "section",
        { class: "card" },
        h(
          "div",
          { class: "toolbar" },
          h("h3", {}, tx("admin.users.title")),
          h("label", {}, tx("admin.users.role"), " ", roleFilter),
          h("label", {}, tx("admin.users.status"), " ", activeFilter),
          button("admin.users.new", () => openCreate(), { id: "user-new", cls: "primary" }),
        ),
        createBox,
        h(
          "div",
          { class: "table-scroll" },
          h(
            "table",
            { id: "user-table" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                th("admin.users.username"),
                th("admin.users.name"),
                th("admin.users.role"),
                th("admin.users.department"),
                th("admin.users.jurisdictions"),
                th("admin.users.status"),
                th("admin.users.last_login"),
              ),
            ),
            tbody,
          ),
        ),
        moreButton,
      ),
      editBox,
    ),
  );

  async function loadRefs() {
    const [streets, communities, departments] = await Promise.all([
      getJSON(`/api/regions${query({ level: "street" })}`),
      getJSON(`/api/regions${query({ level: "community" })}`),
      getJSON("/api/departments"),
    ]);
    state.regions = [...streets, ...communities];
    state.departments = departments;
  }

  async function load({ append = false } = {}) {
    const offset = append ? state.offset : 0;
    const page = await getJSON(
      `/api/users${query({ role: state.role, active: state.active, limit: USERS_PAGE, offset })}`,
    );
    state.users = append ? [...state.users, ...page] : page;
    state.offset = offset + page.length;
    state.more = page.length === USERS_PAGE;
    draw();
  }

  function jurText(u) {
    if (!u.jurisdictions.length) return t("value.none");
    const first = u.jurisdictions
      .slice(0, 2)
      .map((j) => `${label("admin.scope", j.kind)} ${j.code}`);
    const rest = u.jurisdictions.length - first.length;
    return first.join("、") + (rest > 0 ? ` ${t("admin.users.and_more", { n: rest })}` : "");
  }

  function status(u) {
    if (!u.active) return t("admin.inactive");
    if (u.locked_until && new Date(u.locked_until) > new Date()) return t("admin.users.locked");
    return t("admin.active");
  }

  function draw() {
    tbody.replaceChildren(
      ...state.users.map((u) =>
        h(
          "tr",
          {
            dataset: { username: u.username },
            class: `clickable${u.active ? "" : " inactive"}${state.selected && state.selected.username === u.username ? " selected" : ""}`,
            onclick: () => openEdit(u),
          },
          h("td", { class: "code" }, u.username),
          h("td", {}, u.name),
          h("td", {}, label("role", u.role)),
          h("td", { class: "code" }, u.department_code || ""),
          h("td", { class: "wrap" }, jurText(u)),
          h("td", {}, status(u)),
          h("td", {}, u.last_login_at ? formatDateTime(u.last_login_at) : t("value.none")),
        ),
      ),
    );
    if (!state.users.length) tbody.append(emptyRow(7));
    moreButton.hidden = !state.more;
  }

  function departmentSelect() {
    return select(
      "department_code",
      state.departments.map((d) => [d.code, `${d.name} (${d.code})`]),
      { empty: t("admin.users.no_department") },
    );
  }

  function userChecks(v, { creating }) {
    const out = {};
    if (creating && v.username && !USERNAME_RE.test(v.username.trim().toLowerCase()))
      out.username = t("admin.users.username_invalid");
    if (v.password && v.password.length < PASSWORD_MIN)
      out.password = t("admin.users.password_short", { n: PASSWORD_MIN });
    if (v.phone && !/^\+?[0-9][0-9 -]{4,28}$/.test(v.phone.trim()))
      out.phone = t("admin.users.phone_invalid");
    if (v.role === "department" && !v.department_code)
      out.department_code = t("admin.users.department_needed");
    return out;
  }

  function openCreate() {
    const roleSel = enumSelect("role", ROLES, "role", {
      required: true,
      empty: "form.choose",
      labelKey: "admin.users.role",
    });
    const jur = jurisdictionEditor("jurisdictions", state);
    const form = h(
      "form",
      { id: "user-create-form", autocomplete: "off" },
      h("h4", {}, tx("admin.users.new")),
      h(
        "div",
        { class: "field-row" },
        field(
          "admin.users.username",
          input("username", {
            required: true,
            maxlength: "60",
            autocapitalize: "none",
            spellcheck: "false",
            labelKey: "admin.users.username",
          }),
          { required: true, hint: "admin.users.username_hint" },
        ),
        field(
          "admin.users.name",
          input("name", { required: true, maxlength: "60", labelKey: "admin.users.name" }),
          { required: true },
        ),
      ),
      h(
        "div",
        { class: "field-row" },
        field("admin.users.role", roleSel, { required: true }),
        field(
          "admin.users.password",
          input("password", {
            type: "password",
            required: true,
            autocomplete: "new-password",
            labelKey: "admin.users.password",
          }),
          { required: true, hint: "admin.users.password_hint" },
        ),
      ),
      h(
        "div",
        { class: "field-row" },
        field("admin.users.phone", input("phone", { maxlength: "30", inputmode: "tel" })),
        field("admin.users.department", departmentSelect()),
      ),
      field("admin.users.jurisdictions", jur.root, { hint: "admin.users.jur_hint" }),
      h(
        "div",
        { class: "form-buttons" },
        h(
          "button",
          { type: "submit", class: "primary", "data-i18n": "admin.users.create" },
          t("admin.users.create"),
        ),
        button("form.cancel", () => {
          createBox.hidden = true;
          bound.clearDraft();
          createBox.replaceChildren();
        }),
      ),
    );
    createBox.hidden = false;
    createBox.replaceChildren(form);
    const bound = bindForm(form, {
      draft: "user-create",
      validate: (v) => userChecks(v, { creating: true }),
      submit: (v) =>
        postJSON("/api/users", {
          username: v.username.trim().toLowerCase(),
          name: v.name.trim(),
          role: v.role,
          password: v.password,
          phone: v.phone.trim() || null,
          department_code: v.department_code || null,
          jurisdictions: v.jurisdictions || [],
        }),
      onSuccess: (user) => {
        toast(t("admin.users.created", { username: user.username }), { kind: "success" });
        createBox.hidden = true;
        createBox.replaceChildren();
        state.users = [user, ...state.users.filter((x) => x.username !== user.username)];
        openEdit(user);
        reloadAfterWrite(load);
      },
    });
    jur.draw();
    form.querySelector("input[name=username]").focus();
  }

  function openEdit(u) {
    state.selected = u;
    draw();
    const roleSel = enumSelect("role", ROLES, "role", {
      required: true,
      labelKey: "admin.users.role",
    });
    const dept = departmentSelect();
    const jur = jurisdictionEditor("jurisdictions", state);
    const active = h("input", { type: "checkbox", name: "active", checked: u.active });
    const form = h(
      "form",
      { id: "user-edit-form" },
      h("h4", {}, tx("admin.users.edit", { username: u.username })),
      field(
        "admin.users.name",
        input("name", {
          required: true,
          maxlength: "60",
          value: u.name,
          labelKey: "admin.users.name",
        }),
        { required: true },
      ),
      h(
        "div",
        { class: "field-row" },
        field("admin.users.role", roleSel, { required: true }),
        field("admin.users.department", dept),
      ),
      field(
        "admin.users.phone",
        input("phone", { maxlength: "30", inputmode: "tel", placeholder: u.phone || "" }),
        { hint: "admin.users.phone_keep" },
      ),
      field("admin.users.jurisdictions", jur.root, { hint: "admin.users.jur_hint" }),
      h("label", { class: "check" }, active, tx("admin.users.active")),
      h(
        "div",
        { class: "form-buttons" },
        h(
          "button",
          { type: "submit", class: "primary", "data-i18n": "admin.save" },
          t("admin.save"),
        ),
        button("form.cancel", () => closeEdit()),
      ),
    );
    roleSel.value = u.role;
    dept.value = u.department_code || "";
    jur.set(u.jurisdictions.map((j) => ({ kind: j.kind, code: j.code })));
    const pwForm = h(
      "form",
      { id: "user-password-form" },
      h("h4", {}, tx("admin.users.reset_password")),
      h(
        "div",
        { class: "field-row" },
        field(
          "admin.users.new_password",
          input("password", {
            type: "password",
            required: true,
            autocomplete: "new-password",
            labelKey: "admin.users.new_password",
          }),
          { required: true },
        ),
        field(
          "admin.users.repeat_password",
          input("password2", {
            type: "password",
            required: true,
            autocomplete: "new-password",
            labelKey: "admin.users.repeat_password",
          }),
          { required: true },
        ),
      ),
      h("p", { class: "muted hint" }, tx("admin.users.reset_hint")),
      buttons("admin.users.reset_password"),
    );
    const locked = u.locked_until && new Date(u.locked_until) > new Date();
    editBox.hidden = false;
    editBox.replaceChildren(
      form,
      pwForm,
      locked
        ? h(
            "p",
            { class: "locked-note" },
            tx("admin.users.locked_until", { time: formatDateTime(u.locked_until) }),
            " ",
            button("admin.users.unlock", () => unlock(u), { id: "user-unlock" }),
          )
        : null,
    );
    bindForm(form, {
      draft: `user-${u.username}`,
      resetOnSuccess: false,
      validate: (v) => {
        const out = userChecks(v, { creating: false });
        if (!Object.keys(out).length && !Object.keys(changes(v)).length) {
          out.name = t("admin.nothing_changed");
        }
        return out;
      },
      submit: (v) => patchJSON(`/api/users/${encodeURIComponent(u.username)}`, changes(v)),
      onSuccess: async (saved) => {
        toast(t("admin.users.saved", { username: saved.username }), { kind: "success" });
        const i = state.users.findIndex((x) => x.username === saved.username);
        if (i >= 0) state.users[i] = saved;
        openEdit(saved);
      },
    });
    function changes(v) {
      const body = {};
      if (v.name.trim() !== u.name) body.name = v.name.trim();
      if (v.role !== u.role) body.role = v.role;
      if (v.active !== u.active) body.active = v.active;
      if ((v.department_code || null) !== (u.department_code || null)) {
        body.department_code = v.department_code || null;
      }
      if (v.phone.trim()) body.phone = v.phone.trim();
      const before = JSON.stringify(u.jurisdictions.map((j) => [j.kind, j.code]));
      const after = JSON.stringify((v.jurisdictions || []).map((j) => [j.kind, j.code]));
      if (before !== after) body.jurisdictions = v.jurisdictions || [];
      return body;
    }
    bindForm(pwForm, {
      draft: null,
      validate: (v) => {
        if (v.password && v.password.length < PASSWORD_MIN)
          return { password: t("admin.users.password_short", { n: PASSWORD_MIN }) };
        if (v.password !== v.password2) return { password2: t("admin.users.password_mismatch") };
        return {};
      },
      submit: (v) =>
        patchJSON(`/api/users/${encodeURIComponent(u.username)}`, { password: v.password }),
      onSuccess: () =>
        toast(t("admin.users.password_reset", { username: u.username }), { kind: "success" }),
    });
  }

  function closeEdit() {
    state.selected = null;
    editBox.hidden = true;
    editBox.replaceChildren();
    draw();
  }

  async function unlock(u) {
    try {
      const saved = await patchJSON(`/api/users/${encodeURIComponent(u.username)}`, {
        unlock: true,
      });
      toast(t("admin.users.unlocked", { username: u.username }), { kind: "success" });
      openEdit(saved);
    } catch (err) {
      showError(err);
    }
  }

  return {
    ready: Promise.all([loadRefs(), load()]),
    relabel: () => {
      draw();
      if (state.selected) openEdit(state.selected);
    },
  };
}
