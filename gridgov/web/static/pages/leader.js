// leader.js — 领导驾驶舱 (/leader; leader, admin): the big screen (designed for 1920×1080,
// usable at 1280×800).
//
//   live counts     today reported / registered / closed, open, 黄灯, 红灯, and 督办 levels
//                   (leader_panels.js)
//   map             case density (choropleth: GET /api/dashboard/density?level=… over the grid
//                   layer by view, lib/grid_tiles.js: per community or street at low zoom, per
//                   unit grid from zoom 13), open cases as points coloured by light
//                   (GET /api/dashboard/cases.geojson); our own layers only, no tiles
//                   (leader_map.js)
//   rankings        departments by 按期结案率 with the indicator's definition beside the numbers,
//                   streets by open and overdue cases (GET /api/dashboard/summary)
//   charts          14-day trend (reported, closed) and this week's top subclasses, with ECharts
//                   (leader_charts.js)
//   red cases       the overdue (红灯) cases; a click (here or on the map) opens 督办
//
// Live (leader_live.js): EventSource("/api/dashboard/stream") sends `changed` with the small
// counts within about a second of a case change in the user's jurisdiction; the tiles update
// from the event at once, the rest (summary, density, points) reloads right after, at most every
// REFRESH_MS. The "实时" indicator shows the connection; a dropped stream reconnects (the browser
// retries by itself; a closed one is reopened with a growing delay, after checking the session).
//
// 督办 (leader only, as the transition table says; leader_supervise.js): normal / yellow card /
// red card with a note, POST /api/cases/{no}/actions {action: "supervise", payload: {level,
// note}, expected_version}.

import { getJSON, query } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { background } from "../lib/lazy.js";
import { showError } from "../lib/notice.js";
import { leaderCharts } from "./leader_charts.js";
import { leaderLive } from "./leader_live.js";
import { DENSITY_DAYS, leaderMap } from "./leader_map.js";
import { countsOf, leaderPanels } from "./leader_panels.js";
import { leaderSupervise } from "./leader_supervise.js";

/** Heavy reloads after stream events: at most this often. */
const REFRESH_MS = 5000;

export async function mount(ctx) {
  const canSupervise = ctx.user.role === "leader";
  const cache = { summary: null, density: null, cases: null, grids: null, level: "community" };
  const densities = {}; // level → the last density answer of that level
  const view = { metric: "reported", showCases: true, selectedGrid: null };
  let lastRefresh = 0;
  let refreshTimer = null;
  let refreshing = null;

  const openSupervise = (caseNo) => supervise.open(caseNo);
  const supervise = leaderSupervise({ cache, canSupervise, onDone: () => scheduleRefresh() });
  const panels = leaderPanels({ cache, canSupervise, onCase: openSupervise });
  const mapView = leaderMap({ cache, densities, view, loadDensity, onCase: openSupervise });
  const charts = leaderCharts({ ctx, cache });
  const stream = leaderLive({
    onCounts: (data) => {
      panels.drawCounts(countsOf(data));
      panels.setUpdated(data.at);
    },
    onStale: () => scheduleRefresh(),
  });

  // --- layout -------------------------------------------------------------------------------

  const screen = h(
    "section",
    { class: "leader-screen" },
    h(
      "header",
      { class: "ls-head" },
      h("h1", { "data-i18n": "page.leader" }, t("page.leader")),
      stream.box,
      panels.updated,
    ),
    panels.kpiBox,
    h(
      "div",
      { class: "ls-body" },
      h("div", { class: "ls-col ls-left" }, panels.rankingPanel, panels.streetPanel),
      mapView.panel,
      h("div", { class: "ls-col ls-right" }, panels.redPanel, charts.trendPanel, charts.topPanel),
    ),
  );
  ctx.main.replaceChildren(screen, supervise.dialog);

  // --- loading ------------------------------------------------------------------------------

  async function loadData() {
    const level = mapView.level();
    const [summary, , cases] = await Promise.all([
      getJSON("/api/dashboard/summary"),
      loadDensity(level),
      getJSON("/api/dashboard/cases.geojson"),
    ]);
    cache.summary = summary;
    cache.cases = cases;
    lastRefresh = Date.now();
    drawAll();
  }

  /** Case counts per unit grid, or summed per community (the map's level). */
  async function loadDensity(level) {
    const density = await getJSON(`/api/dashboard/density${query({ days: DENSITY_DAYS, level })}`);
    for (const key of Object.keys(densities)) delete densities[key]; // older levels are stale
    densities[level] = density;
    if (level === "grid" || !cache.density) cache.density = density;
    return density;
  }

  function drawAll() {
    const summary = cache.summary;
    if (!summary) return;
    panels.drawCounts(countsOf(summary));
    panels.drawSupervision(summary.supervision);
    panels.setUpdated(summary.at);
    panels.drawRanking(summary.ranking);
    panels.drawStreets(summary.streets);
    charts.draw(summary);
    mapView.drawDensity();
    mapView.drawCases();
    if (cache.cases) panels.drawRedCases(cache.cases);
  }

  /** Reload summary, density and points now, or as soon as REFRESH_MS has passed. */
  function scheduleRefresh() {
    if (refreshTimer) return;
    const wait = Math.max(0, lastRefresh + REFRESH_MS - Date.now());
    refreshTimer = setTimeout(async () => {
      refreshTimer = null;
      if (refreshing) {
        scheduleRefresh();
        return;
      }
      refreshing = loadData()
        .catch(showError)
        .finally(() => {
          refreshing = null;
        });
    }, wait);
  }

  // --- start --------------------------------------------------------------------------------

  ctx.onLanguage(() => {
    stream.relabel();
    if (cache.summary) panels.setUpdated(cache.summary.at);
    drawAll();
    supervise.relabel();
  });
  window.addEventListener("resize", charts.resize);
  window.addEventListener("pagehide", () => {
    stream.disconnect();
    clearTimeout(refreshTimer);
    mapView.destroy();
  });

  window.gridgov.leader = {
    live: stream.live,
    view,
    cache,
    densities,
    grids: mapView.loader,
    refresh: () => loadData(),
    openSupervise,
    reconnect: stream.connect,
  };

  stream.connect();
  // Usable first: the counts, rankings and red cases from the API; the map and the charts
  // load after the first paint (lib/lazy.js), still counted by window.gridgov.settled().
  try {
    await loadData();
  } catch (err) {
    showError(err);
  }
  background(charts.start);
  background(mapView.build);
}
