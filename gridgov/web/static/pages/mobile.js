// mobile.js — 监督员 phone app (/m; role supervisor, phone layout).
//
// Three tabs (the tab lives in the URL hash: #report, #tasks, #patrol):
//   上报  photo from the camera, GPS position (or a pin on a small map of our own layers), the
//         grid found by GET /api/geocode, nearby components (GET /api/components/nearby) to link,
//         subclass by search (Chinese, code or pinyin initials), urgency, description.
//   任务  my 核实 (verify) and 核查 (check) tasks: the cases whose current verification or check
//         is assigned to me (GET /api/cases/board/list?assigned_to_me=true, one request); a list
//         sorted by straight-line distance from my position and a map with a line from me to
//         each; each opens a compact result form.
//   巡查  start / stop a patrol; while on, the phone's fixes go up in batches every
//         PATROL.everyMs (POST /api/patrol/{id}/positions, idempotent per fix time).
//
// The outbox (待发送): everything the phone sends — reports, task results, position batches, the
// patrol stop — goes through one queue kept in IndexedDB (localStorage when IndexedDB is not
// available), so a bad network never loses work:
//   - a report gets its Idempotency-Key once, when the user presses submit (lib/form.js keeps it
//     with the draft); the queued item keeps it, so every resend names the same report and the
//     server never files it twice;
//   - photos are uploaded as soon as they are chosen; one whose upload failed is queued as a
//     blob and uploaded first when the item is sent; uploaded ids are written back to the item;
//   - a network failure, a 5xx or a 429 leaves the item queued (visible count "待发送 2 条") and
//     it is resent when the browser fires `online`, on a timer (OUTBOX.retryMs) and by the
//     "重新发送" button; a refusal (other 4xx) is shown with the server's message and kept
//     until the user discards it (a freshly submitted form gets the refusal in the form instead);
//   - a task result has no idempotency key on the server: a resend after a lost answer gets a
//     409, and the case's events tell whether our action is the one that got there.

import { getJSON, newIdempotencyKey, postJSON, query, upload } from "../lib/api.js";
import { lightBadge, urgencyBadge, worstLight } from "../lib/badges.js";
import { h } from "../lib/dom.js";
import { bindForm, buttons, debounce, field, hidden, readJSON, textarea, writeJSON } from "../lib/form.js";
import { label, t } from "../lib/i18n.js";
import { districtExtent, pointMap } from "../lib/maps.js";
import { errorHeadline, showError, toast } from "../lib/notice.js";
import { subclassPicker } from "../lib/pickers.js";
import { formatDateTime } from "../lib/time.js";

/** Patrol settings (tests shorten everyMs before pressing start). */
export const PATROL = { everyMs: 30_000, minGapMs: 5_000, maxBatch: 200 };
/** Outbox settings: how often queued items are retried while something waits. */
export const OUTBOX = { retryMs: 20_000 };

const TABS = ["report", "tasks", "patrol"];
const TASK_ACTIONS = {
  verify: { kind: "verify", yes: "verify", no: "verify_false" },
  check: { kind: "check", yes: "check_pass", no: "check_fail" },
};
/** Actions whose payload must carry photos (gridgov/cases/table.py `requires`). */
const NEEDS_PHOTOS = new Set(["verify", "check_pass", "check_fail"]);
/** Actions whose payload must carry a reason. */
const NEEDS_REASON = new Set(["verify_false", "check_fail"]);
const NEARBY_RADIUS_M = 50;
const RECENT_MAX = 10;

// =============================================================================================
// Small helpers

const round7 = (x) => Math.round(Number(x) * 1e7) / 1e7;

/** Great-circle distance in metres (good enough for "how far is my next task"). */
export function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const s =
    Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(s)));
}

function formatDistance(m) {
  if (m == null || !Number.isFinite(m)) return t("value.none");
  if (m < 1000) return t("mobile.distance_m", { n: Math.round(m) });
  return t("mobile.distance_km", { n: (m / 1000).toFixed(m < 10_000 ? 1 : 0) });
}

/** A network failure, a server error or a rate limit: try again later. */
function temporary(err) {
  if (!err) return false;
  if (err.redirecting) return true; // off to the login page; the item waits for the next session
  const status = Number(err.status);
  if (!Number.isFinite(status)) return true; // not an ApiError: the browser itself failed
  return status === 0 || status >= 500 || status === 408 || status === 429;
}

function errorInfo(err) {
  return {
    status: err && err.status != null ? err.status : null,
    code: (err && err.code) || "internal",
    message: err && err.message ? err.message : String(err),
    headline: errorHeadline(err),
  };
}

function readStore(key, fallback) {
  try {
    const raw = window.localStorage.getItem(key);
    return raw ? JSON.parse(raw) : fallback;
  } catch {
    return fallback;
  }
}

function writeStore(key, value) {
  try {
    window.localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Full or disabled storage: only the convenience list is lost.
  }
}

// =============================================================================================
// Outbox storage: IndexedDB, or localStorage (photos as data URLs) where IndexedDB is missing.

const DB_NAME = "gridgov-outbox";
const DB_STORE = "items";
const LS_OUTBOX = "gridgov.outbox";

function idbStore() {
  return new Promise((resolve, reject) => {
    if (!window.indexedDB) {
      reject(new Error("no IndexedDB"));
      return;
    }
    const req = window.indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(DB_STORE)) {
        req.result.createObjectStore(DB_STORE, { keyPath: "key" });
      }
    };
    req.onerror = () => reject(req.error || new Error("IndexedDB open failed"));
    req.onblocked = () => reject(new Error("IndexedDB blocked"));
    req.onsuccess = () => {
      const db = req.result;
      const run = (mode, fn) =>
        new Promise((ok, fail) => {
          const tx = db.transaction(DB_STORE, mode);
          const result = fn(tx.objectStore(DB_STORE));
          tx.oncomplete = () => ok(result && "result" in result ? result.result : undefined);
          tx.onerror = () => fail(tx.error);
          tx.onabort = () => fail(tx.error || new Error("IndexedDB transaction aborted"));
        });
      resolve({
        kind: "indexeddb",
        all: () => run("readonly", (s) => s.getAll()),
        put: (item) => run("readwrite", (s) => s.put(item)),
        remove: (key) => run("readwrite", (s) => s.delete(key)),
      });
    };
  });
}

function blobToDataURL(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

function dataURLToBlob(url) {
  const [head, data] = String(url).split(",", 2);
  const type = (/^data:([^;,]+)/.exec(head) || [])[1] || "application/octet-stream";
  const bytes = atob(data || "");
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 1) out[i] = bytes.charCodeAt(i);
  return new Blob([out], { type });
}

function localStore() {
  const read = () => readStore(LS_OUTBOX, []);
  const write = (items) => window.localStorage.setItem(LS_OUTBOX, JSON.stringify(items));
  return {
    kind: "localstorage",
    async all() {
      return read().map((item) => ({
        ...item,
        photos: (item.photos || []).map((p) => (p.dataURL ? { ...p, blob: dataURLToBlob(p.dataURL), dataURL: undefined } : p)),
      }));
    },
    async put(item) {
      const photos = [];
      for (const p of item.photos || []) {
        photos.push(p.blob ? { name: p.name, type: p.type, dataURL: await blobToDataURL(p.blob) } : p);
      }
      write([...read().filter((x) => x.key !== item.key), { ...item, photos }]);
    },
    async remove(key) {
      write(read().filter((x) => x.key !== key));
    },
  };
}

async function openStore() {
  try {
    return await idbStore();
  } catch (err) {
    console.warn("gridgov: outbox falls back to localStorage:", err);
    return localStore();
  }
}

// =============================================================================================
// The outbox: queued items of one user, sent in order, one flush at a time.

function createOutbox(username, { onChange, onSent }) {
  let store = null;
  let items = [];
  let running = null;
  let again = false;
  let counter = 0;
  const fates = new Map();

  const mine = (list) =>
    list.filter((i) => i.user === username).sort((a, b) => a.seq - b.seq);

  async function reload() {
    items = mine(await store.all());
    onChange(items);
  }

  async function save(item) {
    await store.put(item);
  }

  async function photoIds(item) {
    const ids = [];
    for (let i = 0; i < (item.photos || []).length; i += 1) {
      const p = item.photos[i];
      if (p.id) {
        ids.push(p.id);
        continue;
      }
      if (!p.blob) continue; // a photo lost with its storage: send what is left
      const file = new File([p.blob], p.name || "photo.jpg", { type: p.type || p.blob.type });
      const media = await upload("/api/media", file);
      item.photos[i] = { id: media.id };
      ids.push(media.id);
      await save(item); // the next attempt does not upload it again
    }
    return ids;
  }

  async function deliver(item) {
    if (item.kind === "report") {
      const photos = await photoIds(item);
      return postJSON("/api/cases", { ...item.body, photos }, { idempotencyKey: item.key });
    }
    if (item.kind === "action") {
      const photos = await photoIds(item);
      const payload = { ...item.payload, ...(photos.length ? { photos } : {}) };
      const path = `/api/cases/${encodeURIComponent(item.case_no)}/actions`;
      try {
        return await postJSON(path, {
          action: item.action,
          payload,
          expected_version: item.expected_version,
        });
      } catch (err) {
        if (err && err.status === 409) {
          // Was it us? An earlier attempt may have got through and only the answer was lost.
          const detail = await getJSON(`/api/cases/${encodeURIComponent(item.case_no)}`);
          const ours = (detail.events || []).some(
            (e) => e.seq === item.expected_version + 1 && e.action === item.action,
          );
          if (ours) return detail;
        }
        throw err;
      }
    }
    if (item.kind === "positions") {
      return postJSON(
        `/api/patrol/${encodeURIComponent(item.patrol_id)}/positions${query({ crs: "wgs84" })}`,
        item.positions,
      );
    }
    if (item.kind === "patrol_stop") {
      return postJSON(`/api/patrol/${encodeURIComponent(item.patrol_id)}/stop`, null);
    }
    throw new Error(`unknown outbox item kind ${item.kind}`);
  }

  async function sendAll() {
    const queued = mine(await store.all()).filter((i) => i.state !== "failed");
    for (const item of queued) {
      try {
        const result = await deliver(item);
        await store.remove(item.key);
        fates.set(item.key, { status: "sent", result });
        onSent(item, result);
      } catch (err) {
        if (temporary(err)) {
          item.attempts = (item.attempts || 0) + 1;
          item.last_try = Date.now();
          item.error = errorInfo(err);
          await save(item);
          fates.set(item.key, { status: "queued", error: err });
          break; // the network is down (or the server is): the rest waits too
        }
        item.state = "failed";
        item.error = errorInfo(err);
        await save(item);
        fates.set(item.key, { status: "failed", error: err });
      }
    }
    await reload();
  }

  function withLock(fn) {
    // One sender across tabs of this browser (Web Locks); the same key makes a race harmless
    // anyway, the lock only saves requests.
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request(`gridgov-outbox:${username}`, fn);
    }
    return fn();
  }

  function flush() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await withLock(sendAll);
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  }

  return {
    async init() {
      store = await openStore();
      await reload();
    },
    get items() {
      return items;
    },
    get storage() {
      return store ? store.kind : null;
    },
    /** Queue an item (its `key` is the Idempotency-Key for reports). */
    async add(item) {
      counter += 1;
      const full = {
        state: "queued",
        attempts: 0,
        created: Date.now(),
        seq: Date.now() * 1000 + (counter % 1000),
        ...item,
        key: item.key || newIdempotencyKey(),
        user: username,
      };
      await save(full);
      await reload();
      return full;
    },
    flush,
    /** Flush and say what became of `key`: {status: "sent"|"queued"|"failed", result|error}. */
    async send(key) {
      fates.delete(key);
      try {
        await flush();
      } catch (err) {
        showError(err);
      }
      return fates.get(key) || { status: "queued" };
    },
    async discard(key) {
      await store.remove(key);
      await reload();
    },
    async retry(key) {
      const item = items.find((i) => i.key === key);
      if (item) {
        item.state = "queued";
        await save(item);
      }
      return flush();
    },
    pending: () => items.filter((i) => i.state !== "failed"),
    failed: () => items.filter((i) => i.state === "failed"),
  };
}

// =============================================================================================
// Position: one watch for the whole page.

function createGeo() {
  const state = { fix: null, error: null, watching: false };
  const listeners = new Set();
  let watchId = null;

  const toFix = (pos) => ({
    lon: round7(pos.coords.longitude),
    lat: round7(pos.coords.latitude),
    accuracy: pos.coords.accuracy != null ? Math.round(pos.coords.accuracy) : null,
    at: pos.timestamp || Date.now(),
  });

  const emit = () => {
    for (const fn of listeners) fn(state);
  };

  return {
    state,
    on(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    start() {
      if (watchId != null) return;
      if (!navigator.geolocation) {
        state.error = "unsupported";
        emit();
        return;
      }
      state.watching = true;
      watchId = navigator.geolocation.watchPosition(
        (pos) => {
          state.fix = toFix(pos);
          state.error = null;
          emit();
        },
        (err) => {
          state.error = err && err.code === 1 ? "denied" : "unavailable";
          emit();
        },
        { enableHighAccuracy: true, maximumAge: 5_000, timeout: 30_000 },
      );
    },
    /** A fresh fix (or the last one when none comes within `timeout`). */
    current(timeout = 8_000) {
      return new Promise((resolve) => {
        if (!navigator.geolocation) {
          resolve(state.fix);
          return;
        }
        navigator.geolocation.getCurrentPosition(
          (pos) => {
            state.fix = toFix(pos);
            state.error = null;
            emit();
            resolve(state.fix);
          },
          () => resolve(state.fix),
          { enableHighAccuracy: true, maximumAge: 0, timeout },
        );
      });
    },
    stop() {
      if (watchId != null) navigator.geolocation.clearWatch(watchId);
      watchId = null;
    },
  };
}

// =============================================================================================
// Photos: upload at once, keep the blob when the upload fails (it goes with the queued item).

/**
 * A photo control for a form: a hidden JSON input `name` holding [{id} | {local}], a camera
 * input, thumbnails. `blobs` maps a local key to {blob, name, type, url} for photos whose
 * upload failed (kept in memory; the queued item stores them in the outbox).
 */
function photoControl(name, blobs, { labelKey }) {
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
function outboxPhotos(value, blobs) {
  return (value || [])
    .map((p) => {
      if (p.id) return { id: p.id };
      const local = blobs.get(p.local);
      return local ? { blob: local.blob, name: local.name, type: local.type } : null;
    })
    .filter(Boolean);
}

// =============================================================================================
// The page

export async function mount(ctx) {
  const user = ctx.user;
  const geo = createGeo();
  const recentKey = `gridgov.mobile.recent:${user.username}`;
  const patrolKey = `gridgov.mobile.patrol:${user.username}`;
  document.body.classList.add("m-app");

  // --- layout ---------------------------------------------------------------------------------

  const netState = h("span", { class: "m-net", dataset: { online: String(navigator.onLine !== false) } });
  const outboxCount = h("span", { class: "m-outbox-count", dataset: { outboxCount: "0" } });
  const resendButton = h(
    "button",
    { type: "button", class: "secondary m-resend", "data-i18n": "mobile.outbox.resend" },
    t("mobile.outbox.resend"),
  );
  const outboxList = h("ul", { class: "m-outbox-list" });
  const outboxDetails = h(
    "details",
    { class: "m-outbox-details" },
    h("summary", { "data-i18n": "mobile.outbox.details" }, t("mobile.outbox.details")),
    outboxList,
  );
  const outboxBar = h(
    "section",
    { class: "m-outbox", "aria-live": "polite", dataset: { count: "0", failed: "0" } },
    h("div", { class: "m-outbox-row" }, netState, outboxCount, resendButton),
    outboxDetails,
  );

  const panels = {
    report: h("section", { class: "m-panel m-report", id: "m-report", dataset: { tab: "report" } }),
    tasks: h("section", { class: "m-panel m-tasks", id: "m-tasks", dataset: { tab: "tasks" } }),
    patrol: h("section", { class: "m-panel m-patrol", id: "m-patrol", dataset: { tab: "patrol" } }),
  };
  const tabButtons = {};
  const tabBar = h(
    "nav",
    { class: "m-tabs", "data-i18n-aria-label": "mobile.tabs", "aria-label": t("mobile.tabs") },
    ...TABS.map((tab) => {
      tabButtons[tab] = h(
        "button",
        {
          type: "button",
          class: "m-tab",
          dataset: { tab },
          "aria-controls": `m-${tab}`,
          onclick: () => showTab(tab),
        },
        h("span", { "data-i18n": `mobile.tab.${tab}` }, t(`mobile.tab.${tab}`)),
        tab === "tasks" ? h("span", { class: "m-tab-count", hidden: true }) : null,
      );
      return tabButtons[tab];
    }),
  );
  ctx.main.replaceChildren(
    h("div", { class: "m-app-root" }, outboxBar, panels.report, panels.tasks, panels.patrol, tabBar),
  );

  // --- outbox ---------------------------------------------------------------------------------

  const kindKey = { report: "mobile.outbox.kind.report", action: "mobile.outbox.kind.action", positions: "mobile.outbox.kind.positions", patrol_stop: "mobile.outbox.kind.patrol_stop" };

  function drawOutbox() {
    const pending = outbox ? outbox.pending() : [];
    const failed = outbox ? outbox.failed() : [];
    const online = navigator.onLine !== false;
    netState.dataset.online = String(online);
    netState.textContent = online ? t("mobile.net.online") : t("mobile.net.offline");
    outboxBar.dataset.count = String(pending.length);
    outboxBar.dataset.failed = String(failed.length);
    outboxCount.dataset.outboxCount = String(pending.length);
    outboxCount.textContent = pending.length
      ? t("mobile.outbox.pending", { n: pending.length })
      : t("mobile.outbox.empty");
    if (failed.length) outboxCount.append(" · ", h("span", { class: "m-outbox-failed" }, t("mobile.outbox.failed", { n: failed.length })));
    resendButton.hidden = !pending.length && !failed.length;
    outboxDetails.hidden = !pending.length && !failed.length;
    outboxBar.classList.toggle("has-items", Boolean(pending.length || failed.length));
    outboxBar.classList.toggle("offline", !online);
    outboxList.replaceChildren(
      ...(outbox ? outbox.items : []).map((item) =>
        h(
          "li",
          { class: `m-outbox-item ${item.state}`, dataset: { key: item.key, kind: item.kind, state: item.state } },
          h("span", { class: "m-outbox-kind" }, t(kindKey[item.kind] || item.kind)),
          " ",
          h("span", { class: "m-outbox-label" }, item.label || ""),
          " ",
          h("time", { class: "muted" }, formatDateTime(new Date(item.created).toISOString())),
          item.error
            ? h(
                "p",
                { class: item.state === "failed" ? "m-outbox-error" : "muted m-outbox-note" },
                item.state === "failed" ? h("strong", {}, item.error.headline, " ") : t("mobile.outbox.last_error"),
                h("span", { class: "server-message" }, item.error.message),
              )
            : null,
          item.state === "failed"
            ? h(
                "div",
                { class: "m-outbox-actions" },
                h("button", { type: "button", class: "link-button", onclick: () => outbox.retry(item.key).then(afterFlush), "data-i18n": "mobile.outbox.retry" }, t("mobile.outbox.retry")),
                h(
                  "button",
                  {
                    type: "button",
                    class: "link-button danger",
                    "data-i18n": "mobile.outbox.discard",
                    onclick: () => {
                      if (window.confirm(t("mobile.outbox.discard_confirm"))) outbox.discard(item.key);
                    },
                  },
                  t("mobile.outbox.discard"),
                ),
              )
            : null,
        ),
      ),
    );
    patrolView.draw();
    taskView.markPending();
  }

  function afterFlush() {
    drawOutbox();
  }

  // Items a form is sending right now: the form tells the user itself.
  const foreground = new Set();
  const outbox = createOutbox(user.username, {
    onChange: () => drawOutbox(),
    onSent: (item, result) => {
      if (item.kind === "report" && result && result.case_no) {
        rememberReport(result, item);
        if (!foreground.has(item.key)) {
          toast(t("mobile.report.sent_later", { no: result.case_no }), { kind: "success" });
        }
      } else if (item.kind === "positions" && result) {
        patrolView.sent(item, result);
      } else if (item.kind === "patrol_stop" && result) {
        patrolView.stopped(result);
      } else if (item.kind === "action") {
        taskView.done(item.case_no);
        if (!foreground.has(item.key)) toast(t("mobile.task.sent_later", { no: item.case_no }), { kind: "success" });
      }
    },
  });

  resendButton.addEventListener("click", async () => {
    resendButton.disabled = true;
    try {
      for (const item of outbox.failed()) await outbox.retry(item.key);
      await outbox.flush();
    } catch (err) {
      showError(err);
    } finally {
      resendButton.disabled = false;
    }
    const left = outbox.pending().length;
    if (left) toast(t("mobile.outbox.still_pending", { n: left }), { kind: "info" });
  });

  const onOnline = () => {
    drawOutbox();
    outbox.flush().catch(showError);
  };
  const onOffline = () => drawOutbox();
  window.addEventListener("online", onOnline);
  window.addEventListener("offline", onOffline);
  const retryTimer = setInterval(() => {
    if (outbox.pending().length && navigator.onLine !== false) outbox.flush().catch(showError);
  }, OUTBOX.retryMs);

  // --- recent reports (this phone) ------------------------------------------------------------

  function rememberReport(caseRead, item) {
    const list = readStore(recentKey, []).filter((r) => r.case_no !== caseRead.case_no);
    list.unshift({
      case_no: caseRead.case_no,
      at: caseRead.reported_at || new Date().toISOString(),
      label: item ? item.label : caseRead.description,
    });
    writeStore(recentKey, list.slice(0, RECENT_MAX));
    reportView.drawRecent();
  }

  // --- tabs -----------------------------------------------------------------------------------

  let current = null;
  function showTab(tab) {
    if (!TABS.includes(tab)) tab = "report";
    current = tab;
    for (const name of TABS) {
      panels[name].hidden = name !== tab;
      tabButtons[name].classList.toggle("active", name === tab);
      tabButtons[name].setAttribute("aria-current", name === tab ? "page" : "false");
    }
    if (window.location.hash !== `#${tab}`) history.replaceState(null, "", `#${tab}`);
    if (tab === "report") reportView.shown();
    if (tab === "tasks") taskView.shown();
    if (tab === "patrol") patrolView.shown();
  }
  const onHash = () => showTab(window.location.hash.slice(1));
  window.addEventListener("hashchange", onHash);

  // =============================================================================================
  // 上报

  const reportView = (() => {
    const blobs = new Map();
    const photos = photoControl("photos", blobs, { labelKey: "mobile.report.photos" });
    const placeValue = hidden("place", { json: true, required: true, labelKey: "mobile.report.place" });
    const placeStatus = h("p", { class: "m-place-status", "aria-live": "polite" });
    const placeGrid = h("p", { class: "m-place-grid" });
    const mapBox = h("div", { class: "m-map m-report-map" });
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
      placeGrid,
      mapBox,
      h("p", { class: "field-hint", "data-i18n": "mobile.report.pin_hint" }, t("mobile.report.pin_hint")),
    );
    const componentValue = hidden("component", { json: true });
    const componentList = h("ul", { class: "m-components" });
    const componentBox = h("div", { class: "m-component-box" }, componentValue, componentList);
    const urgency = h("select", { name: "urgency", class: "m-urgency" });
    const subclass = subclassPicker("subclass", {
      required: true,
      labelKey: "mobile.report.subclass",
      onChange: (sub) => {
        fillUrgency(sub);
        usualBox.hidden = Boolean(sub) || !readStore(usualKey, []).length;
      },
    });
    // The subclasses this supervisor used lately: one tap, and they work offline too.
    const usualKey = `gridgov.mobile.subclasses:${user.username}`;
    const usualList = h("div", { class: "m-usual-list" });
    const usualBox = h(
      "div",
      { class: "m-usual", hidden: true },
      h("span", { class: "muted", "data-i18n": "mobile.report.usual" }, t("mobile.report.usual")),
      usualList,
    );
    subclass.append(usualBox);
    const description = textarea("description", {
      required: true,
      rows: 3,
      maxlength: 2000,
      labelKey: "mobile.report.description",
      "data-i18n-placeholder": "mobile.report.description_placeholder",
      placeholder: t("mobile.report.description_placeholder"),
    });
    const recentList = h("ul", { class: "m-recent" });
    const form = h(
      "form",
      { id: "m-report-form", class: "m-form" },
      field("mobile.report.photos", photos, { required: true }),
      field("mobile.report.place", placeBox, { required: true }),
      field("mobile.report.component", componentBox, { hint: "mobile.report.component_hint" }),
      field("mobile.report.subclass", subclass, { required: true }),
      field("mobile.report.urgency", urgency),
      field("mobile.report.description", description, { required: true }),
      buttons("mobile.report.submit"),
    );
    photos.querySelector("input[type=hidden]").dataset.required = "";
    panels.report.append(
      h("h1", { "data-i18n": "mobile.report.title" }, t("mobile.report.title")),
      form,
      h(
        "section",
        { class: "m-recent-box" },
        h("h2", { "data-i18n": "mobile.report.recent" }, t("mobile.report.recent")),
        recentList,
      ),
    );

    let follow = true;
    let small = null;
    let mapPromise = null;
    let lookup = null;

    function fillUrgency(sub) {
      const levels = sub && sub.urgency_levels && sub.urgency_levels.length ? sub.urgency_levels : ["normal"];
      const before = urgency.value || "normal";
      urgency.replaceChildren(
        ...levels.map((u) => h("option", { value: u, "data-i18n": `urgency.${u}` }, label("urgency", u))),
      );
      urgency.value = levels.includes(before) ? before : levels[0];
    }
    fillUrgency(null);

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
      form.dataset.follow = String(follow);
      if (!p) {
        placeStatus.textContent =
          g.error === "denied"
            ? t("mobile.gps.denied")
            : g.error
              ? t("mobile.gps.unavailable")
              : t("mobile.gps.locating");
        placeGrid.textContent = "";
        followButton.hidden = true;
        return;
      }
      placeStatus.textContent =
        p.source === "gps"
          ? t("mobile.gps.fix", { accuracy: p.accuracy != null ? p.accuracy : "?" })
          : t("mobile.gps.pinned");
      placeStatus.append(" ", h("span", { class: "code" }, `${p.lon.toFixed(6)}, ${p.lat.toFixed(6)}`));
      followButton.hidden = p.source === "gps" || !g.fix;
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
        const where = await getJSON(`/api/geocode${query({ lon: p.lon, lat: p.lat })}`, { signal });
        if (!same(place())) return;
        writeJSON(placeValue, {
          ...place(),
          grid_code: where.grid ? where.grid.code : null,
          community: where.community ? where.community.name : null,
          street: where.street ? where.street.name : null,
          grid_error: null,
        });
        drawPlace();
      } catch (err) {
        if (err && err.name === "AbortError") return;
        if (!same(place())) return;
        const text = temporary(err) ? t("mobile.report.grid_offline") : `${errorHeadline(err)}: ${err.message}`;
        writeJSON(placeValue, { ...place(), grid_code: null, grid_error: text });
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

    async function chooseComponent(c, found) {
      writeJSON(componentValue, c ? { id: c.id, name: c.name, subclass_code: c.subclass_code } : null);
      componentValue.dispatchEvent(new Event("change", { bubbles: true }));
      drawComponents(found);
      const sub = readJSON(form.querySelector("input[name=subclass]"));
      if (c && !sub) {
        try {
          const s = await getJSON(`/api/taxonomy/subclasses/${encodeURIComponent(c.subclass_code)}${query({ kind: "component" })}`);
          bound.setValues({ subclass: { kind: s.kind, code: s.code, name: s.name, urgency_levels: s.urgency_levels, register_condition: s.register_condition } });
        } catch (err) {
          if (!temporary(err)) showError(err);
        }
      }
    }

    async function ensureMap() {
      if (small || mapPromise) return mapPromise;
      const p = place();
      mapPromise = (p ? Promise.resolve(null) : districtExtent())
        .then((bounds) => pointMap(mapBox, {
        point: p ? [p.lon, p.lat] : null,
        bounds,
        zoom: 17,
        onPick: ([lon, lat]) => {
          follow = false;
          setPlace({ lon, lat, accuracy: null, source: "pin" }, { fly: false });
        },
      }))
        .then((m) => {
          small = m;
          window.gridgov.reportMap = m.map; // for the browser tests
          const now = place();
          if (now) small.setPoint([now.lon, now.lat]);
          return m;
        })
        .catch((err) => {
          mapPromise = null;
          showError(err);
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

    const bound = bindForm(form, {
      idempotent: true,
      validate: (values) => {
        const problems = {};
        if (values.description && values.description.trim().length > 2000) {
          problems.description = t("mobile.report.too_long");
        }
        return problems;
      },
      submit: async (values, { idempotencyKey }) => {
        const p = values.place;
        const body = {
          subclass: values.subclass.code,
          subclass_kind: values.subclass.kind,
          urgency: values.urgency || "normal",
          lon: p.lon,
          lat: p.lat,
          crs: "wgs84",
          description: values.description.trim(),
        };
        if (values.component && values.component.id) body.component_id = values.component.id;
        rememberSubclass(values.subclass);
        const item = await outbox.add({
          kind: "report",
          key: idempotencyKey,
          body,
          photos: outboxPhotos(values.photos, blobs),
          label: body.description.slice(0, 40),
        });
        foreground.add(item.key);
        let fate;
        try {
          fate = await outbox.send(item.key);
        } finally {
          foreground.delete(item.key); // a later send (still queued) toasts on its own
        }
        if (fate.status === "failed") {
          await outbox.discard(item.key); // the form shows the refusal; nothing stays queued
          throw fate.error;
        }
        return fate;
      },
      onSuccess: (fate) => {
        if (fate.status === "sent") {
          toast(t("mobile.report.sent", { no: fate.result.case_no }), { kind: "success" });
          lastReport.textContent = t("mobile.report.sent", { no: fate.result.case_no });
          lastReport.dataset.caseNo = fate.result.case_no;
          lastReport.hidden = false;
        } else {
          toast(t("mobile.report.queued"), { kind: "info", timeout: 8000 });
          lastReport.textContent = t("mobile.report.queued");
          lastReport.dataset.caseNo = "";
          lastReport.hidden = false;
        }
        drawComponents([]);
        window.scrollTo({ top: 0 });
        for (const [key, b] of blobs) {
          URL.revokeObjectURL(b.url);
          blobs.delete(key);
        }
      },
    });
    const lastReport = h("p", { class: "m-last-report form-note", hidden: true, role: "status" });
    form.before(lastReport);

    function rememberSubclass(sub) {
      if (!sub) return;
      const list = readStore(usualKey, []).filter((x) => !(x.code === sub.code && x.kind === sub.kind));
      list.unshift(sub);
      writeStore(usualKey, list.slice(0, 8));
      drawUsual();
    }

    function drawUsual() {
      const list = readStore(usualKey, []);
      usualList.replaceChildren(
        ...list.map((sub) =>
          h(
            "button",
            {
              type: "button",
              class: "m-usual-chip",
              dataset: { code: sub.code, kind: sub.kind },
              onclick: () => bound.setValues({ subclass: sub }),
            },
            sub.name,
          ),
        ),
      );
      usualBox.hidden = !list.length || Boolean(readJSON(form.querySelector("input[name=subclass]")));
    }
    drawUsual();

    function drawRecent() {
      const list = readStore(recentKey, []);
      recentList.replaceChildren(
        ...(list.length
          ? list.map((r) =>
              h(
                "li",
                { dataset: { caseNo: r.case_no } },
                h("a", { href: `/case/${encodeURIComponent(r.case_no)}` }, r.case_no),
                " ",
                h("span", {}, r.label || ""),
                " ",
                h("time", { class: "muted" }, formatDateTime(r.at)),
              ),
            )
          : [h("li", { class: "muted", "data-i18n": "mobile.report.no_recent" }, t("mobile.report.no_recent"))]),
      );
    }
    drawRecent();

    return {
      form,
      bound,
      drawRecent,
      drawPlace,
      async shown() {
        await ensureMap();
        small?.resize();
      },
    };
  })();

  // =============================================================================================
  // 任务 (核实 / 核查)

  const taskView = (() => {
    const countBadge = tabButtons.tasks.querySelector(".m-tab-count");
    const refresh = h(
      "button",
      { type: "button", class: "secondary m-refresh", "data-i18n": "mobile.tasks.refresh" },
      t("mobile.tasks.refresh"),
    );
    const summary = h("p", { class: "muted m-tasks-summary" });
    const mapBox = h("div", { class: "m-map m-task-map" });
    const list = h("ul", { class: "m-task-list" });
    const formBox = h("div", { class: "m-task-form-box", hidden: true });
    const listBox = h("div", { class: "m-task-list-box" }, mapBox, summary, list);
    panels.tasks.append(
      h(
        "div",
        { class: "m-head" },
        h("h1", { "data-i18n": "mobile.tasks.title" }, t("mobile.tasks.title")),
        refresh,
      ),
      listBox,
      formBox,
    );
    let tasks = [];
    let loaded = false;
    let loading = null;
    let small = null;
    let mapPromise = null;
    let openNo = null;
    let openForm = null;

    /** My own 核实 / 核查 tasks in one request: the board's `assigned_to_me` filter returns
     * the cases whose current verification or check is assigned to me. */
    async function myTasks() {
      const list = await getJSON(
        `/api/cases/board/list${query({ assigned_to_me: true, limit: 200, order: "oldest" })}`,
      );
      return (list.items || []).map((item) => ({
        ...item,
        detail: item,
        kind: item.state === "verifying" ? "verify" : "check",
      }));
    }

    async function load() {
      if (loading) return loading;
      refresh.disabled = true;
      summary.textContent = t("status.loading");
      loading = (async () => {
        try {
          tasks = await myTasks();
          loaded = true;
        } catch (err) {
          if (temporary(err)) summary.textContent = t("mobile.tasks.offline");
          else showError(err);
          return;
        } finally {
          refresh.disabled = false;
          loading = null;
        }
        draw();
      })();
      return loading;
    }

    function here() {
      const f = geo.state.fix;
      return f ? [f.lon, f.lat] : null;
    }

    function queuedNos() {
      return new Set(outbox.pending().filter((i) => i.kind === "action").map((i) => i.case_no));
    }

    function draw() {
      const me = here();
      for (const task of tasks) task.distance = me ? distanceM(me, [task.lon, task.lat]) : null;
      tasks.sort((a, b) => (a.distance ?? Infinity) - (b.distance ?? Infinity));
      const waiting = queuedNos();
      countBadge.hidden = !tasks.length;
      countBadge.textContent = String(tasks.length);
      summary.textContent = tasks.length
        ? t("mobile.tasks.count", { n: tasks.length })
        : t("mobile.tasks.none");
      if (!me && tasks.length) summary.append(" ", t("mobile.tasks.no_position"));
      list.replaceChildren(
        ...tasks.map((task) =>
          h(
            "li",
            { class: "m-task", dataset: { caseNo: task.case_no, kind: task.kind } },
            h(
              "button",
              { type: "button", class: "m-task-open", onclick: () => open(task.case_no) },
              h(
                "span",
                { class: "m-task-head" },
                h("span", { class: `badge m-kind m-kind-${task.kind}`, "data-i18n": `mobile.tasks.kind.${task.kind}` }, t(`mobile.tasks.kind.${task.kind}`)),
                " ",
                h("strong", {}, task.subclass_name || task.subclass_code),
                " ",
                lightBadge(task.light || worstLight(task.lights)),
                urgencyBadge(task.urgency),
                waiting.has(task.case_no)
                  ? h("span", { class: "badge m-task-queued" }, t("mobile.tasks.queued"))
                  : null,
              ),
              h("span", { class: "m-task-desc" }, task.description),
              h(
                "span",
                { class: "m-task-meta muted" },
                h("span", { class: "m-distance", dataset: { m: task.distance != null ? String(Math.round(task.distance)) : "" } }, formatDistance(task.distance)),
                " · ",
                h("span", { class: "code" }, task.case_no),
              ),
            ),
          ),
        ),
      );
      drawMap();
    }

    function lineData() {
      const me = here();
      const features = [];
      for (const task of tasks) {
        features.push({
          type: "Feature",
          properties: { case_no: task.case_no, kind: task.kind },
          geometry: { type: "Point", coordinates: [task.lon, task.lat] },
        });
        if (me) {
          features.push({
            type: "Feature",
            properties: { case_no: task.case_no, kind: task.kind, line: true },
            geometry: { type: "LineString", coordinates: [me, [task.lon, task.lat]] },
          });
        }
      }
      return { type: "FeatureCollection", features };
    }

    async function ensureMap() {
      if (small || mapPromise) return mapPromise;
      const me = here();
      mapPromise = (me ? Promise.resolve(null) : districtExtent())
        .then((bounds) => pointMap(mapBox, { point: me, bounds, zoom: 15 }))
        .then((m) => {
          small = m;
          const map = m.map;
          window.gridgov.taskMap = map; // for the browser tests
          map.addSource("tasks", { type: "geojson", data: lineData() });
          map.addLayer({
            id: "task-route",
            type: "line",
            source: "tasks",
            filter: ["==", ["geometry-type"], "LineString"],
            paint: { "line-color": "#1d4ed8", "line-width": 2, "line-dasharray": [2, 2] },
          });
          map.addLayer({
            id: "task-point",
            type: "circle",
            source: "tasks",
            filter: ["==", ["geometry-type"], "Point"],
            paint: {
              "circle-radius": 8,
              "circle-color": ["match", ["get", "kind"], "verify", "#b45309", "#15803d"],
              "circle-stroke-color": "#fff",
              "circle-stroke-width": 2,
            },
          });
          map.on("click", "task-point", (e) => {
            const f = e.features && e.features[0];
            if (f) open(f.properties.case_no);
          });
          map.on("mouseenter", "task-point", () => (map.getCanvas().style.cursor = "pointer"));
          map.on("mouseleave", "task-point", () => (map.getCanvas().style.cursor = ""));
          drawMap();
          return m;
        })
        .catch((err) => {
          mapPromise = null;
          showError(err);
        });
      return mapPromise;
    }

    function drawMap() {
      if (!small) return;
      const map = small.map;
      map.getSource("tasks")?.setData(lineData());
      const me = here();
      small.setPoint(me, { fly: false });
      const coords = tasks.map((x) => [x.lon, x.lat]);
      if (me) coords.push(me);
      if (!coords.length) return;
      const lons = coords.map((c) => c[0]);
      const lats = coords.map((c) => c[1]);
      const box = [
        [Math.min(...lons), Math.min(...lats)],
        [Math.max(...lons), Math.max(...lats)],
      ];
      map.fitBounds(box, { padding: 40, maxZoom: 17, duration: 0 });
    }

    function open(no) {
      const task = tasks.find((x) => x.case_no === no);
      if (!task) return;
      openNo = no;
      listBox.hidden = true;
      formBox.hidden = false;
      openForm?.destroy();
      openForm = taskForm(task);
    }

    function close() {
      openForm?.destroy();
      openForm = null;
      openNo = null;
      formBox.hidden = true;
      formBox.replaceChildren();
      listBox.hidden = false;
      small?.resize();
      drawMap();
    }

    function taskForm(task) {
      const blobs = new Map();
      const pair = TASK_ACTIONS[task.kind];
      const d = task.detail;
      const photos = photoControl("photos", blobs, { labelKey: "mobile.task.photos" });
      const resultName = "result";
      const radio = (action, key) =>
        h(
          "label",
          { class: `m-choice m-choice-${action === pair.yes ? "yes" : "no"}` },
          h("input", { type: "radio", name: resultName, value: action, required: true, dataset: { labelKey: "mobile.task.result" } }),
          h("span", { "data-i18n": key }, t(key)),
        );
      const note = textarea("note", { rows: 2, maxlength: 2000, labelKey: "mobile.task.note", id: `m-note-${task.case_no}` });
      const noteLabel = h("span", {});
      const reportedPhotos = (d.photos || []).map((id) =>
        h("li", {}, h("a", { href: `/api/media/${encodeURIComponent(id)}`, target: "_blank", rel: "noopener" }, h("img", { src: `/api/media/${encodeURIComponent(id)}/thumb`, alt: "" }))),
      );
      const form = h(
        "form",
        { id: `m-task-${task.case_no}`, class: "m-form m-task-form", dataset: { caseNo: task.case_no, kind: task.kind } },
        h(
          "header",
          { class: "m-task-form-head" },
          h("button", { type: "button", class: "link-button m-back", onclick: close, "data-i18n": "mobile.task.back" }, t("mobile.task.back")),
          h("h2", {}, h("span", { "data-i18n": `mobile.tasks.kind.${task.kind}` }, t(`mobile.tasks.kind.${task.kind}`)), " ", h("span", { class: "code" }, task.case_no)),
          h("p", { class: "m-task-sub" }, task.subclass_name || task.subclass_code, " · ", formatDistance(task.distance)),
          h("p", { class: "m-task-desc" }, d.description),
          reportedPhotos.length ? h("ul", { class: "thumbs" }, ...reportedPhotos) : null,
          h("a", { href: `/case/${encodeURIComponent(task.case_no)}`, class: "m-full-case", "data-i18n": "mobile.task.full_case" }, t("mobile.task.full_case")),
        ),
        h(
          "div",
          { class: "field required m-result-field", dataset: { field: resultName } },
          h(
            "fieldset",
            { class: "m-result" },
            h("legend", { "data-i18n": "mobile.task.result" }, t("mobile.task.result")),
            radio(pair.yes, `mobile.task.${pair.yes}`),
            radio(pair.no, `mobile.task.${pair.no}`),
          ),
        ),
        field("mobile.task.photos", photos),
        h("div", { class: "field", dataset: { field: "note" } }, h("label", { for: note.id }, noteLabel), note),
        buttons("mobile.task.submit"),
      );
      const drawNote = () => {
        const chosen = form.querySelector(`input[name=${resultName}]:checked`);
        const needsReason = chosen && NEEDS_REASON.has(chosen.value);
        noteLabel.textContent = needsReason ? t("mobile.task.reason") : t("mobile.task.note");
        noteLabel.parentElement.parentElement.classList.toggle("required", Boolean(needsReason));
        const photoField = photos.closest(".field");
        photoField?.classList.toggle("required", !chosen || NEEDS_PHOTOS.has(chosen.value));
      };
      form.addEventListener("change", drawNote);
      formBox.replaceChildren(form);
      const bound = bindForm(form, {
        draft: `task-${task.case_no}`,
        validate: (values) => {
          const problems = {};
          if (NEEDS_PHOTOS.has(values.result) && !(values.photos || []).length) {
            problems.photos = t("form.required", { field: t("mobile.task.photos") });
          }
          if (NEEDS_REASON.has(values.result) && !(values.note || "").trim()) {
            problems.note = t("form.required", { field: t("mobile.task.reason") });
          }
          return problems;
        },
        submit: async (values) => {
          const action = values.result;
          const text = (values.note || "").trim();
          const payload = {};
          if (NEEDS_REASON.has(action)) payload.reason = text;
          else if (text) payload.note = text;
          const item = await outbox.add({
            kind: "action",
            case_no: task.case_no,
            action,
            payload,
            expected_version: task.version,
            photos: outboxPhotos(values.photos, blobs),
            label: `${label("action", action)} ${task.case_no}`,
          });
          foreground.add(item.key);
          let fate;
          try {
            fate = await outbox.send(item.key);
          } finally {
            foreground.delete(item.key);
          }
          if (fate.status === "failed") {
            await outbox.discard(item.key);
            throw fate.error;
          }
          return fate;
        },
        onSuccess: (fate) => {
          toast(fate.status === "sent" ? t("mobile.task.sent") : t("mobile.task.queued"), {
            kind: fate.status === "sent" ? "success" : "info",
          });
          if (fate.status === "sent") done(task.case_no);
          close();
          draw();
        },
      });
      drawNote();
      return bound;
    }

    function done(no) {
      tasks = tasks.filter((x) => x.case_no !== no);
      if (openNo === no) close();
      if (loaded) draw();
    }

    refresh.addEventListener("click", () => load());
    geo.on(() => {
      if (loaded && current === "tasks" && !openNo) {
        // Distances follow the walker; the list order too.
        draw();
      }
    });

    return {
      done,
      load,
      lineData,
      redraw() {
        if (loaded) draw();
      },
      markPending() {
        if (!loaded) return;
        const waiting = queuedNos();
        for (const li of list.querySelectorAll(".m-task")) {
          li.classList.toggle("queued", waiting.has(li.dataset.caseNo));
        }
      },
      async shown() {
        const map = ensureMap(); // the map and the list load side by side
        if (!loaded) await load();
        await map;
        small?.resize();
        drawMap();
      },
    };
  })();

  // =============================================================================================
  // 巡查

  const patrolView = (() => {
    const status = h("p", { class: "m-patrol-status", "aria-live": "polite" });
    const facts = h("dl", { class: "m-patrol-facts" });
    const toggle = h("button", { type: "button", class: "primary m-patrol-toggle" });
    const hint = h("p", { class: "muted m-patrol-hint" });
    const box = h("div", { class: "m-patrol-card card", dataset: { state: "off" } }, status, facts, toggle, hint);
    panels.patrol.append(h("h1", { "data-i18n": "mobile.patrol.title" }, t("mobile.patrol.title")), box);
    let patrol = null; // the server's PatrolRead while running (or just stopped)
    let buffer = []; // fixes not yet queued
    let lastAt = 0;
    let tickTimer = null;
    let clockTimer = null;
    let busy = false;
    let lastSent = null;
    let wake = null;

    const running = () => Boolean(patrol && patrol.running);

    function queuedPoints() {
      return outbox
        .pending()
        .filter((i) => i.kind === "positions")
        .reduce((n, i) => n + i.positions.length, 0);
    }

    function fact(key, value, name) {
      return [h("dt", { "data-i18n": key }, t(key)), h("dd", { dataset: { field: name } }, value)];
    }

    function elapsed() {
      if (!patrol) return t("value.none");
      const end = patrol.stopped_at ? Date.parse(patrol.stopped_at) : Date.now();
      const s = Math.max(0, Math.round((end - Date.parse(patrol.started_at)) / 1000));
      const hh = Math.floor(s / 3600);
      const mm = Math.floor((s % 3600) / 60);
      const ss = s % 60;
      return hh ? `${hh}:${String(mm).padStart(2, "0")}:${String(ss).padStart(2, "0")}` : `${mm}:${String(ss).padStart(2, "0")}`;
    }

    function draw() {
      const on = running();
      box.dataset.state = on ? "on" : patrol ? "stopped" : "off";
      status.textContent = on ? t("mobile.patrol.on") : patrol ? t("mobile.patrol.stopped") : t("mobile.patrol.off");
      toggle.textContent = on ? t("mobile.patrol.stop") : t("mobile.patrol.start");
      toggle.dataset.action = on ? "stop" : "start";
      toggle.disabled = busy;
      const g = geo.state;
      facts.replaceChildren(
        ...(patrol
          ? [
              ...fact("mobile.patrol.started", formatDateTime(patrol.started_at, { seconds: false }), "started"),
              ...fact("mobile.patrol.elapsed", elapsed(), "elapsed"),
              ...fact("mobile.patrol.points", String(patrol.point_count || 0), "points"),
              ...fact("mobile.patrol.waiting", String(buffer.length + queuedPoints()), "waiting"),
              ...fact("mobile.patrol.last_sent", lastSent ? formatDateTime(lastSent, { seconds: true }) : t("value.none"), "last_sent"),
            ]
          : []),
        ...fact(
          "mobile.patrol.gps",
          g.fix
            ? t("mobile.gps.fix", { accuracy: g.fix.accuracy != null ? g.fix.accuracy : "?" })
            : g.error === "denied"
              ? t("mobile.gps.denied")
              : g.error
                ? t("mobile.gps.unavailable")
                : t("mobile.gps.locating"),
          "gps",
        ),
      );
      hint.textContent = t("mobile.patrol.hint", { s: Math.round(PATROL.everyMs / 1000) });
    }

    function collect(fix) {
      if (!running() || !fix) return;
      if (fix.at <= lastAt || fix.at - lastAt < Math.min(PATROL.minGapMs, PATROL.everyMs / 2)) return;
      lastAt = fix.at;
      buffer.push({
        lon: fix.lon,
        lat: fix.lat,
        accuracy_m: fix.accuracy,
        at: new Date(fix.at).toISOString(),
      });
    }

    async function tick() {
      if (!patrol) return;
      if (running() && !buffer.length) collect(await geo.current(Math.min(8_000, PATROL.everyMs)));
      while (buffer.length) {
        const batch = buffer.splice(0, PATROL.maxBatch);
        await outbox.add({
          kind: "positions",
          key: `positions:${patrol.id}:${batch[0].at}`,
          patrol_id: patrol.id,
          positions: batch,
          label: t("mobile.patrol.batch_label", { n: batch.length }),
        });
      }
      draw();
      await outbox.flush();
    }

    function startTimers() {
      stopTimers();
      tickTimer = setInterval(() => tick().catch(showError), PATROL.everyMs);
      clockTimer = setInterval(() => {
        const dd = facts.querySelector('dd[data-field="elapsed"]');
        if (dd) dd.textContent = elapsed();
      }, 1000);
      if (navigator.wakeLock && navigator.wakeLock.request) {
        navigator.wakeLock.request("screen").then((w) => (wake = w), () => null);
      }
    }

    function stopTimers() {
      clearInterval(tickTimer);
      clearInterval(clockTimer);
      tickTimer = clockTimer = null;
      wake?.release?.().catch(() => null);
      wake = null;
    }

    async function start() {
      busy = true;
      draw();
      try {
        patrol = await postJSON("/api/patrol/start", null);
        writeStore(patrolKey, { id: patrol.id });
        lastAt = 0;
        collect(geo.state.fix);
        collect(await geo.current(5_000));
        startTimers();
        toast(t("mobile.patrol.started_toast"), { kind: "success" });
        tick().catch(showError);
      } catch (err) {
        if (temporary(err)) toast(t("mobile.patrol.start_offline"), { kind: "error" });
        else showError(err);
      } finally {
        busy = false;
        draw();
      }
    }

    async function stop() {
      if (!patrol) return;
      busy = true;
      draw();
      try {
        collect(geo.state.fix);
        await tick();
        stopTimers();
        const id = patrol.id;
        patrol = { ...patrol, running: false, stopped_at: new Date().toISOString() };
        await outbox.add({ kind: "patrol_stop", key: `patrol_stop:${id}`, patrol_id: id, label: `#${id}` });
        await outbox.flush();
        const left = outbox.pending().some((i) => i.kind === "patrol_stop" && i.patrol_id === id);
        toast(left ? t("mobile.patrol.stop_queued") : t("mobile.patrol.stopped_toast"), { kind: left ? "info" : "success" });
      } catch (err) {
        showError(err);
      } finally {
        busy = false;
        draw();
      }
    }

    toggle.addEventListener("click", () => (running() ? stop() : start()));
    geo.on((g) => {
      collect(g.fix);
      if (current === "patrol") draw();
    });

    return {
      draw,
      sent(item, result) {
        lastSent = new Date().toISOString();
        if (patrol && result.patrol_id === patrol.id) patrol.point_count = result.point_count;
        draw();
      },
      stopped(result) {
        if (patrol && result.id === patrol.id) patrol = result;
        draw();
      },
      async resume() {
        try {
          const now = await getJSON("/api/patrol/current");
          if (now && now.running) {
            patrol = now;
            lastAt = now.last ? Date.parse(now.last.at) : 0;
            startTimers();
          }
        } catch (err) {
          if (!temporary(err)) showError(err);
        }
        draw();
      },
      shown() {
        draw();
      },
      get patrol() {
        return patrol;
      },
      tick,
    };
  })();

  // --- language switch: redraw what was built with t() ---------------------------------------

  ctx.onLanguage(() => {
    drawOutbox();
    reportView.drawPlace();
    reportView.drawRecent();
    patrolView.draw();
    taskView.redraw();
  });

  // --- start ----------------------------------------------------------------------------------

  window.gridgov.mobile = { outbox: null, geo, patrol: patrolView, tasks: taskView, report: reportView };
  await outbox.init();
  window.gridgov.mobile.outbox = outbox;
  drawOutbox();
  geo.start();
  await patrolView.resume();
  // The form is usable at once; the small map follows (showTab starts it, nothing waits for it).
  showTab(window.location.hash.slice(1) || "report");
  if (outbox.pending().length && navigator.onLine !== false) outbox.flush().catch(showError);
  window.addEventListener(
    "pagehide",
    () => {
      clearInterval(retryTimer);
    },
    { once: true },
  );
}
