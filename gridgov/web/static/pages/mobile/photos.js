// photos.js — photos of the phone's forms: uploaded at once; a photo whose upload failed keeps
// its blob, which goes with the queued item (pages/mobile/outbox.js).

import { newIdempotencyKey, upload } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { hidden, readJSON, writeJSON } from "../../lib/form.js";
import { t } from "../../lib/i18n.js";
import { showError, toast } from "../../lib/notice.js";
import { temporary } from "./util.js";

/**
 * A photo control for a form: a hidden JSON input `name` holding [{id} | {local}], a camera
 * input, thumbnails. `blobs` maps a local key to {blob, name, type, url} for photos whose
 * upload failed (kept in memory; the queued item stores them in the outbox).
 */
export function photoControl(name, blobs, { labelKey }) {
  const value = hidden(name, { json: true, labelKey });
  const file = h("input", {
    type: "file",
    accept: "image/*",
    capture: "environment",
    multiple: true,
    class: "photo-input m-photo-input",
    dataset: { noDraft: "" },
  });
  const list = h("ul", { class: "photo-list m-photo-list" });
  const status = h("p", { class: "muted photo-status", hidden: true });
  const root = h("div", { class: "picker photo-picker m-photos" }, file, value, list, status);
  const entries = () => (readJSON(value) || []).filter((p) => p.id || blobs.has(p.local));

  const set = (next) => {
    writeJSON(value, next);
    value.dispatchEvent(new Event("change", { bubbles: true }));
    draw();
  };

  const draw = () => {
    list.replaceChildren(
      ...entries().map((p) => {
        const local = p.local ? blobs.get(p.local) : null;
        return h(
          "li",
          { dataset: p.id ? { media: p.id } : { local: p.local }, class: p.id ? "uploaded" : "pending" },
          h("img", {
            src: p.id ? `/api/media/${encodeURIComponent(p.id)}/thumb` : local.url,
            alt: "",
          }),
          p.id
            ? null
            : h("span", { class: "badge m-photo-pending", "data-i18n": "mobile.photo_pending" }, t("mobile.photo_pending")),
          h(
            "button",
            {
              type: "button",
              class: "close",
              "data-i18n-aria-label": "picker.remove_photo",
              "aria-label": t("picker.remove_photo"),
              onclick: () => set(entries().filter((x) => x !== p)),
            },
            "×",
          ),
        );
      }),
    );
  };

  file.addEventListener("change", async () => {
    const files = Array.from(file.files || []);
    file.value = "";
    if (!files.length) return;
    status.hidden = false;
    status.textContent = t("picker.uploading", { n: files.length });
    for (const f of files) {
      try {
        const media = await upload("/api/media", f);
        if (!entries().some((p) => p.id === media.id)) set([...entries(), { id: media.id }]);
      } catch (err) {
        if (temporary(err)) {
          const local = `local-${newIdempotencyKey()}`;
          blobs.set(local, { blob: f, name: f.name || "photo.jpg", type: f.type, url: URL.createObjectURL(f) });
          set([...entries(), { local }]);
          toast(t("mobile.photo_kept"), { kind: "info" });
        } else {
          showError(err);
        }
      }
    }
    status.hidden = true;
  });
  value.addEventListener("gridgov:set", draw);
  return root;
}

/** The photos of a photo control's value as outbox entries ({id} or {blob, name, type}). */
export function outboxPhotos(value, blobs) {
  return (value || [])
    .map((p) => {
      if (p.id) return { id: p.id };
      const local = blobs.get(p.local);
      return local ? { blob: local.blob, name: local.name, type: local.type } : null;
    })
    .filter(Boolean);
}
