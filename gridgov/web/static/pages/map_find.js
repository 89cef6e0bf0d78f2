import { ApiError, isAbort } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { has, t } from "../lib/i18n.js";
import { showError } from "../lib/notice.js";
import { setStatus } from "./map.js";
import { fitBBox, hidePanel, placePin, select, showPanel } from "./map_panel.js";
import { S, load, viewBBox } from "./map_state.js";
import { GRID_CODE_MIN_LENGTH, GRID_MIN_ZOOM, MAX_LABELS } from "./map_style.js";

// ---------------------------------------------------------------------------------------------
// Name labels (HTML markers; see the note at the top)

/** Area-weighted centroid of the largest polygon's outer ring: good enough for a label. */
export function labelPoint(geometry) {
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
export function labelLevel(zoom) {
  if (zoom < 12.5) return "street";
  if (zoom < 16.5) return "community";
  return "grid";
}

export function updateLabels() {
  if (!S.map) return;
  const wanted = new Map();
  if (S.visible.label) {
    const level = labelLevel(S.map.getZoom());
    const layerShown = S.visible[level] && (level !== "grid" || S.map.getZoom() >= GRID_MIN_ZOOM);
    const view = viewBBox(0);
    for (const f of layerShown ? S.data[level].features : []) {
      const key = `${level}:${f.properties.code}`;
      if (!S.labelPoints.has(key)) S.labelPoints.set(key, labelPoint(f.geometry));
      const p = S.labelPoints.get(key);
      if (!p || p[0] < view[0] || p[0] > view[2] || p[1] < view[1] || p[1] > view[3]) continue;
      const text = level === "grid" ? f.properties.name || f.properties.code : f.properties.name;
      wanted.set(key, { p, text, level });
      if (wanted.size >= MAX_LABELS) break;
    }
  }
  for (const [key, marker] of S.labelMarkers) {
    if (!wanted.has(key)) {
      marker.remove();
      S.labelMarkers.delete(key);
    }
  }
  for (const [key, { p, text, level }] of wanted) {
    if (S.labelMarkers.has(key)) continue;
    const el = h("div", { class: `map-label map-label--${level}` }, text);
    S.labelMarkers.set(key, new window.maplibregl.Marker({ element: el }).setLngLat(p).addTo(S.map));
  }
}

// ---------------------------------------------------------------------------------------------
// Identify: point → grid → panel


/** Find the grid at a point and show it; `address` is shown too when we came from a search. */
export async function identify(lon, lat, address = null) {
  S.identifyController?.abort();
  const controller = new AbortController();
  S.identifyController = controller;
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

export async function showGridByCode(code) {
  const grid = await load(`/api/grids/${encodeURIComponent(code)}`);
  select({ kind: "grid", code: grid.code });
  S.pin?.remove();
  showPanel({ kind: "grid", grid, point: null, address: null });
  fitBBox(grid.bbox, 17);
}

export async function showRegionByCode(code) {
  const region = await load(`/api/regions/${encodeURIComponent(code)}`);
  select({ kind: "region", code: region.code, level: region.level });
  S.pin?.remove();
  showPanel({ kind: "region", region });
  fitBBox(region.bbox, 16);
}
// ---------------------------------------------------------------------------------------------
// Search: digits are a grid or region code, anything else an address

export async function search(query) {
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
    S.searchResults = { query: q, results: answer.results || [] };
    renderResults();
  } catch (err) {
    showError(err);
  }
}

export function renderResults() {
  const list = document.getElementById("search-results");
  if (!S.searchResults) {
    list.hidden = true;
    return;
  }
  const { query, results } = S.searchResults;
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

export function hideResults() {
  S.searchResults = null;
  document.getElementById("search-results").hidden = true;
}

export function chooseResult(result) {
  hideResults();
  S.map.flyTo({ center: [result.lon, result.lat], zoom: Math.max(S.map.getZoom(), 17), duration: 700 });
  identify(result.lon, result.lat, result.address);
}
