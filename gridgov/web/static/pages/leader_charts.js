// leader_charts.js — the cockpit's charts (领导驾驶舱, pages/leader.js), with ECharts: the
// 14-day trend (reported, closed) and this week's top subclasses (GET /api/dashboard/summary).
// ECharts (a megabyte of script) loads after the first view.

import { h, tx } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { ensureECharts } from "../lib/lazy.js";
import { formatDate } from "../lib/time.js";

const COLORS = {
  text: "#cbd5e1",
  axis: "#475569",
  reported: "#38bdf8",
  closed: "#22c55e",
  bar: "#f59e0b",
};

function chartText() {
  return { color: COLORS.text, fontSize: 12 };
}

/** The trend and top-subclass panels; `cache.summary` is the page's last summary. */
export function leaderCharts({ ctx, cache }) {
  const charts = { trend: null, top: null };
  let chartsMissing = false; // ECharts is not built (or did not load): a note instead

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

  return { trendPanel, topPanel, start: startCharts, draw: drawCharts, resize: resizeCharts };
}
