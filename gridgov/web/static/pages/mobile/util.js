// util.js — small helpers of the supervisor's phone app (pages/mobile.js): distances, which
// errors are worth a retry, and the localStorage convenience lists.

import { t } from "../../lib/i18n.js";
import { errorHeadline } from "../../lib/notice.js";

export const round7 = (x) => Math.round(Number(x) * 1e7) / 1e7;

/** Great-circle distance in metres (good enough for "how far is my next task"). */
export function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const s =
    Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(s)));
}

export function formatDistance(m) {
  if (m == null || !Number.isFinite(m)) return t("value.none");
  if (m < 1000) return t("mobile.distance_m", { n: Math.round(m) });
  return t("mobile.distance_km", { n: (m / 1000).toFixed(m < 10_000 ? 1 : 0) });
}

/** A network failure, a server error or a rate limit: try again later. */
export function temporary(err) {
  if (!err) return false;
  if (err.redirecting) return true; // off to the login page; the item waits for the next session
  const status = Number(err.status);
  if (!Number.isFinite(status)) return true; // not an ApiError: the browser itself failed
  return status === 0 || status >= 500 || status === 408 || status === 429;
}

export function errorInfo(err) {
  return {
    status: err && err.status != null ? err.status : null,
    code: (err && err.code) || "internal",
    message: err && err.message ? err.message : String(err),
    headline: errorHeadline(err),
  };
}

export function readStore(key, fallback) {
  try {
    const raw = window.localStorage.getItem(key);
    return raw ? JSON.parse(raw) : fallback;
  } catch {
    return fallback;
  }
}

export function writeStore(key, value) {
  try {
    window.localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Full or disabled storage: only the convenience list is lost.
  }
}
