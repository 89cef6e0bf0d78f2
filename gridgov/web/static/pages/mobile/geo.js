// geo.js — the phone's position: one watch for the whole page (pages/mobile.js).

import { round7 } from "./util.js";

export function createGeo() {
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
