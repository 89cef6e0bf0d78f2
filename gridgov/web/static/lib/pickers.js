// pickers.js — form controls that choose something from the API: a subclass (小类), a place
// (address search or a pin on the map), photos (uploaded at once, ids kept).
//
// Each returns an element to put inside field(...) (lib/form.js). The value lives in a hidden
// JSON input named `name`, so bindForm reads it, keeps it in the draft and restores it; the
// control redraws itself on the "gridgov:set" event.
//
//   subclassPicker("subclass", {required: true, onChange: (sub) => …})
//       value {kind, code, name, urgency_levels, register_condition}
//   placePicker("place", {required: true})
//       value {lon, lat, address, grid_code, grid_name, community}
//   photoPicker("photos", {required: true})
//       value ["<media id>", …]   (uploaded through POST /api/media)

import { getJSON, isAbort, query, upload } from "./api.js";
import { fillIn, h } from "./dom.js";
import { debounce, hidden, readJSON, writeJSON } from "./form.js";
import { label, t } from "./i18n.js";
import { districtExtent, pointMap } from "./maps.js";
import { showError } from "./notice.js";

const hiddenJSON = (name, options) => hidden(name, { ...options, json: true });

// ---------------------------------------------------------------------------------------------
// Subclass (小类): search by Chinese name, code or pinyin initials (GET /api/taxonomy/subclasses)

export function subclassPicker(name, { required = false, onChange = null, labelKey } = {}) {
  const value = hiddenJSON(name, { required, labelKey });
  const search = h("input", {
    type: "search",
    class: "picker-search",
    autocomplete: "off",
    "data-i18n-placeholder": "picker.subclass_placeholder",
    placeholder: t("picker.subclass_placeholder"),
    "data-no-draft": "",
  });
  const results = h("ul", { class: "picker-results", hidden: true });
  const chosen = h("div", { class: "picker-chosen", hidden: true });
  const root = h("div", { class: "picker subclass-picker" }, search, value, chosen, results);
  let controller = null;

  const choose = (sub) => {
    writeJSON(
      value,
      sub && {
        kind: sub.kind,
        code: sub.code,
        name: sub.name,
        urgency_levels: sub.urgency_levels,
        register_condition: sub.register_condition,
      },
    );
    value.dispatchEvent(new Event("change", { bubbles: true }));
    draw();
    if (onChange) onChange(readJSON(value));
  };

  const draw = () => {
    const sub = readJSON(value);
    results.hidden = true;
    chosen.hidden = !sub;
    search.hidden = Boolean(sub);
    if (!sub) {
      chosen.replaceChildren();
      return;
    }
    fillIn(
      chosen,
      h("span", { class: "picker-name" }, sub.name),
      h("span", { class: "code" }, sub.code),
      h("span", { class: "badge" }, label("subclass_kind", sub.kind)),
      h(
        "button",
        {
          type: "button",
          class: "link-button",
          "data-i18n": "picker.change",
          onclick: () => {
            choose(null);
            search.focus();
          },
        },
        t("picker.change"),
      ),
      sub.register_condition
        ? h(
            "p",
            { class: "picker-hint" },
            h("span", { "data-i18n": "picker.register_condition" }, t("picker.register_condition")),
            " ",
            sub.register_condition,
          )
        : null,
    );
  };

  const lookup = debounce(async () => {
    const q = search.value.trim();
    controller?.abort();
    if (!q) {
      results.hidden = true;
      return;
    }
    controller = new AbortController();
    try {
      const list = await getJSON(`/api/taxonomy/subclasses${query({ q })}`, {
        signal: controller.signal,
      });
      results.replaceChildren(
        ...list.slice(0, 12).map((sub) =>
          h(
            "li",
            {},
            h(
              "button",
              {
                type: "button",
                class: "picker-option",
                dataset: { code: sub.code, kind: sub.kind },
                onclick: () => choose(sub),
              },
              h("span", {}, sub.name),
              h("span", { class: "code" }, `${label("subclass_kind", sub.kind)} ${sub.code}`),
            ),
          ),
        ),
      );
      if (!list.length) results.append(h("li", { class: "muted" }, t("form.no_results")));
      results.hidden = false;
    } catch (err) {
      if (!isAbort(err)) showError(err);
    }
  }, 200);

  search.addEventListener("input", lookup);
  search.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      results.querySelector("button")?.click();
    }
  });
  value.addEventListener("gridgov:set", () => {
    draw();
    if (onChange) onChange(readJSON(value));
  });
  return root;
}

// ---------------------------------------------------------------------------------------------
// Place: address search (GET /api/address/search) or a pin on a small map; the point is
// geocoded to its grid (GET /api/geocode) so the user sees where it will be filed.

export function placePicker(name, { required = false, labelKey } = {}) {
  const value = hiddenJSON(name, { required, labelKey });
  const search = h("input", {
    type: "search",
    class: "picker-search",
    autocomplete: "off",
    "data-i18n-placeholder": "picker.address_placeholder",
    placeholder: t("picker.address_placeholder"),
    "data-no-draft": "",
  });
  const results = h("ul", { class: "picker-results", hidden: true });
  const chosen = h("div", { class: "picker-chosen", hidden: true });
  const mapBox = h("div", { class: "picker-map", hidden: true });
  const mapButton = h(
    "button",
    { type: "button", class: "secondary", "data-i18n": "picker.pin_on_map" },
    t("picker.pin_on_map"),
  );
  const root = h(
    "div",
    { class: "picker place-picker" },
    h("div", { class: "picker-row" }, search, mapButton),
    value,
    chosen,
    results,
    mapBox,
  );
  let controller = null;
  let small = null;

  const set = async (place) => {
    writeJSON(value, place);
    value.dispatchEvent(new Event("change", { bubbles: true }));
    draw();
    if (!place || place.grid_code) return;
    try {
      const where = await getJSON(`/api/geocode${query({ lon: place.lon, lat: place.lat })}`);
      const current = readJSON(value);
      if (current && current.lon === place.lon && current.lat === place.lat) {
        writeJSON(value, {
          ...current,
          grid_code: where.grid.code,
          grid_name: where.grid.name,
          community: where.community ? where.community.name : null,
        });
        value.dispatchEvent(new Event("change", { bubbles: true }));
        draw();
      }
    } catch (err) {
      showError(err);
    }
  };

  const draw = () => {
    const place = readJSON(value);
    results.hidden = true;
    chosen.hidden = !place;
    if (!place) {
      chosen.replaceChildren();
      return;
    }
    fillIn(
      chosen,
      place.address ? h("span", { class: "picker-name" }, place.address) : null,
      h(
        "span",
        { class: "code" },
        `${Number(place.lon).toFixed(6)}, ${Number(place.lat).toFixed(6)}`,
      ),
      place.grid_code
        ? h(
            "span",
            { class: "picker-grid" },
            h("span", { "data-i18n": "picker.grid" }, t("picker.grid")),
            " ",
            h("span", { class: "code" }, place.grid_code),
            place.community ? ` ${place.community}` : "",
          )
        : null,
      h(
        "button",
        {
          type: "button",
          class: "link-button",
          "data-i18n": "picker.clear",
          onclick: () => {
            set(null);
            small?.setPoint(null, { fly: false });
          },
        },
        t("picker.clear"),
      ),
    );
  };

  const lookup = debounce(async () => {
    const q = search.value.trim();
    controller?.abort();
    if (!q) {
      results.hidden = true;
      return;
    }
    controller = new AbortController();
    try {
      const answer = await getJSON(`/api/address/search${query({ q, limit: 8 })}`, {
        signal: controller.signal,
      });
      const list = answer.results || [];
      results.replaceChildren(
        ...list.map((r) =>
          h(
            "li",
            {},
            h(
              "button",
              {
                type: "button",
                class: "picker-option",
                dataset: { id: String(r.id) },
                onclick: () => {
                  search.value = "";
                  set({ lon: r.lon, lat: r.lat, address: r.address });
                  small?.setPoint([r.lon, r.lat]);
                },
              },
              h("span", {}, r.address),
            ),
          ),
        ),
      );
      if (!list.length) results.append(h("li", { class: "muted" }, t("form.no_results")));
      results.hidden = false;
    } catch (err) {
      if (!isAbort(err)) showError(err);
    }
  }, 250);

  mapButton.addEventListener("click", async () => {
    mapBox.hidden = !mapBox.hidden;
    if (mapBox.hidden || small) {
      small?.resize();
      return;
    }
    const place = readJSON(value);
    try {
      small = await pointMap(mapBox, {
        point: place ? [place.lon, place.lat] : null,
        bounds: place ? null : await districtExtent(),
        onPick: ([lon, lat]) => set({ lon, lat, address: "" }),
      });
    } catch (err) {
      showError(err);
    }
  });
  search.addEventListener("input", lookup);
  search.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      results.querySelector("button")?.click();
    }
  });
  value.addEventListener("gridgov:set", () => {
    draw();
    const place = readJSON(value);
    small?.setPoint(place ? [place.lon, place.lat] : null, { fly: Boolean(place) });
  });
  return root;
}

// ---------------------------------------------------------------------------------------------
// Photos: each chosen file is uploaded at once (POST /api/media, checked by content on the
// server); the value is the list of ids, shown as thumbnails that can be removed.

export function photoPicker(name, { required = false, labelKey } = {}) {
  const value = hiddenJSON(name, { required, labelKey });
  const file = h("input", {
    type: "file",
    accept: "image/jpeg,image/png,image/webp",
    multiple: true,
    capture: "environment",
    class: "photo-input",
  });
  const list = h("ul", { class: "photo-list" });
  const status = h("p", { class: "muted photo-status", hidden: true });
  const root = h("div", { class: "picker photo-picker" }, file, value, list, status);

  const ids = () => readJSON(value) || [];
  const draw = () => {
    list.replaceChildren(
      ...ids().map((id) =>
        h(
          "li",
          { dataset: { media: id } },
          h("img", { src: `/api/media/${encodeURIComponent(id)}/thumb`, alt: "", loading: "lazy" }),
          h(
            "button",
            {
              type: "button",
              class: "close",
              "data-i18n-aria-label": "picker.remove_photo",
              "aria-label": t("picker.remove_photo"),
              onclick: () => {
                writeJSON(
                  value,
                  ids().filter((x) => x !== id),
                );
                value.dispatchEvent(new Event("change", { bubbles: true }));
                draw();
              },
            },
            "×",
          ),
        ),
      ),
    );
  };

  file.addEventListener("change", async () => {
    const files = Array.from(file.files || []);
    if (!files.length) return;
    status.hidden = false;
    status.textContent = t("picker.uploading", { n: files.length });
    for (const f of files) {
      try {
        const media = await upload("/api/media", f);
        if (!ids().includes(media.id)) writeJSON(value, [...ids(), media.id]);
        value.dispatchEvent(new Event("change", { bubbles: true }));
        draw();
      } catch (err) {
        showError(err);
      }
    }
    file.value = "";
    status.hidden = true;
  });
  value.addEventListener("gridgov:set", draw);
  return root;
}
