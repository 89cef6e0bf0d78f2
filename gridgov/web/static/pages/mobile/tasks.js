// tasks.js — the 任务 tab of the supervisor's phone app: my 核实 (verify) and 核查 (check) tasks,
// the cases whose current verification or check is assigned to me (GET
// /api/cases/board/list?assigned_to_me=true, one request); a list sorted by straight-line
// distance from my position and a map with a line from me to each; each opens a compact result
// form (pages/mobile/task_form.js).

import { getJSON, query } from "../../lib/api.js";
import { lightBadge, urgencyBadge, worstLight } from "../../lib/badges.js";
import { h } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { districtExtent, pointMap } from "../../lib/maps.js";
import { showError } from "../../lib/notice.js";
import { taskForm } from "./task_form.js";
import { distanceM, formatDistance, temporary } from "./util.js";

/**
 * The 任务 tab in app.panels.tasks. `app`: {geo, outbox, tab, tabButtons, panels}.
 * Returns {done, load, lineData, redraw(), markPending(), shown()}.
 */
export function taskView(app) {
  const geo = app.geo;
  const countBadge = app.tabButtons.tasks.querySelector(".m-tab-count");
  const refresh = h(
    "button",
    { type: "button", class: "secondary m-refresh", "data-i18n": "mobile.tasks.refresh" },
    t("mobile.tasks.refresh"),
  );
  const summary = h("p", { class: "muted m-tasks-summary" });
  const mapBox = h("div", { class: "m-map m-task-map" });
  const list = h("ul", { class: "m-task-list" });
  const formBox = h("div", { class: "m-task-form-box", hidden: true });
  const listBox = h("div", { class: "m-task-list-box" }, mapBox, summary, list);
  app.panels.tasks.append(
    h(
      "div",
      { class: "m-head" },
      h("h1", { "data-i18n": "mobile.tasks.title" }, t("mobile.tasks.title")),
      refresh,
    ),
    listBox,
    formBox,
  );
  let tasks = [];
  let loaded = false;
  let loading = null;
  let small = null;
  let mapPromise = null;
  let openNo = null;
  let openForm = null;

  /** My own 核实 / 核查 tasks in one request: the board's `assigned_to_me` filter returns
   * the cases whose current verification or check is assigned to me. */
  async function myTasks() {
    const list = await getJSON(
      `/api/cases/board/list${query({ assigned_to_me: true, limit: 200, order: "oldest" })}`,
    );
    return (list.items || []).map((item) => ({
      ...item,
      detail: item,
      kind: item.state === "verifying" ? "verify" : "check",
    }));
  }

  async function load() {
    if (loading) return loading;
    refresh.disabled = true;
    summary.textContent = t("status.loading");
    loading = (async () => {
      try {
        tasks = await myTasks();
        loaded = true;
      } catch (err) {
        if (temporary(err)) summary.textContent = t("mobile.tasks.offline");
        else showError(err);
        return;
      } finally {
        refresh.disabled = false;
        loading = null;
      }
      draw();
    })();
    return loading;
  }

  function here() {
    const f = geo.state.fix;
    return f ? [f.lon, f.lat] : null;
  }

  function queuedNos() {
    return new Set(app.outbox.pending().filter((i) => i.kind === "action").map((i) => i.case_no));
  }

  function draw() {
    const me = here();
    for (const task of tasks) task.distance = me ? distanceM(me, [task.lon, task.lat]) : null;
    tasks.sort((a, b) => (a.distance ?? Infinity) - (b.distance ?? Infinity));
    const waiting = queuedNos();
    countBadge.hidden = !tasks.length;
    countBadge.textContent = String(tasks.length);
    summary.textContent = tasks.length
      ? t("mobile.tasks.count", { n: tasks.length })
      : t("mobile.tasks.none");
    if (!me && tasks.length) summary.append(" ", t("mobile.tasks.no_position"));
    list.replaceChildren(
      ...tasks.map((task) =>
        h(
          "li",
          { class: "m-task", dataset: { caseNo: task.case_no, kind: task.kind } },
          h(
            "button",
            { type: "button", class: "m-task-open", onclick: () => open(task.case_no) },
            h(
              "span",
              { class: "m-task-head" },
              h("span", { class: `badge m-kind m-kind-${task.kind}`, "data-i18n": `mobile.tasks.kind.${task.kind}` }, t(`mobile.tasks.kind.${task.kind}`)),
              " ",
              h("strong", {}, task.subclass_name || task.subclass_code),
              " ",
              lightBadge(task.light || worstLight(task.lights)),
              urgencyBadge(task.urgency),
              waiting.has(task.case_no)
                ? h("span", { class: "badge m-task-queued" }, t("mobile.tasks.queued"))
                : null,
            ),
            h("span", { class: "m-task-desc" }, task.description),
            h(
              "span",
              { class: "m-task-meta muted" },
              h("span", { class: "m-distance", dataset: { m: task.distance != null ? String(Math.round(task.distance)) : "" } }, formatDistance(task.distance)),
              " · ",
              h("span", { class: "code" }, task.case_no),
            ),
          ),
        ),
      ),
    );
    drawMap();
  }

  function lineData() {
    const me = here();
    const features = [];
    for (const task of tasks) {
      features.push({
        type: "Feature",
        properties: { case_no: task.case_no, kind: task.kind },
        geometry: { type: "Point", coordinates: [task.lon, task.lat] },
      });
      if (me) {
        features.push({
          type: "Feature",
          properties: { case_no: task.case_no, kind: task.kind, line: true },
          geometry: { type: "LineString", coordinates: [me, [task.lon, task.lat]] },
        });
      }
    }
    return { type: "FeatureCollection", features };
  }

  async function ensureMap() {
    if (small || mapPromise) return mapPromise;
    const me = here();
    mapPromise = (me ? Promise.resolve(null) : districtExtent())
      .then((bounds) => pointMap(mapBox, { point: me, bounds, zoom: 15 }))
      .then((m) => {
        small = m;
        const map = m.map;
        window.gridgov.taskMap = map; // for the browser tests
        map.addSource("tasks", { type: "geojson", data: lineData() });
        map.addLayer({
          id: "task-route",
          type: "line",
          source: "tasks",
          filter: ["==", ["geometry-type"], "LineString"],
          paint: { "line-color": "#1d4ed8", "line-width": 2, "line-dasharray": [2, 2] },
        });
        map.addLayer({
          id: "task-point",
          type: "circle",
          source: "tasks",
          filter: ["==", ["geometry-type"], "Point"],
          paint: {
            "circle-radius": 8,
            "circle-color": ["match", ["get", "kind"], "verify", "#b45309", "#15803d"],
            "circle-stroke-color": "#fff",
            "circle-stroke-width": 2,
          },
        });
        map.on("click", "task-point", (e) => {
          const f = e.features && e.features[0];
          if (f) open(f.properties.case_no);
        });
        map.on("mouseenter", "task-point", () => (map.getCanvas().style.cursor = "pointer"));
        map.on("mouseleave", "task-point", () => (map.getCanvas().style.cursor = ""));
        drawMap();
        return m;
      })
      .catch((err) => {
        mapPromise = null;
        showError(err);
      });
    return mapPromise;
  }

  function drawMap() {
    if (!small) return;
    const map = small.map;
    map.getSource("tasks")?.setData(lineData());
    const me = here();
    small.setPoint(me, { fly: false });
    const coords = tasks.map((x) => [x.lon, x.lat]);
    if (me) coords.push(me);
    if (!coords.length) return;
    const lons = coords.map((c) => c[0]);
    const lats = coords.map((c) => c[1]);
    const box = [
      [Math.min(...lons), Math.min(...lats)],
      [Math.max(...lons), Math.max(...lats)],
    ];
    map.fitBounds(box, { padding: 40, maxZoom: 17, duration: 0 });
  }

  function open(no) {
    const task = tasks.find((x) => x.case_no === no);
    if (!task) return;
    openNo = no;
    listBox.hidden = true;
    formBox.hidden = false;
    openForm?.destroy();
    openForm = taskForm(app, task, { formBox, close, done, draw });
  }

  function close() {
    openForm?.destroy();
    openForm = null;
    openNo = null;
    formBox.hidden = true;
    formBox.replaceChildren();
    listBox.hidden = false;
    small?.resize();
    drawMap();
  }

  function done(no) {
    tasks = tasks.filter((x) => x.case_no !== no);
    if (openNo === no) close();
    if (loaded) draw();
  }

  refresh.addEventListener("click", () => load());
  geo.on(() => {
    if (loaded && app.tab === "tasks" && !openNo) {
      // Distances follow the walker; the list order too.
      draw();
    }
  });

  return {
    done,
    load,
    lineData,
    redraw() {
      if (loaded) draw();
    },
    markPending() {
      if (!loaded) return;
      const waiting = queuedNos();
      for (const li of list.querySelectorAll(".m-task")) {
        li.classList.toggle("queued", waiting.has(li.dataset.caseNo));
      }
    },
    async shown() {
      const map = ensureMap(); // the map and the list load side by side
      if (!loaded) await load();
      await map;
      small?.resize();
      drawMap();
    },
  };
}
