// leader_panels.js — the cockpit's numbers (领导驾驶舱, pages/leader.js): the live counts
// (today reported / registered / closed, open, 黄灯, 红灯, and 督办 levels), the rankings
// (departments by 按期结案率 with the indicator's definition beside the numbers, streets by open
// and overdue cases; GET /api/dashboard/summary) and the red (overdue) cases.

import { formatNumber, h, tx } from "../lib/dom.js";
import { label, language, t } from "../lib/i18n.js";
import { formatDate, formatDateTime } from "../lib/time.js";

const KPIS = [
  ["today_reported", (c) => c.today.reported],
  ["today_registered", (c) => c.today.registered],
  ["today_closed", (c) => c.today.closed],
  ["open", (c) => c.open],
  ["yellow", (c) => c.yellow],
  ["red", (c) => c.red],
];
export const SUPERVISION_LEVELS = ["normal", "yellow", "red"];
const RED_LIST_MAX = 50;

function percent(rate) {
  if (rate == null) return t("value.none");
  return new Intl.NumberFormat(language(), { style: "percent", maximumFractionDigits: 1 }).format(
    rate,
  );
}

/** The stream's counts and the summary's, in one shape. */
export function countsOf(data) {
  return {
    today: data.today,
    open: data.open,
    yellow: data.lights ? data.lights.yellow : data.yellow,
    red: data.lights ? data.lights.red : data.red,
  };
}

/**
 * The counts, rankings and red-case panels. `cache.summary` is the page's last summary;
 * `onCase(caseNo)` opens a case (督办); `canSupervise` chooses the red list's hint.
 */
export function leaderPanels({ cache, canSupervise, onCase }) {
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

  const redCount = h("span", { class: "badge light-red red-total" }, "0");
  const redList = h("ol", { class: "red-list", id: "red-list" });
  const redPanel = h(
    "section",
    { class: "panel red-cases", id: "red-cases" },
    h("h2", {}, tx("leader.red.title"), " ", redCount),
    h("p", { class: "muted hint" }, tx(canSupervise ? "leader.red.hint" : "leader.red.hint_view")),
    h("div", { class: "panel-scroll" }, redList),
  );

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
            h(
              "span",
              { class: "rate-parts" },
              `${formatNumber(item.on_time)} / ${formatNumber(item.due)}`,
            ),
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
              onclick: () => onCase(p.case_no),
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

  return {
    updated,
    kpiBox,
    rankingPanel,
    streetPanel,
    redPanel,
    setUpdated,
    drawCounts,
    drawSupervision,
    drawRanking,
    drawStreets,
    drawRedCases,
  };
}
