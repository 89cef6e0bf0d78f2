// outbox.js — the outbox (待发送) of the supervisor's phone app: queued items of one user, sent
// in order, one flush at a time (see the header of pages/mobile.js for the rules).

import { getJSON, newIdempotencyKey, postJSON, query, upload } from "../../lib/api.js";
import { showError } from "../../lib/notice.js";
import { openStore } from "./outbox_store.js";
import { errorInfo, temporary } from "./util.js";

/** Outbox settings: how often queued items are retried while something waits. */
export const OUTBOX = { retryMs: 20_000 };

export function createOutbox(username, { onChange, onSent }) {
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
