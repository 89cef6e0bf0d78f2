// leader_live.js — the cockpit's live connection (领导驾驶舱, pages/leader.js):
// EventSource("/api/dashboard/stream") sends `summary` on connecting and `changed` with the
// small counts within about a second of a case change in the user's jurisdiction. The "实时"
// indicator shows the connection; a dropped stream reconnects (the browser retries by itself; a
// closed one is reopened here with a growing delay, after checking the session).

import { getJSON } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

/** Delays before reopening a stream the browser gave up on. */
const RECONNECT_MS = [1000, 2000, 5000, 10000, 30000];

/**
 * The stream and its indicator. `onCounts(data)` with every event's counts; `onStale()` when
 * the rest of the screen should reload: after a `changed`, or a `summary` after a break.
 */
export function leaderLive({ onCounts, onStale }) {
  let stream = null;
  let attempts = 0;
  let reconnectTimer = null;
  let firstSummary = true;
  const live = { state: "connecting", events: 0, lastEventAt: null, lastChangeAt: null };

  const box = h(
    "span",
    { class: "live", id: "live", role: "status", dataset: { live: "connecting" } },
    h("i", { class: "live-dot", "aria-hidden": "true" }),
    h("span", { class: "live-text" }, t("leader.live.connecting")),
  );

  function setLive(state) {
    live.state = state;
    box.dataset.live = state;
    box.querySelector(".live-text").textContent = t(`leader.live.${state}`);
  }

  function onEvent(name, event) {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    live.events += 1;
    live.lastEventAt = performance.now();
    setLive("live");
    attempts = 0;
    onCounts(data);
    if (name === "changed") {
      live.lastChangeAt = performance.now();
      onStale();
    } else if (!firstSummary) {
      onStale(); // back after a break: what changed meanwhile
    }
    firstSummary = false;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    stream?.close();
    const es = new EventSource("/api/dashboard/stream");
    stream = es;
    es.addEventListener("summary", (e) => onEvent("summary", e));
    es.addEventListener("changed", (e) => onEvent("changed", e));
    es.addEventListener("reconnect", () => setLive("reconnecting"));
    es.onopen = () => setLive("live");
    es.onerror = () => {
      if (stream !== es) return;
      setLive("reconnecting");
      // CONNECTING: the browser retries by itself (the server's `retry`). CLOSED: it gave up
      // (an error status, e.g. the session expired): check the session, then reopen.
      if (es.readyState === EventSource.CLOSED) scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (reconnectTimer) return;
    const delay = RECONNECT_MS[Math.min(attempts, RECONNECT_MS.length - 1)];
    attempts += 1;
    reconnectTimer = setTimeout(async () => {
      reconnectTimer = null;
      try {
        await getJSON("/api/auth/me"); // a dead session goes to the login page from here
      } catch (err) {
        if (err && err.redirecting) return;
        scheduleReconnect();
        return;
      }
      connect();
    }, delay);
  }

  function disconnect() {
    stream?.close();
    stream = null;
    clearTimeout(reconnectTimer);
  }

  return {
    live,
    box,
    connect,
    disconnect,
    /** Relabel the indicator (after a language switch). */
    relabel: () => setLive(live.state),
  };
}
