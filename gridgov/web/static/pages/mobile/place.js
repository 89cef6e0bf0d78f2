// place.js — where the report is: the GPS position (or a pin on a small map of our own layers),
// the nearest known address and the grid (GET /api/gazetteer/reverse: door plates and
// buildings of the gazetteer and the grid, in one request) and the components near it
// (GET /api/components/nearby) to link. Part of the 上报 tab (pages/mobile/report.js).
//
// Without network the form still works: the place keeps its coordinates (the server finds the
// grid when the queued report arrives) and the map waits for the network to come back.

import { getJSON, query } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { debounce, hidden, readJSON, writeJSON } from "../../lib/form.js";
import { t } from "../../lib/i18n.js";
import { districtExtent, pointMap } from "../../lib/maps.js";
import { errorHeadline, showError } from "../../lib/notice.js";
import { formatDistance, temporary } from "./util.js";

const NEARBY_RADIUS_M = 50;
/** How far from the point a known address may be to be named (metres). */
export const ADDRESS_RADIUS_M = 100;

/**
 * The place controls of the report form. `onComponent(c)` is called when a component is chosen
 * (null: unchosen). Returns {placeBox, componentBox, drawPlace, drawComponents, shown()}.
 */
export function placeControls(geo, { onComponent }) {
  const placeValue = hidden("place", { json: true, required: true, labelKey: "mobile.report.place" });
  const placeStatus = h("p", { class: "m-place-status", "aria-live": "polite" });
  const placeAddress = h("p", { class: "m-place-address", hidden: true });
  const placeGrid = h("p", { class: "m-place-grid" });
  const mapBox = h("div", { class: "m-map m-report-map" });
  const mapNote = h("p", { class: "muted m-map-offline", hidden: true, "data-i18n": "mobile.map_offline" }, t("mobile.map_offline"));
  const followButton = h(
    "button",
    { type: "button", class: "link-button m-follow", "data-i18n": "mobile.report.use_gps" },
    t("mobile.report.use_gps"),
  );
  const placeBox = h(
    "div",
    { class: "m-place" },
    placeValue,
    h("div", { class: "m-place-head" }, placeStatus, followButton),
    placeAddress,
    placeGrid,
    mapNote,
    mapBox,
    h("p", { class: "field-hint", "data-i18n": "mobile.report.pin_hint" }, t("mobile.report.pin_hint")),
  );
  const componentValue = hidden("component", { json: true });
  const componentList = h("ul", { class: "m-components" });
  const componentBox = h("div", { class: "m-component-box" }, componentValue, componentList);

  let follow = true;
  let small = null;
  let mapPromise = null;
  let lookup = null;

  function place() {
    return readJSON(placeValue);
  }

  function setPlace(p, { fly = true } = {}) {
    writeJSON(placeValue, p);
    placeValue.dispatchEvent(new Event("change", { bubbles: true }));
    drawPlace();
    if (small) small.setPoint(p ? [p.lon, p.lat] : null, { fly: fly && Boolean(p) });
    if (p && !p.grid_code) lookupPlace();
  }

  function drawPlace() {
    const p = place();
    const g = geo.state;
    (placeBox.closest("form") || placeBox).dataset.follow = String(follow);
    if (!p) {
      placeStatus.textContent =
        g.error === "denied"
          ? t("mobile.gps.denied")
          : g.error
            ? t("mobile.gps.unavailable")
            : t("mobile.gps.locating");
      placeGrid.textContent = "";
      placeAddress.hidden = true;
      followButton.hidden = true;
      return;
    }
    placeStatus.textContent =
      p.source === "gps"
        ? t("mobile.gps.fix", { accuracy: p.accuracy != null ? p.accuracy : "?" })
        : t("mobile.gps.pinned");
    placeStatus.append(" ", h("span", { class: "code" }, `${p.lon.toFixed(6)}, ${p.lat.toFixed(6)}`));
    followButton.hidden = p.source === "gps" || !g.fix;
    placeAddress.dataset.address = p.address || "";
    placeAddress.hidden = !p.address;
    placeAddress.replaceChildren(
      ...(p.address
        ? [
            h("span", { class: "muted" }, t("mobile.report.near_address")),
            " ",
            h("strong", { class: "m-address" }, p.address),
            " ",
            h("span", { class: "muted" }, formatDistance(p.address_m)),
          ]
        : []),
    );
    placeGrid.replaceChildren();
    placeGrid.dataset.grid = p.grid_code || "";
    if (p.grid_code) {
      placeGrid.append(
        h("span", { "data-i18n": "picker.grid" }, t("picker.grid")),
        " ",
        h("span", { class: "code m-grid-code" }, p.grid_code),
        " ",
        [p.community, p.street].filter(Boolean).join(" · "),
      );
    } else if (p.grid_error) {
      placeGrid.append(h("span", { class: "m-warn" }, p.grid_error));
    } else {
      placeGrid.append(h("span", { class: "muted" }, t("mobile.report.grid_pending")));
    }
  }

  const lookupPlace = debounce(async () => {
    const p = place();
    if (!p) return;
    lookup?.abort();
    lookup = new AbortController();
    const signal = lookup.signal;
    const same = (q) => q && q.lon === p.lon && q.lat === p.lat;
    try {
      const where = await getJSON(
        `/api/gazetteer/reverse${query({ lon: p.lon, lat: p.lat, radius_m: ADDRESS_RADIUS_M, limit: 1 })}`,
        { signal },
      );
      if (!same(place())) return;
      const near = (where.results || [])[0];
      writeJSON(placeValue, {
        ...place(),
        grid_code: where.grid ? where.grid.code : null,
        community: where.community ? where.community.name : null,
        street: where.street ? where.street.name : null,
        address: near ? near.address : null,
        address_m: near ? near.distance_m : null,
        grid_error: where.grid ? null : t("mobile.report.outside"),
      });
      drawPlace();
    } catch (err) {
      if (err && err.name === "AbortError") return;
      if (!same(place())) return;
      const text = temporary(err) ? t("mobile.report.grid_offline") : `${errorHeadline(err)}: ${err.message}`;
      writeJSON(placeValue, { ...place(), grid_code: null, address: null, grid_error: text });
      drawPlace();
    }
    loadComponents(p, signal);
  }, 300);

  async function loadComponents(p, signal) {
    let found = [];
    try {
      found = await getJSON(
        `/api/components/nearby${query({ lon: p.lon, lat: p.lat, radius: NEARBY_RADIUS_M, limit: 8 })}`,
        { signal },
      );
    } catch (err) {
      if (err && err.name === "AbortError") return;
      if (!temporary(err)) showError(err);
      componentList.replaceChildren(h("li", { class: "muted" }, t("mobile.report.components_offline")));
      return;
    }
    drawComponents(found);
  }

  function drawComponents(found) {
    const chosen = readJSON(componentValue);
    const rows = found.map(({ component: c, distance_m: d }) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: `m-component${chosen && chosen.id === c.id ? " chosen" : ""}`,
            dataset: { component: c.id },
            "aria-pressed": String(Boolean(chosen && chosen.id === c.id)),
            onclick: () => chooseComponent(chosen && chosen.id === c.id ? null : c, found),
          },
          h("span", { class: "m-component-name" }, c.name),
          h("span", { class: "code" }, c.id),
          h("span", { class: "muted" }, `${c.state_label} · ${formatDistance(d)}`),
        ),
      ),
    );
    componentList.replaceChildren(
      ...(rows.length ? rows : [h("li", { class: "muted" }, t("mobile.report.no_components", { r: NEARBY_RADIUS_M }))]),
    );
  }

  function chooseComponent(c, found) {
    writeJSON(componentValue, c ? { id: c.id, name: c.name, subclass_code: c.subclass_code } : null);
    componentValue.dispatchEvent(new Event("change", { bubbles: true }));
    drawComponents(found);
    onComponent(c);
  }

  async function ensureMap() {
    if (small || mapPromise) return mapPromise;
    if (navigator.onLine === false) {
      // No network: the form works without the map; it is drawn once the network is back.
      mapNote.hidden = false;
      window.addEventListener("online", () => ensureMap(), { once: true });
      return null;
    }
    mapNote.hidden = true;
    const p = place();
    mapPromise = (p ? Promise.resolve(null) : districtExtent())
      .then((bounds) =>
        pointMap(mapBox, {
          point: p ? [p.lon, p.lat] : null,
          bounds,
          zoom: 17,
          onPick: ([lon, lat]) => {
            follow = false;
            setPlace({ lon, lat, accuracy: null, source: "pin" }, { fly: false });
          },
        }),
      )
      .then((m) => {
        small = m;
        window.gridgov.reportMap = m.map; // for the browser tests
        const now = place();
        if (now) small.setPoint([now.lon, now.lat]);
        return m;
      })
      .catch((err) => {
        mapPromise = null;
        if (temporary(err) || navigator.onLine === false) {
          mapNote.hidden = false;
          window.addEventListener("online", () => ensureMap(), { once: true });
        } else {
          showError(err);
        }
      });
    return mapPromise;
  }

  geo.on((g) => {
    if (follow && g.fix) {
      const p = place();
      if (!p || p.lon !== g.fix.lon || p.lat !== g.fix.lat || p.accuracy !== g.fix.accuracy) {
        setPlace({ lon: g.fix.lon, lat: g.fix.lat, accuracy: g.fix.accuracy, source: "gps" });
      }
    } else {
      drawPlace();
    }
  });

  followButton.addEventListener("click", () => {
    follow = true;
    const f = geo.state.fix;
    if (f) setPlace({ lon: f.lon, lat: f.lat, accuracy: f.accuracy, source: "gps" });
  });

  placeValue.addEventListener("gridgov:set", () => {
    // A restored draft brings its place back (a pin stays a pin); a reset follows GPS again.
    const p = place();
    follow = !p || p.source === "gps";
    if (!p && geo.state.fix) {
      const f = geo.state.fix;
      setPlace({ lon: f.lon, lat: f.lat, accuracy: f.accuracy, source: "gps" });
      return;
    }
    drawPlace();
    if (small) small.setPoint(p ? [p.lon, p.lat] : null, { fly: Boolean(p) });
    if (p && !p.grid_code) lookupPlace();
  });
  componentValue.addEventListener("gridgov:set", () => {
    componentList.querySelectorAll(".m-component").forEach((b) => {
      const c = readJSON(componentValue);
      const on = Boolean(c && c.id === b.dataset.component);
      b.classList.toggle("chosen", on);
      b.setAttribute("aria-pressed", String(on));
    });
  });

  return {
    placeBox,
    componentBox,
    drawPlace,
    drawComponents,
    async shown() {
      await ensureMap();
      small?.resize();
    },
  };
}
