// near.js — the nearest known address of the resident's place (pages/report.js): for a GPS fix
// or a pin on the map, GET /api/gazetteer/reverse names the nearest door plate or building of
// the gazetteer (and the grid) and fills them into the place; a note says how far it is.
// The address is a help, never a reason to stop the report: a failed lookup (a 429 from the
// public rate limit, no network) just leaves it out.

import { getJSON, query } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { readJSON } from "../../lib/form.js";
import { t } from "../../lib/i18n.js";

/** How far from the point a known address may be to be named (metres). */
export const NEAR_RADIUS_M = 100;

/** What is at the point (grid, nearest address), or null when the lookup failed. */
export async function nearest(lon, lat) {
  try {
    return await getJSON(`/api/gazetteer/reverse${query({ lon, lat, radius_m: NEAR_RADIUS_M, limit: 1 })}`, {
      auth: "none",
    });
  } catch (err) {
    console.warn("gridgov: no address for the point:", err);
    return null;
  }
}

/** The place value for `where` (a reverse lookup's answer) at lon/lat, over `base`. */
export function placeWith(base, where) {
  const near = where && where.results.length ? where.results[0] : null;
  return {
    ...base,
    address: near ? near.address : base.address || "",
    near_m: near ? near.distance_m : null,
    grid_code: base.grid_code || (where && where.grid ? where.grid.code : null),
    grid_name: base.grid_name || (where && where.grid ? where.grid.name : null),
    community: base.community || (where && where.community ? where.community.name : null),
  };
}

/**
 * Watch the place picker `picker` (lib/pickers.js placePicker): a point without an address gets
 * the nearest one through `setPlace(value)`. Returns {note, draw(), lookedUp(lon, lat)}: the
 * note element to show under the picker, its redraw (after a language switch), and a way to
 * say a point was already looked up (the GPS button does it itself, in one request).
 */
export function nearAddress(picker, setPlace) {
  const input = picker.querySelector("input[name=place]");
  const note = h("p", { class: "muted r-near", hidden: true, "aria-live": "polite" });
  let last = null; // the point looked up last ("lon,lat")

  function draw() {
    const p = readJSON(input);
    const shown = Boolean(p && p.address && p.near_m != null);
    note.hidden = !shown;
    note.dataset.address = shown ? p.address : "";
    note.textContent = shown ? t("resident.near_address", { m: Math.round(p.near_m) }) : "";
  }

  async function fill() {
    draw();
    const p = readJSON(input);
    if (!p || p.address || last === `${p.lon},${p.lat}`) return;
    last = `${p.lon},${p.lat}`;
    const where = await nearest(p.lon, p.lat);
    const now = readJSON(input);
    if (!where || !now || now.lon !== p.lon || now.lat !== p.lat || now.address) return;
    if (!where.results.length && now.grid_code) return;
    setPlace(placeWith(now, where));
    draw();
  }

  input.addEventListener("change", () => fill());
  input.addEventListener("gridgov:set", draw);
  return {
    note,
    draw,
    lookedUp(lon, lat) {
      last = `${lon},${lat}`;
    },
  };
}
