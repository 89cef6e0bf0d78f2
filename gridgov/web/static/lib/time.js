// time.js — dates and times in the deployment's time zone (DESIGN §3.4).
//
// The API sends UTC ISO timestamps; the UI shows them in the deployment's zone (the shell sets
// it from the server's GRIDGOV_TIMEZONE, default Asia/Shanghai), whatever the browser's own
// zone is. Inputs (<input type="datetime-local">) are read in that zone too.
//
//   formatDateTime("2026-12-03T06:05:00Z")  → "2026/12/03 14:05"
//   formatRelative(iso)                     → "3小时后" / "in 3 hours"
//   formatDuration(seconds)                 → "2天3小时" / "2 d 3 h", "3小时5分", "12分钟"
//   toUTC("2026-12-03T14:05")               → "2026-12-03T06:05:00.000Z"

import { language, t } from "./i18n.js";

let zone = "Asia/Shanghai";

export function setTimeZone(tz) {
  if (tz) zone = tz;
}

export function timeZone() {
  return zone;
}

function parse(iso) {
  if (!iso) return null;
  const date = iso instanceof Date ? iso : new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

function format(date, options) {
  try {
    return new Intl.DateTimeFormat(language(), { ...options, timeZone: zone }).format(date);
  } catch {
    return new Intl.DateTimeFormat(language(), options).format(date);
  }
}

/** Date and time (minutes) in the deployment's zone; "—" for nothing. */
export function formatDateTime(iso, { seconds = false } = {}) {
  const date = parse(iso);
  if (!date) return iso ? String(iso) : t("value.none");
  return format(date, {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    ...(seconds ? { second: "2-digit" } : {}),
    hourCycle: "h23",
  });
}

/** The date alone in the deployment's zone. */
export function formatDate(iso) {
  const date = parse(iso);
  if (!date) return iso ? String(iso) : t("value.none");
  return format(date, { year: "numeric", month: "2-digit", day: "2-digit" });
}

/** "in 3 hours" / "2 days ago" in the current language. */
export function formatRelative(iso, now = Date.now()) {
  const date = parse(iso);
  if (!date) return t("value.none");
  const seconds = Math.round((date.getTime() - now) / 1000);
  const units = [
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];
  const rtf = new Intl.RelativeTimeFormat(language(), { numeric: "auto" });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.trunc(seconds / size), unit);
  }
  return rtf.format(Math.trunc(seconds / 60), "minute");
}

/** A span of seconds as "2天3小时" / "3小时5分" / "12分钟" ("2 d 3 h" …) in the current
 * language: the two largest units, never negative. */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  const d = Math.floor(s / 86400);
  const hr = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return t("duration.dh", { d, h: hr });
  if (hr) return t("duration.hm", { h: hr, m });
  return t("duration.m", { m });
}

/** The zone's UTC offset in ms at the instant `ms` (positive east of Greenwich). */
function offsetAt(ms) {
  const parts = {};
  const fmt = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  for (const p of fmt.formatToParts(new Date(ms))) parts[p.type] = p.value;
  const wall = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour) % 24,
    Number(parts.minute),
    Number(parts.second),
  );
  return wall - Math.floor(ms / 1000) * 1000;
}

/** A wall time "YYYY-MM-DDTHH:MM" in the deployment's zone → UTC ISO text; null if invalid. */
export function toUTC(local) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(String(local || ""));
  if (!m) return null;
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  let ms = guess - offsetAt(guess);
  ms = guess - offsetAt(ms); // once more, in case the offset changed in between (DST)
  return new Date(ms).toISOString();
}

/** An instant as "YYYY-MM-DDTHH:MM" in the deployment's zone, for a datetime-local input. */
export function toLocalInput(iso) {
  const date = parse(iso);
  if (!date) return "";
  const shifted = new Date(date.getTime() + offsetAt(date.getTime()));
  return shifted.toISOString().slice(0, 16);
}
