// leader.js — 领导驾驶舱 (/leader; leader, admin): the big screen (designed for 1920×1080,
// usable at 1280×800).
//
//   live counts     today reported / registered / closed, open, 黄灯, 红灯, and 督办 levels
//   map             case density (choropleth: GET /api/dashboard/density?level=… over the grid
//                   layer by view, lib/grid_tiles.js: per community or street at low zoom, per
//                   unit grid from zoom 13), open cases as points coloured by light
//                   (GET /api/dashboard/cases.geojson); our own layers only, no tiles
//   rankings        departments by 按期结案率 with the indicator's definition beside the numbers,
//                   streets by open and overdue cases (GET /api/dashboard/summary)
//   charts          14-day trend (reported, closed) and this week's top subclasses, with ECharts
//   red cases       the overdue (红灯) cases; a click (here or on the map) opens 督办
//
// Live: EventSource("/api/dashboard/stream") sends `changed` with the small counts within about
// a second of a case change in the user's jurisdiction; the tiles update from the event at once,
// the rest (summary, density, points) reloads right after, at most every REFRESH_MS. The "实时"
// indicator shows the connection; a dropped stream reconnects (the browser retries by itself; a
// closed one is reopened here with a growing delay, after checking the session).
//
// 督办 (leader only, as the transition table says): normal / yellow card / red card with a note,
// POST /api/cases/{no}/actions {action: "supervise", payload: {level, note}, expected_version}.

import { getJSON, postJSON, query } from "../lib/api.js";
import { deadlineBadge, stateBadge } from "../lib/badges.js";
import { formatNumber, h, tx } from "../lib/dom.js";
import { bindForm, buttons, field, textarea } from "../lib/form.js";
import { label, language, t } from "../lib/i18n.js";
import { background, ensureECharts } from "../lib/lazy.js";
import { gridLevel, gridLoader } from "../lib/grid_tiles.js";
import { ensureMapLibre } from "../lib/maps.js";
import { showError, toast } from "../lib/notice.js";
import { formatDate, formatDateTime } from "../lib/time.js";

const KPIS = [
  ["today_reported", (c) => c.today.reported],
  ["today_registered", (c) => c.today.registered],
  ["today_closed", (c) => c.today.closed],
  ["open", (c) => c.open],
  ["yellow", (c) => c.yellow],
  ["red", (c) => c.red],
];
const SUPERVISION_LEVELS = ["normal", "yellow", "red"];
const METRICS = ["reported", "open", "overdue"];
const DENSITY_DAYS = 30;
const RED_LIST_MAX = 50;
/** Heavy reloads after stream events: at most this often. */
const REFRESH_MS = 5000;
/** Delays before reopening a stream the browser gave up on. */
const RECONNECT_MS = [1000, 2000, 5000, 10000, 30000];
const EMPTY = { type: "FeatureCollection", features: [] };

const COLORS = {
  background: "#0b1a2e",
  district: "#38bdf8",
  street: "#7dd3fc",
  gridLine: "#1e3a5f",
  // Density: an inferno-like ramp (dark purple → magenta → orange → yellow) that reads on the
  // dark screen and never passes through grey.
  zero: "#10233b",
  low: "#3b1c6e",
  mid: "#b5367a",
  midHigh: "#f0743a",
  high: "#fbd34d",
  green: "#22c55e",
  yellow: "#facc15",
  red: "#ef4444",
  none: "#94a3b8",
  text: "#cbd5e1",
  axis: "#475569",
  reported: "#38bdf8",
  closed: "#22c55e",
  bar: "#f59e0b",
};

const STYLE = {
  version: 8,
  name: "gridgov-leader",
  sources: {
    district: { type: "geojson", data: EMPTY },
    street: { type: "geojson", data: EMPTY },
    grid: { type: "geojson", data: EMPTY, promoteId: "code" },
    cases: { type: "geojson", data: EMPTY },
  },
  layers: [
    { id: "background", type: "background", paint: { "background-color": COLORS.background } },
    {
      id: "grid-fill",
      type: "fill",
      source: "grid",
      paint: {
        "fill-color": [
          "interpolate",
          ["linear"],
          ["coalesce", ["feature-state", "ratio"], 0],
          0,
          COLORS.zero,
          0.001,
          COLORS.low,
          0.35,
          COLORS.mid,
          0.7,
          COLORS.midHigh,
          1,
          COLORS.high,
        ],
        "fill-opacity": 0.78,
      },
    },
    {
      id: "grid-line",
      type: "line",
      source: "grid",
      paint: { "line-color": COLORS.gridLine, "line-width": 0.6 },
    },
    {
      id: "grid-selected",
      type: "line",
      source: "grid",
      filter: ["==", ["get", "code"], ""],
      paint: { "line-color": "#ffffff", "line-width": 2.5 },
    },
    {
      id: "street-line",
      type: "line",
      source: "street",
      paint: { "line-color": COLORS.street, "line-width": 1.4, "line-dasharray": [3, 2] },
    },
    {
      id: "district-line",
      type: "line",
      source: "district",
      paint: { "line-color": COLORS.district, "line-width": 2.5 },
    },
    {
      id: "case-point",
      type: "circle",
      source: "cases",
      paint: {
        "circle-radius": [
          "interpolate",
          ["linear"],
          ["zoom"],
          12,
          ["match", ["get", "light"], "red", 4, "yellow", 3, 2],
          17,
          ["match", ["get", "light"], "red", 10, "yellow", 8, 6],
        ],
        "circle-color": [
          "match",
          ["get", "light"],
          "red",
          COLORS.red,
          "yellow",
          COLORS.yellow,
          "green",
          COLORS.green,
          COLORS.none,
        ],
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": ["match", ["get", "light"], "red", 1.5, 0.8],
      },
    },
  ],
};

function percent(rate) {
  if (rate == null) return t("value.none");
  return new Intl.NumberFormat(language(), { style: "percent", maximumFractionDigits: 1 }).format(
    rate,
  );
}

/** The stream's counts and the summary's, in one shape. */
function countsOf(data) {
  return {
    today: data.today,
    open: data.open,
    yellow: data.lights ? data.lights.yellow : data.yellow,
    red: data.lights ? data.lights.red : data.red,
  };
}

export async function mount(ctx) {
  const canSupervise = ctx.user.role === "leader";
  const cache = { summary: null, density: null, cases: null, grids: null, level: "community" };
  const densities = {}; // level → the last density answer of that level
  let gridsLoader = null;
  const view = { metric: "reported", showCases: true, selectedGrid: null };
  let map = null; // set once the map's style has loaded (feature states need it)
  let charts = { trend: null, top: null };
  let chartsMissing = false; // ECharts is not built (or did not load): a note instead
  let lastRefresh = 0;
  let refreshTimer = null;
  let refreshing = null;
  let stream = null;
  let attempts = 0;
  let reconnectTimer = null;
  let firstSummary = true;
  const live = { state: "connecting", events: 0, lastEventAt: null, lastChangeAt: null };

  // --- layout -------------------------------------------------------------------------------

  const liveBox = h(
    "span",
    { class: "live", id: "live", role: "status", dataset: { live: "connecting" } },
    h("i", { class: "live-dot", "aria-hidden": "true" }),
    h("span", { class: "live-text" }, t("leader.live.connecting")),
  );
  const updated = h("span", { class: "ls-updated muted" });
  const kpiBox = h(
    "div",
    { class: "kpis" },
    ...KPIS.map(([key]) =>
      h(
        "div",
        { class: `kpi kpi-${key}`, dataset: { kpi: key } },
        h("span", { class: "kpi-label", "data-i18n": `leader.kpi.${key}` }, t(`leader.kpi.${key}`)),
        h("strong", { class: "kpi-value", dataset: { value: "" } }, t("value.none")),
      ),
    ),
    h(
      "div",
      { class: "kpi kpi-supervision", dataset: { kpi: "supervision" } },
      h(
        "span",
        { class: "kpi-label", "data-i18n": "leader.kpi.supervision" },
        t("leader.kpi.supervision"),
      ),
      h(
        "div",
        { class: "supervision-counts" },
        ...SUPERVISION_LEVELS.map((level) =>
          h(
            "span",
            { class: `card-count card-${level}`, dataset: { level } },
            h(
              "span",
              { "data-i18n": `supervision_level.${level}` },
              label("supervision_level", level),
            ),
            h("strong", { dataset: { value: "" } }, t("value.none")),
          ),
        ),
      ),
    ),
  );

  const rankingBody = h("tbody");
  const rankingFormula = h("p", { class: "formula" });
  const rankingPeriod = h("p", { class: "period muted" });
  const rankingDefinition = h("p", { class: "definition" });
  const rankingPanel = h(
    "section",
    { class: "panel ranking", id: "ranking" },
    h("h2", {}, tx("leader.ranking.title")),
    rankingFormula,
    rankingPeriod,
    h(
      "div",
      { class: "panel-scroll" },
      h(
        "table",
        { class: "rank-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...["rank", "department", "rate", "overdue_open"].map((c) =>
              h(
                "th",
                { scope: "col", "data-i18n": `leader.ranking.col.${c}` },
                t(`leader.ranking.col.${c}`),
              ),
            ),
          ),
        ),
        rankingBody,
      ),
    ),
    h(
      "details",
      { class: "definition-box" },
      h("summary", { "data-i18n": "leader.ranking.definition" }, t("leader.ranking.definition")),
      rankingDefinition,
    ),
  );

  const streetBody = h("tbody");
  const streetPanel = h(
    "section",
    { class: "panel streets", id: "streets" },
    h("h2", {}, tx("leader.streets.title")),
    h(
      "div",
      { class: "panel-scroll" },
      h(
        "table",
        { class: "rank-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...["street", "open", "overdue"].map((c) =>
              h(
                "th",
                { scope: "col", "data-i18n": `leader.streets.col.${c}` },
                t(`leader.streets.col.${c}`),
              ),
            ),
          ),
        ),
        streetBody,
      ),
    ),
  );

  const metricBar = h(
    "div",
    {
      class: "metric-switch",
      role: "group",
      "data-i18n-aria-label": "leader.map.metric",
      "aria-label": t("leader.map.metric"),
    },
    ...METRICS.map((m) =>
      h(
        "button",
        {
          type: "button",
          class: "metric",
          dataset: { metric: m },
          "aria-pressed": String(m === view.metric),
          onclick: () => {
            view.metric = m;
            drawDensity();
          },
        },
        tx(`leader.map.metric.${m}`, { days: DENSITY_DAYS }),
      ),
    ),
  );
  const casesToggle = h("input", {
    type: "checkbox",
    checked: true,
    onchange: () => {
      view.showCases = casesToggle.checked;
      if (map)
        map.setLayoutProperty("case-point", "visibility", view.showCases ? "visible" : "none");
    },
  });
  const legendMax = h("span", { class: "legend-max" }, "0");
  const legend = h(
    "div",
    { class: "legend" },
    h("span", { class: "legend-title" }),
    h(
      "div",
      { class: "legend-scale" },
      h("span", {}, "0"),
      h("i", { class: "legend-bar" }),
      legendMax,
    ),
    h(
      "div",
      { class: "legend-lights" },
      ...["red", "yellow", "green"].map((l) =>
        h(
          "span",
          { class: `legend-light light-dot-${l}` },
          h("i"),
          h("span", { "data-i18n": `light.${l}` }, label("light", l)),
        ),
      ),
    ),
  );
  const gridInfo = h("div", { class: "grid-info", hidden: true });
  const mapBox = h("div", { class: "ls-map-canvas", id: "leader-map" });
  const mapPanel = h(
    "section",
    { class: "panel ls-map" },
    h(
      "div",
      { class: "map-head" },
      h("h2", {}, tx("leader.map.title")),
      metricBar,
      h("label", { class: "cases-toggle" }, casesToggle, tx("leader.map.show_cases")),
    ),
    h("div", { class: "map-wrap" }, mapBox, legend, gridInfo),
  );

  const redCount = h("span", { class: "badge light-red red-total" }, "0");
  const redList = h("ol", { class: "red-list", id: "red-list" });
  const redPanel = h(
    "section",
    { class: "panel red-cases", id: "red-cases" },
    h("h2", {}, tx("leader.red.title"), " ", redCount),
    h("p", { class: "muted hint" }, tx(canSupervise ? "leader.red.hint" : "leader.red.hint_view")),
    h("div", { class: "panel-scroll" }, redList),
  );

  const trendBox = h("div", { class: "chart", id: "trend-chart" });
  const topBox = h("div", { class: "chart", id: "top-chart" });
  const topSince = h("span", { class: "muted period" });
  const trendPanel = h(
    "section",
    { class: "panel chart-panel", id: "trend" },
    h("h2", {}, tx("leader.trend.title")),
    trendBox,
  );
  const topPanel = h(
    "section",
    { class: "panel chart-panel", id: "top-subclasses" },
    h("h2", {}, tx("leader.top.title"), " ", topSince),
    topBox,
  );

  const dialog = h("dialog", { class: "supervise-dialog", id: "supervise-dialog" });

  const screen = h(
    "section",
    { class: "leader-screen" },
    h(
      "header",
      { class: "ls-head" },
      h("h1", { "data-i18n": "page.leader" }, t("page.leader")),
      liveBox,
      updated,
    ),
    kpiBox,
    h(
      "div",
      { class: "ls-body" },
      h("div", { class: "ls-col ls-left" }, rankingPanel, streetPanel),
      mapPanel,
      h("div", { class: "ls-col ls-right" }, redPanel, trendPanel, topPanel),
    ),
  );
  ctx.main.replaceChildren(screen, dialog);

  // --- live counts --------------------------------------------------------------------------

  function setLive(state) {
    live.state = state;
    liveBox.dataset.live = state;
    liveBox.querySelector(".live-text").textContent = t(`leader.live.${state}`);
  }

  function setUpdated(at) {
    updated.dataset.at = at || "";
    updated.textContent = at
      ? t("leader.updated", { time: formatDateTime(at, { seconds: true }) })
      : "";
  }

  function drawCounts(counts) {
    for (const [key, get] of KPIS) {
      const el = kpiBox.querySelector(`[data-kpi="${key}"] .kpi-value`);
      const value = get(counts);
      if (el.dataset.value !== String(value)) {
        const changed = el.dataset.value !== "";
        el.dataset.value = String(value);
        el.textContent = formatNumber(value);
        if (changed) {
          el.classList.remove("flash");
          void el.offsetWidth; // restart the animation
          el.classList.add("flash");
        }
      }
    }
  }

  function drawSupervision(levels) {
    for (const level of SUPERVISION_LEVELS) {
      const el = kpiBox.querySelector(`[data-level="${level}"] strong`);
      el.dataset.value = String(levels[level] || 0);
      el.textContent = formatNumber(levels[level] || 0);
    }
  }

  // --- rankings -----------------------------------------------------------------------------

  function drawRanking(ranking) {
    const en = language() !== "zh-CN";
    rankingFormula.textContent = en
      ? ranking.definition_en.split(". ")[0] + "."
      : `${ranking.name} = ${ranking.formula}`;
    rankingDefinition.textContent = en ? ranking.definition_en : ranking.definition;
    rankingPeriod.textContent = t("leader.ranking.period", {
      since: formatDate(ranking.since),
      until: formatDate(ranking.until),
    });
    rankingBody.replaceChildren(
      ...ranking.items.map((item) =>
        h(
          "tr",
          { dataset: { department: item.department_code } },
          h("td", { class: "rank" }, String(item.rank)),
          h("td", { class: "name" }, item.department_name || item.department_code),
          h(
            "td",
            {
              class: "rate",
              title: t("leader.ranking.rate_title", { on_time: item.on_time, due: item.due }),
            },
            h("span", { class: "rate-value" }, percent(item.rate)),
            h("span", { class: "rate-parts" }, `${formatNumber(item.on_time)} / ${formatNumber(item.due)}`),
            h("span", { class: "rate-bar", style: `--rate:${(item.rate || 0) * 100}%` }),
          ),
          h("td", { class: "num" }, formatNumber(item.overdue_open)),
        ),
      ),
    );
    if (!ranking.items.length) {
      rankingBody.append(h("tr", {}, h("td", { colspan: "4", class: "muted" }, t("leader.empty"))));
    }
  }

  function drawStreets(streets) {
    streetBody.replaceChildren(
      ...streets.map((s) =>
        h(
          "tr",
          { dataset: { street: s.code } },
          h("td", { class: "name" }, s.name || s.code),
          h("td", { class: "num" }, formatNumber(s.open)),
          h("td", { class: `num${s.overdue ? " overdue" : ""}` }, formatNumber(s.overdue)),
        ),
      ),
    );
    if (!streets.length) {
      streetBody.append(h("tr", {}, h("td", { colspan: "3", class: "muted" }, t("leader.empty"))));
    }
  }

  // --- red cases ----------------------------------------------------------------------------

  function drawRedCases(collection) {
    const red = collection.features.filter((f) => f.properties.light === "red");
    redCount.textContent = formatNumber(cache.summary ? cache.summary.lights.red : red.length);
    redList.replaceChildren(
      ...red.slice(0, RED_LIST_MAX).map((f) => {
        const p = f.properties;
        return h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "red-case",
              dataset: { caseNo: p.case_no },
              onclick: () => openSupervise(p.case_no),
            },
            h("span", { class: "case-no" }, p.case_no),
            h("span", { class: "red-subclass" }, p.subclass || p.subclass_code),
            h("span", { class: "red-state" }, label("state", p.state)),
            h("span", { class: "code" }, p.grid_code),
          ),
        );
      }),
    );
    if (!red.length) redList.append(h("li", { class: "muted" }, t("leader.red.none")));
  }

  // --- charts -------------------------------------------------------------------------------

  function chartText() {
    return { color: COLORS.text, fontSize: 12 };
  }

  /** ECharts after the first view (it is a megabyte of script); the charts follow. */
  async function startCharts() {
    const missing = (ctx.config.missing_vendor || []).some((f) => f.startsWith("echarts"));
    try {
      if (missing) throw new Error("echarts is not built");
      await ensureECharts();
    } catch {
      chartsMissing = true; // the shell already said which vendor file is missing
    }
    if (cache.summary) drawCharts(cache.summary);
    resizeCharts();
  }

  function drawCharts(summary) {
    const echarts = window.echarts;
    if (!echarts) {
      if (!chartsMissing) return; // still loading: drawn when it is there
      for (const box of [trendBox, topBox]) {
        box.replaceChildren(h("p", { class: "muted chart-missing" }, t("leader.chart.missing")));
      }
      return;
    }
    if (!charts.trend) charts.trend = echarts.init(trendBox, null, { renderer: "canvas" });
    if (!charts.top) charts.top = echarts.init(topBox, null, { renderer: "canvas" });
    const days = summary.trend.map((d) => d.day.slice(5).replace("-", "/"));
    charts.trend.setOption(
      {
        animation: false,
        grid: { left: 36, right: 12, top: 30, bottom: 24 },
        legend: {
          top: 0,
          textStyle: chartText(),
          data: [t("leader.trend.reported"), t("leader.trend.closed")],
        },
        // Canvas tooltips: names from the database never become HTML.
        tooltip: { trigger: "axis", renderMode: "richText" },
        xAxis: {
          type: "category",
          data: days,
          axisLabel: chartText(),
          axisLine: { lineStyle: { color: COLORS.axis } },
        },
        yAxis: {
          type: "value",
          minInterval: 1,
          axisLabel: chartText(),
          splitLine: { lineStyle: { color: "#1e293b" } },
        },
        series: [
          {
            name: t("leader.trend.reported"),
            type: "line",
            smooth: true,
            data: summary.trend.map((d) => d.reported),
            itemStyle: { color: COLORS.reported },
            areaStyle: { opacity: 0.12 },
          },
          {
            name: t("leader.trend.closed"),
            type: "line",
            smooth: true,
            data: summary.trend.map((d) => d.closed),
            itemStyle: { color: COLORS.closed },
          },
        ],
      },
      true,
    );
    const items = [...summary.top_subclasses.items].reverse();
    charts.top.setOption(
      {
        animation: false,
        grid: { left: 8, right: 36, top: 8, bottom: 8, containLabel: true },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
        xAxis: {
          type: "value",
          minInterval: 1,
          axisLabel: chartText(),
          splitLine: { lineStyle: { color: "#1e293b" } },
        },
        yAxis: {
          type: "category",
          data: items.map((i) => i.name || i.code),
          axisLabel: { ...chartText(), width: 110, overflow: "truncate" },
          axisLine: { lineStyle: { color: COLORS.axis } },
        },
        series: [
          {
            name: t("leader.top.count"),
            type: "bar",
            data: items.map((i) => i.count),
            itemStyle: { color: COLORS.bar, borderRadius: [0, 3, 3, 0] },
            label: { show: true, position: "right", color: COLORS.text },
          },
        ],
      },
      true,
    );
    topSince.textContent = t("leader.top.since", {
      since: formatDate(summary.top_subclasses.since),
    });
  }

  function resizeCharts() {
    charts.trend?.resize();
    charts.top?.resize();
  }

  // --- map ----------------------------------------------------------------------------------

  /** The map, after the first view: MapLibre, the outlines, then the district's grids (the
   * biggest download of the screen) for the density colours. */
  async function buildMap() {
    const [maplibregl, extent, district, street] = await Promise.all([
      ensureMapLibre(),
      getJSON("/api/map/extent"),
      getJSON(`/api/regions.geojson${query({ level: "district" })}`),
      getJSON(`/api/regions.geojson${query({ level: "street" })}`),
    ]);
    const camera =
      extent && extent.bbox
        ? { bounds: extent.bbox, fitBoundsOptions: { padding: 24 } }
        : { center: [116.4074, 39.9042], zoom: 12 };
    const m = new maplibregl.Map({
      container: mapBox,
      style: structuredClone(STYLE),
      ...camera,
      maxZoom: 19,
      dragRotate: false,
      pitchWithRotate: false,
      touchPitch: false,
      attributionControl: false,
    });
    m.touchZoomRotate.disableRotation();
    m.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    await new Promise((resolve) => m.once("load", resolve));
    map = m;
    window.gridgov.map = map;
    map.getSource("district").setData(district);
    map.getSource("street").setData(street);
    for (const layer of ["case-point", "grid-fill"]) {
      map.on("mouseenter", layer, () => {
        map.getCanvas().style.cursor = "pointer";
      });
      map.on("mouseleave", layer, () => {
        map.getCanvas().style.cursor = "";
      });
    }
    map.on("click", (e) => {
      const hit = map.queryRenderedFeatures(e.point, { layers: ["case-point"] });
      if (hit.length) {
        const red = hit.find((f) => f.properties.light === "red") || hit[0];
        openSupervise(red.properties.case_no);
        return;
      }
      const grid = map.queryRenderedFeatures(e.point, { layers: ["grid-fill"] })[0];
      selectGrid(grid ? grid.properties : null);
    });
    drawCases();
    gridsLoader = gridLoader({
      minLevel: "community",
      onError: showError,
      onData: async (collection, level) => {
        cache.grids = collection;
        cache.level = level;
        map.getSource("grid").setData(collection);
        if (!densities[level]) await loadDensity(level);
        drawDensity();
      },
    });
    map.on("moveend", () => gridsLoader.schedule(map));
    await gridsLoader.refresh(map);
    await new Promise((resolve) => (map.loaded() ? resolve() : map.once("idle", resolve)));
  }

  function drawDensity() {
    for (const button of metricBar.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.dataset.metric === view.metric));
    }
    legend.querySelector(".legend-title").textContent = t(`leader.map.metric.${view.metric}`, {
      days: DENSITY_DAYS,
    });
    const density = densities[cache.level];
    if (!map || !density || !cache.grids) return;
    const max = density.max[view.metric] || 0;
    legendMax.textContent = formatNumber(max);
    for (const f of cache.grids.features) {
      const code = f.properties.code;
      const counts = density.grids[code];
      const value = counts ? counts[view.metric] : 0;
      map.setFeatureState({ source: "grid", id: code }, { value, ratio: max ? value / max : 0 });
    }
    if (view.selectedGrid) selectGrid(view.selectedGrid);
  }

  function selectGrid(props) {
    view.selectedGrid = props;
    map.setFilter("grid-selected", ["==", ["get", "code"], props ? props.code : ""]);
    if (!props) {
      gridInfo.hidden = true;
      return;
    }
    const density = densities[cache.level];
    const counts = (density && density.grids[props.code]) || {
      reported: 0,
      open: 0,
      overdue: 0,
    };
    gridInfo.hidden = false;
    gridInfo.replaceChildren(
      h("strong", {}, props.name || props.code),
      h("span", { class: "code" }, props.code),
      ...METRICS.map((m) =>
        h(
          "span",
          { class: "grid-count", dataset: { metric: m } },
          t(`leader.map.metric.${m}`, { days: DENSITY_DAYS }),
          " ",
          h("strong", {}, formatNumber(counts[m])),
        ),
      ),
    );
  }

  function drawCases() {
    if (map && cache.cases) map.getSource("cases").setData(cache.cases);
  }

  // --- loading ------------------------------------------------------------------------------

  async function loadData() {
    const level = map ? gridLevel(Math.max(map.getZoom(), 11)) : cache.level;
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
    const density = await getJSON(
      `/api/dashboard/density${query({ days: DENSITY_DAYS, level })}`,
    );
    for (const key of Object.keys(densities)) delete densities[key]; // older levels are stale
    densities[level] = density;
    if (level === "grid" || !cache.density) cache.density = density;
    return density;
  }

  function drawAll() {
    const summary = cache.summary;
    if (!summary) return;
    drawCounts(countsOf(summary));
    drawSupervision(summary.supervision);
    setUpdated(summary.at);
    drawRanking(summary.ranking);
    drawStreets(summary.streets);
    drawCharts(summary);
    drawDensity();
    drawCases();
    if (cache.cases) drawRedCases(cache.cases);
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

  // --- the stream ---------------------------------------------------------------------------

  function onCounts(name, event) {
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
    drawCounts(countsOf(data));
    setUpdated(data.at);
    if (name === "changed") {
      live.lastChangeAt = performance.now();
      scheduleRefresh();
    } else if (!firstSummary) {
      scheduleRefresh(); // back after a break: what changed meanwhile
    }
    firstSummary = false;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    stream?.close();
    const es = new EventSource("/api/dashboard/stream");
    stream = es;
    es.addEventListener("summary", (e) => onCounts("summary", e));
    es.addEventListener("changed", (e) => onCounts("changed", e));
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
    clearTimeout(refreshTimer);
  }

  // --- 督办 -----------------------------------------------------------------------------------

  let dialogCase = null;
  let dialogForm = null;

  function latestSupervision(detail) {
    const events = detail.events.filter((e) => e.action === "supervise");
    return events.length ? events[events.length - 1] : null;
  }

  async function openSupervise(caseNo) {
    let detail;
    try {
      detail = await getJSON(`/api/cases/${encodeURIComponent(caseNo)}`);
    } catch (err) {
      showError(err);
      return;
    }
    dialogCase = detail;
    drawDialog();
    if (!dialog.open) dialog.showModal();
  }

  function closeDialog() {
    dialogForm?.destroy();
    dialogForm = null;
    dialogCase = null;
    if (dialog.open) dialog.close();
  }

  function drawDialog() {
    const detail = dialogCase;
    dialogForm?.destroy();
    dialogForm = null;
    const last = latestSupervision(detail);
    const allowed = detail.allowed_actions.includes("supervise");
    const running = detail.deadlines.filter((d) => !d.stopped_at);
    const point = cache.cases?.features.find((f) => f.properties.case_no === detail.case_no);
    const subclass = point && point.properties.subclass;
    const departments = new Map((cache.summary?.departments || []).map((d) => [d.code, d.name]));
    const department = detail.department_code
      ? `${departments.get(detail.department_code) || ""} ${detail.department_code}`.trim()
      : t("value.none");
    const facts = h(
      "dl",
      { class: "case-facts" },
      h("dt", {}, tx("leader.supervise.subclass")),
      h("dd", {}, subclass ? `${subclass} ${detail.subclass_code}` : detail.subclass_code),
      h("dt", {}, tx("leader.supervise.grid")),
      h("dd", { class: "code" }, detail.grid_code),
      h("dt", {}, tx("leader.supervise.department")),
      h("dd", {}, department),
      h("dt", {}, tx("leader.supervise.deadlines")),
      h(
        "dd",
        { class: "dialog-deadlines" },
        ...running.map((d) => deadlineBadge(d)),
        running.length ? null : t("value.none"),
      ),
      h("dt", {}, tx("leader.supervise.reported_at")),
      h("dd", {}, formatDateTime(detail.reported_at)),
      h("dt", {}, tx("leader.supervise.current")),
      h(
        "dd",
        { class: "current-level", dataset: { level: last ? last.payload.level : "" } },
        last
          ? `${label("supervision_level", last.payload.level)} · ${formatDateTime(last.at)}`
          : t("leader.supervise.never"),
      ),
    );
    let body;
    if (allowed) {
      const radios = SUPERVISION_LEVELS.map((level, i) =>
        h(
          "label",
          { class: `level-option level-${level}` },
          h("input", {
            type: "radio",
            name: "level",
            value: level,
            required: i === 0,
            dataset: { labelKey: "leader.supervise.level" },
          }),
          h(
            "span",
            { "data-i18n": `supervision_level.${level}` },
            label("supervision_level", level),
          ),
        ),
      );
      const form = h(
        "form",
        { class: "supervise-form", id: "supervise-form" },
        h(
          "div",
          { class: "field required", dataset: { field: "level" } },
          h(
            "span",
            { class: "field-label", "data-i18n": "leader.supervise.level" },
            t("leader.supervise.level"),
          ),
          h("div", { class: "level-options" }, ...radios),
        ),
        field(
          "leader.supervise.note",
          textarea("note", { rows: 3, maxlength: "2000", labelKey: "leader.supervise.note" }),
          { hint: "leader.supervise.note_hint" },
        ),
        buttons("leader.supervise.submit", { cancel: closeDialog }),
      );
      body = form;
      dialogForm = bindForm(form, {
        draft: `supervise-${detail.case_no}`,
        submit: async (values) => {
          const payload = { level: values.level };
          const note = (values.note || "").trim();
          if (note) payload.note = note;
          try {
            return await postJSON(`/api/cases/${encodeURIComponent(detail.case_no)}/actions`, {
              action: "supervise",
              payload,
              expected_version: detail.version,
            });
          } catch (err) {
            if (err && err.status === 409) {
              // Someone acted on the case meanwhile: take its new version, keep what was typed.
              try {
                const fresh = await getJSON(`/api/cases/${encodeURIComponent(detail.case_no)}`);
                detail.version = fresh.version;
              } catch {
                // The refusal below says enough.
              }
            }
            throw err;
          }
        },
        onSuccess: (result, values) => {
          toast(
            t("leader.supervise.done", {
              level: label("supervision_level", values.level),
              case_no: result.case_no,
            }),
            { kind: "success" },
          );
          closeDialog();
          scheduleRefresh();
        },
      });
    } else {
      body = h(
        "p",
        { class: "muted not-allowed" },
        tx(canSupervise ? "leader.supervise.not_now" : "leader.supervise.leader_only"),
      );
    }
    dialog.replaceChildren(
      h(
        "div",
        { class: "dialog-head" },
        h(
          "h2",
          {},
          tx("action.supervise"),
          " ",
          h(
            "a",
            { class: "case-no", href: `/case/${encodeURIComponent(detail.case_no)}` },
            detail.case_no,
          ),
          stateBadge(detail.state),
        ),
        h(
          "button",
          {
            type: "button",
            class: "close",
            "aria-label": t("error.dismiss"),
            onclick: closeDialog,
          },
          "×",
        ),
      ),
      detail.description ? h("p", { class: "case-description" }, detail.description) : null,
      facts,
      body,
    );
  }

  dialog.addEventListener("close", () => {
    dialogForm?.destroy();
    dialogForm = null;
    dialogCase = null;
  });

  // --- start --------------------------------------------------------------------------------

  ctx.onLanguage(() => {
    setLive(live.state);
    if (cache.summary) setUpdated(cache.summary.at);
    drawAll();
    if (dialogCase) drawDialog();
  });
  window.addEventListener("resize", resizeCharts);
  window.addEventListener("pagehide", () => {
    disconnect();
    gridsLoader?.destroy();
  });

  window.gridgov.leader = {
    live,
    view,
    cache,
    densities,
    grids: () => gridsLoader,
    refresh: () => loadData(),
    openSupervise,
    reconnect: connect,
  };

  connect();
  // Usable first: the counts, rankings and red cases from the API; the map and the charts
  // load after the first paint (lib/lazy.js), still counted by window.gridgov.settled().
  try {
    await loadData();
  } catch (err) {
    showError(err);
  }
  background(startCharts);
  background(buildMap);
}
