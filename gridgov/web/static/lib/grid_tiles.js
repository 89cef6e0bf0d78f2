// grid_tiles.js — the unit grid layer by view, for maps of a whole city.
//
// A city has tens of thousands of unit grids: a map never loads them all. It asks
// GET /api/grids.geojson for the tiles covering its view (a fixed tile grid per level, so
// panning reuses what was loaded and the server's ETag answers 304s), and at low zoom it gets
// one outline per community or street with its grid count (`grids`) instead of the grids
// (gridgov/regions/grid_layer.py; the thresholds below mirror it). Requests are debounced after
// moveend, the ones no longer wanted are aborted, answers are cached per tile.
//
//   const grids = gridLoader({ onData: (fc, level) => source.setData(fc) });
//   map.on("moveend", () => grids.schedule(map));
//   await grids.refresh(map);        // the first view
//   grids.busy();                    // true while waiting or loading (tests' settled())

import { getJSON, isAbort } from "./api.js";

export const COMMUNITY_ZOOM = 11;
export const GRID_ZOOM = 13;
/** Tile zoom per level (XYZ; a z13 tile is ≈ 3.7 km wide at Beijing's latitude). */
const TILE_ZOOM = { grid: 13, community: 10, street: 8 };
const CACHE_TILES = 160;
const DEBOUNCE_MS = 150;
/** The view is grown by this share on each side, so a small pan needs no request. */
const PADDING = 0.15;
const EMPTY = { type: "FeatureCollection", features: [] };

/** The level the server answers at a zoom. */
export function gridLevel(zoom) {
  if (zoom >= GRID_ZOOM) return "grid";
  if (zoom >= COMMUNITY_ZOOM) return "community";
  return "street";
}

function tileLon(x, z) {
  return (x / 2 ** z) * 360 - 180;
}

function tileLat(y, z) {
  const n = Math.PI - (2 * Math.PI * y) / 2 ** z;
  return (180 / Math.PI) * Math.atan(Math.sinh(n));
}

function tileX(lon, z) {
  return Math.floor(((lon + 180) / 360) * 2 ** z);
}

function tileY(lat, z) {
  const r = (Math.max(-85, Math.min(85, lat)) * Math.PI) / 180;
  return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z);
}

/** The XYZ tiles of zoom `z` covering [minx, miny, maxx, maxy]. */
export function tilesFor(box, z) {
  const max = 2 ** z - 1;
  const clamp = (v) => Math.max(0, Math.min(max, v));
  const [x0, x1] = [clamp(tileX(box[0], z)), clamp(tileX(box[2], z))];
  const [y0, y1] = [clamp(tileY(box[3], z)), clamp(tileY(box[1], z))];
  const out = [];
  for (let x = x0; x <= x1; x += 1) {
    for (let y = y0; y <= y1; y += 1) {
      out.push({
        key: `${z}/${x}/${y}`,
        bbox: [tileLon(x, z), tileLat(y + 1, z), tileLon(x + 1, z), tileLat(y, z)],
      });
    }
  }
  return out;
}

/** The map's view as [minx, miny, maxx, maxy], grown by `pad` of its size on each side. */
export function viewBox(map, pad = 0) {
  const b = map.getBounds();
  const dx = (b.getEast() - b.getWest()) * pad;
  const dy = (b.getNorth() - b.getSouth()) * pad;
  return [
    Math.max(-180, b.getWest() - dx),
    Math.max(-85, b.getSouth() - dy),
    Math.min(180, b.getEast() + dx),
    Math.min(85, b.getNorth() + dy),
  ];
}

/**
 * A loader of the grid layer. Options: onData(collection, level) with the features of every
 * tile in view (one per code), onError(err), region (a code: only its grids), minLevel (e.g.
 * "community": never coarser), stats (counts loads and their timing, for the tests).
 */
export function gridLoader({ onData, onError = () => {}, region = null, minLevel = null, stats = null }) {
  const cache = new Map(); // tile key → FeatureCollection (insertion order = LRU)
  const flying = new Map(); // tile key → {controller, promise}
  let timer = null;
  let generation = 0;
  let running = 0;
  let current = { level: null, collection: EMPTY };

  function remember(key, fc) {
    cache.delete(key);
    cache.set(key, fc);
    while (cache.size > CACHE_TILES) cache.delete(cache.keys().next().value);
  }

  function fetchTile(tile, level) {
    const key = `${level}:${tile.key}`;
    if (cache.has(key)) {
      const fc = cache.get(key);
      remember(key, fc);
      return Promise.resolve(fc);
    }
    if (flying.has(key)) return flying.get(key).promise;
    const controller = new AbortController();
    const params = new URLSearchParams({
      bbox: tile.bbox.map((n) => n.toFixed(6)).join(","),
      level,
    });
    if (region) params.set("region", region);
    const promise = getJSON(`/api/grids.geojson?${params}`, { signal: controller.signal })
      .then((fc) => {
        remember(key, fc);
        return fc;
      })
      .finally(() => flying.delete(key));
    flying.set(key, { controller, promise });
    return promise;
  }

  /** Load what the view needs (from the cache when it can) and hand it to onData. */
  async function refresh(map) {
    clearTimeout(timer);
    timer = null;
    const mine = ++generation;
    let level = gridLevel(map.getZoom());
    if (minLevel === "community" && level === "street") level = "community";
    const tiles = tilesFor(viewBox(map, PADDING), TILE_ZOOM[level]);
    const wanted = new Set(tiles.map((tile) => `${level}:${tile.key}`));
    for (const [key, job] of flying) if (!wanted.has(key)) job.controller.abort();
    const started = performance.now();
    running += 1;
    try {
      const answers = await Promise.all(tiles.map((tile) => fetchTile(tile, level)));
      if (mine !== generation) return null;
      const seen = new Set();
      const features = [];
      for (const fc of answers) {
        for (const f of fc.features) {
          if (seen.has(f.properties.code)) continue;
          seen.add(f.properties.code);
          features.push(f);
        }
      }
      current = { level, collection: { type: "FeatureCollection", level, features } };
      if (stats) {
        stats.gridLoads = (stats.gridLoads || 0) + 1;
        stats.gridLevel = level;
        if (level === "grid") stats.gridFeatures = features.length;
        stats.lastGridMs = Math.round(performance.now() - started);
      }
      onData(current.collection, level);
      return current;
    } catch (err) {
      if (!isAbort(err) && mine === generation) onError(err);
      return null;
    } finally {
      running -= 1;
    }
  }

  return {
    refresh,
    /** refresh() after the map has been still for a moment (wheel zooms send many moveends). */
    schedule(map) {
      clearTimeout(timer);
      timer = setTimeout(() => refresh(map), DEBOUNCE_MS);
    },
    busy: () => timer !== null || running > 0,
    current: () => current,
    cacheSize: () => cache.size,
    destroy() {
      clearTimeout(timer);
      for (const job of flying.values()) job.controller.abort();
    },
  };
}
