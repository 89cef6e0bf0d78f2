// outbox_store.js — where the outbox keeps its items: IndexedDB, or localStorage (photos as
// data URLs) where IndexedDB is missing (pages/mobile/outbox.js).

import { readStore } from "./util.js";

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

export async function openStore() {
  try {
    return await idbStore();
  } catch (err) {
    console.warn("gridgov: outbox falls back to localStorage:", err);
    return localStore();
  }
}
