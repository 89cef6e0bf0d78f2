// admin_grid_editor.js — the vertex editor of the grids tab (pages/admin_grids.js): a grid's
// polygon edited vertex by vertex (drag; click a midpoint to add; right-click to remove) with the
// neighbours that share its vertices moving along ("linked"), or redrawn point by point (double
// click or the first point closes it); every change can be undone. The form that saves it and
// lists a refusal's problems is admin_grid_edit_form.js.
//
//   const editor = gridEditor({state, editBox, selectedBox, modeNote, fit, selectGrid, loadGrids,
//                              drawSelected});
//   editor.startEdit(redraw), the map handlers (onVertexDown, onMidClick, onVertexRemove,
//   addDrawnPoint, finishDrawing), updateButtons(), drawProblems(problems), handles().

import { getJSON, query } from "../lib/api.js";
import { tx } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { showError, toast } from "../lib/notice.js";
import { gridEditForm } from "./admin_grid_edit_form.js";
import { EMPTY, closedPolygon, openRings, sameLonLat } from "./admin_grid_map.js";

export function gridEditor({
  state,
  editBox,
  selectedBox,
  modeNote,
  fit,
  selectGrid,
  loadGrids,
  drawSelected,
}) {
  const { drawProblems, updateButtons, drawEditBox } = gridEditForm({
    state,
    editBox,
    modeNote,
    selectGrid,
    loadGrids,
    drawSelected,
    drawEdit,
    changedShapes,
    undo,
    finishDrawing,
  });

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

  return {
    startEdit,
    addDrawnPoint,
    finishDrawing,
    onVertexDown,
    onMidClick,
    onVertexRemove,
    updateButtons,
    drawProblems,
    handles,
  };
}
