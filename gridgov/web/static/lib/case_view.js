// case_view.js — the shared case detail (案件详情): a page of its own (/case/{case_no}) and a
// side panel inside the role pages (supervision, command, department …).
//
//   const view = caseView(container, {onChange: (detail) => …, onClose: () => …});
//   await view.load("202612030001");      // draws the case; view.reload(); view.destroy()
//
// It shows the header (case no, state, subclass, urgency, channel, lights), the facts (grid,
// place, reporter with the phone masked by the server, department, times), the running step
// deadlines with their lights and due times, the photos before/after (thumbnails opening full
// size), a small map of our own layers with the case point, and the timeline of events with who
// acted (name and role; 匿名群众 for a report without an account) — lib/case_parts.js.
//
// The action buttons are exactly `allowed_actions` from GET /api/cases/{no}. Each opens a small
// form for what its payload needs (lib/case_fields.js ACTION_FIELDS, from gridgov/cases/table.py
// `requires`), sends `expected_version`, and on a 409 version_conflict says "案件已被他人处理"
// with the current state and reloads (lib/case_actions.js). Forms keep drafts (lib/form.js): after
// a trip through the login page the open action form comes back with what was typed.
//
// Options: `showMap` (default true); `actions: false` leaves the action section out (a page that
// offers the actions its own way, e.g. the department's work area); `forms: {action: build}`
// replaces one action's form — `build({detail, action, cancel, done})` returns
// `{element, controller}` (controller from bindForm: destroy(), clearDraft()); the page sends the
// action itself and calls `done(result)` with the answer. Without `onClose` there is no × button.
// `onLoadError(err, no)`: a case that cannot be read is the page's to draw (return true when it
// drew something; the error is shown as a toast either way).

import { getJSON } from "./api.js";
import { worstLight, lightBadge, stateBadge, urgencyBadge } from "./badges.js";
import { fillIn, h } from "./dom.js";
import { label, onLanguage, t } from "./i18n.js";
import { pointMap } from "./maps.js";
import { showError } from "./notice.js";
import { caseActions } from "./case_actions.js";
import { departmentName, placeOf, subclassOf } from "./case_fields.js";
import { deadlinesSection, facts, heading, photosSection, timelineSection } from "./case_parts.js";

export { ACTION_FIELDS } from "./case_fields.js";

export function caseView(
  container,
  {
    onChange = null,
    onClose = null,
    onLoadError = null,
    showMap = true,
    actions = true,
    forms = {},
  } = {},
) {
  const root = h("article", { class: "case-view", "aria-live": "polite" });
  const mapBox = h("div", { class: "case-map-box" });
  container.replaceChildren(root);
  let caseNo = null;
  let detail = null;
  let extra = { subclass: null, place: null, department: null };
  let small = null;
  let generation = 0;
  const offLanguage = onLanguage(() => render());
  const acts = caseActions(
    {
      root,
      onChange,
      get detail() {
        return detail;
      },
      get caseNo() {
        return caseNo;
      },
      render: () => render(),
      load: (no) => load(no),
      applyResult,
    },
    { forms },
  );

  /** Draw case `no`; resolves to its detail (null when it could not be read). */
  async function load(no) {
    if (no !== caseNo) {
      acts.closeForm({ keepDraft: true });
      small?.destroy();
      small = null;
      mapBox.replaceChildren();
    }
    caseNo = no;
    const mine = ++generation;
    if (!detail || detail.case_no !== no) {
      root.replaceChildren(h("p", { class: "muted" }, t("status.loading")));
    }
    let fresh;
    try {
      fresh = await getJSON(`/api/cases/${encodeURIComponent(no)}`);
    } catch (err) {
      if (mine !== generation) return null;
      detail = null;
      if (!(onLoadError && onLoadError(err, no))) {
        fillIn(root, h("p", { class: "page-error" }, t("case.load_failed", { no })), closeButton());
      }
      showError(err);
      return null;
    }
    if (mine !== generation) return null;
    detail = fresh;
    await loadExtra();
    if (mine !== generation) return null;
    render();
    if (actions) acts.restoreDraftForm();
    if (showMap) drawMap();
    return detail;
  }

  async function loadExtra() {
    const [subclass, place, department] = await Promise.all([
      subclassOf(detail.subclass_kind, detail.subclass_code).catch(() => null),
      placeOf(detail.lon, detail.lat).catch(() => null),
      departmentName(detail.department_code),
    ]);
    extra = { subclass, place, department };
  }

  /** After an action: the answer is the new detail (a merge answers with the master case). */
  function applyResult(result) {
    detail = result;
    caseNo = result.case_no;
    loadExtra().then(render);
    render();
    if (onChange) onChange(result);
  }

  function closeButton() {
    if (!onClose) return null;
    return h(
      "button",
      {
        type: "button",
        class: "close case-close",
        "data-i18n-aria-label": "case.close",
        "aria-label": t("case.close"),
        onclick: () => onClose(),
      },
      "×",
    );
  }

  function render() {
    if (!detail) return;
    const d = detail;
    root.dataset.caseNo = d.case_no;
    root.dataset.state = d.state;
    root.dataset.version = String(d.version);
    const subName = extra.subclass ? extra.subclass.name : d.subclass_code;
    fillIn(
      root,
      closeButton(),
      h(
        "header",
        { class: "case-head" },
        h(
          "p",
          { class: "kicker" },
          `${label("subclass_kind", d.subclass_kind)} · ${subName} `,
          h("span", { class: "code" }, d.subclass_code),
        ),
        h(
          "h2",
          {},
          h("span", { class: "case-no", dataset: { field: "case_no" } }, d.case_no),
          " ",
          stateBadge(d.state),
          " ",
          lightBadge(worstLight(d.lights)),
          " ",
          urgencyBadge(d.urgency),
        ),
      ),
      actions ? acts.section() : null,
      facts(d, extra),
      h("p", { class: "case-description", dataset: { field: "description" } }, d.description),
      deadlinesSection(d),
      photosSection(d),
      showMap ? h("section", { class: "case-map" }, heading("case.map"), mapBox) : null,
      timelineSection(d),
    );
  }

  async function drawMap() {
    const point = [detail.lon, detail.lat];
    try {
      if (small) {
        small.setPoint(point);
        return;
      }
      small = await pointMap(mapBox, { point, zoom: 16 });
    } catch (err) {
      showError(err);
    }
  }

  return {
    element: root,
    load,
    reload: () => (caseNo ? load(caseNo) : Promise.resolve(null)),
    get detail() {
      return detail;
    },
    destroy() {
      offLanguage();
      acts.closeForm({ keepDraft: true });
      small?.destroy();
      small = null;
      generation += 1;
      container.replaceChildren();
    },
  };
}
