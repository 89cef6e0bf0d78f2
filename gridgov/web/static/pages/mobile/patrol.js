// patrol.js — the 巡查 tab of the supervisor's phone app: start / stop a patrol; while on, the
// phone's fixes go up in batches every PATROL.everyMs (POST /api/patrol/{id}/positions through
// the outbox, idempotent per fix time).

import { getJSON, postJSON } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { showError, toast } from "../../lib/notice.js";
import { formatDateTime } from "../../lib/time.js";
import { temporary, writeStore } from "./util.js";

/** Patrol settings (tests shorten everyMs before pressing start). */
export const PATROL = { everyMs: 30_000, minGapMs: 5_000, maxBatch: 200 };

/**
 * The 巡查 tab in app.panels.patrol. `app`: {geo, outbox, tab, panels, patrolKey}.
 * Returns {draw, sent(item, result), stopped(result), resume(), shown(), patrol, tick}.
 */
export function patrolView(app) {
  const geo = app.geo;
  const patrolKey = app.patrolKey;
  const status = h("p", { class: "m-patrol-status", "aria-live": "polite" });
  const facts = h("dl", { class: "m-patrol-facts" });
  const toggle = h("button", { type: "button", class: "primary m-patrol-toggle" });
  const hint = h("p", { class: "muted m-patrol-hint" });
  const box = h("div", { class: "m-patrol-card card", dataset: { state: "off" } }, status, facts, toggle, hint);
  app.panels.patrol.append(h("h1", { "data-i18n": "mobile.patrol.title" }, t("mobile.patrol.title")), box);
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
    return app.outbox
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
      await app.outbox.add({
        kind: "positions",
        key: `positions:${patrol.id}:${batch[0].at}`,
        patrol_id: patrol.id,
        positions: batch,
        label: t("mobile.patrol.batch_label", { n: batch.length }),
      });
    }
    draw();
    await app.outbox.flush();
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
      await app.outbox.add({ kind: "patrol_stop", key: `patrol_stop:${id}`, patrol_id: id, label: `#${id}` });
      await app.outbox.flush();
      const left = app.outbox.pending().some((i) => i.kind === "patrol_stop" && i.patrol_id === id);
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
    if (app.tab === "patrol") draw();
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
}
