// case_view.js — the shared case detail (案件详情): a page of its own (/case/{case_no}) and a
// side panel inside the role pages (supervision, command, department …).
//
//   const view = caseView(container, {onChange: (detail) => …, onClose: () => …});
//   await view.load("202612030001");      // draws the case; view.reload(); view.destroy()
//
// It shows the header (case no, state, subclass, urgency, channel, lights), the facts (grid,
// place, reporter with the phone masked by the server, department, times), the running step
// deadlines with their lights and due times, the photos before/after (thumbnails opening full
// size), a small map of our own layers with the case point, and the timeline of events.
//
// The action buttons are exactly `allowed_actions` from GET /api/cases/{no}. Each opens a small
// form for what its payload needs (ACTION_FIELDS, from gridgov/cases/table.py `requires`), sends
// `expected_version`, and on a 409 version_conflict says "案件已被他人处理" with the current state
// and reloads. Forms keep drafts (lib/form.js): after a trip through the login page the open
// action form comes back with what was typed.
//
// Options: `showMap` (default true); `actions: false` leaves the action section out (a page that
// offers the actions its own way, e.g. the department's work area); `forms: {action: build}`
// replaces one action's form — `build({detail, action, cancel, done})` returns
// `{element, controller}` (controller from bindForm: destroy(), clearDraft()); the page sends the
// action itself and calls `done(result)` with the answer. Without `onClose` there is no × button.

import { getJSON, postJSON, query } from "./api.js";
import { worstLight, deadlineBadge, lightBadge, stateBadge, urgencyBadge } from "./badges.js";
import { fillIn, h } from "./dom.js";
import {
  bindForm,
  buttons,
  draftNames,
  field,
  input,
  readDraft,
  select,
  textarea,
} from "./form.js";
import { label, onLanguage, t } from "./i18n.js";
import { pointMap } from "./maps.js";
import { showError, toast } from "./notice.js";
import { photoPicker } from "./pickers.js";
import { formatDateTime, toLocalInput, toUTC } from "./time.js";

// ---------------------------------------------------------------------------------------------
// What each action's form asks for (the `requires` of its rows in gridgov/cases/table.py).

const F = {
  reason: { name: "reason", kind: "text", labelKey: "case.field.reason", required: true },
  result: { name: "result", kind: "text", labelKey: "case.field.result", required: true },
  notice: { name: "notice", kind: "text", labelKey: "case.field.notice", required: true },
  referred_to: {
    name: "referred_to",
    kind: "line",
    labelKey: "case.field.referred_to",
    required: true,
  },
  photos: { name: "photos", kind: "photos", labelKey: "case.field.photos", required: true },
  documents: {
    name: "documents",
    kind: "photos",
    labelKey: "case.field.documents",
    required: true,
  },
  department: {
    name: "department_code",
    kind: "department",
    labelKey: "case.field.department",
    required: true,
  },
  verifier: {
    name: "verifier_id",
    kind: "supervisor",
    labelKey: "case.field.verifier",
    required: true,
  },
  checker: {
    name: "checker_id",
    kind: "supervisor",
    labelKey: "case.field.checker",
    required: true,
  },
  due_at: { name: "due_at", kind: "datetime", labelKey: "case.field.due_at", required: true },
  level: { name: "level", kind: "level", labelKey: "case.field.level", required: true },
  score: { name: "score", kind: "score", labelKey: "case.field.score", required: true },
  master: { name: "master", kind: "case_ref", labelKey: "case.field.master", required: true },
  duplicate: {
    name: "duplicate",
    kind: "case_ref",
    labelKey: "case.field.duplicate",
    required: true,
  },
};

/** action → the fields of its form (every form also has an optional note). */
export const ACTION_FIELDS = {
  assign_verify: [F.verifier],
  verify: [F.photos],
  verify_false: [F.reason],
  register: [],
  reject: [F.reason],
  self_handle: [F.result, F.photos],
  dispatch: [F.department],
  accept: [],
  report_back: [F.result, F.photos],
  assign_check: [F.checker],
  check_pass: [F.photos],
  check_fail: [F.photos, F.reason],
  close: [],
  rate: [F.score],
  request_return: [F.reason],
  approve_return: [],
  deny_return: [F.reason],
  request_extension: [F.due_at, F.reason],
  approve_extension: [F.due_at],
  deny_extension: [F.reason],
  request_hang: [F.reason],
  approve_hang: [],
  deny_hang: [F.reason],
  resume: [],
  request_void: [F.reason],
  approve_void: [],
  deny_void: [F.reason],
  supervise: [F.level],
  escalate: [F.reason],
  accept_escalation: [],
  decline_escalation: [F.reason],
  merge: [F.master],
  absorb: [F.duplicate],
  resolve_on_spot: [F.result],
  promise: [F.due_at],
  request_documents: [F.notice],
  documents_received: [F.documents],
  request_approval: [F.reason],
  grant_approval: [],
  refuse_approval: [F.reason],
  refer: [F.referred_to],
};

/** Actions whose photos show the problem (before) and the result (after). */
const BEFORE = new Set(["submit", "verify"]);
const AFTER = new Set(["report_back", "self_handle", "check_pass", "check_fail"]);

// ---------------------------------------------------------------------------------------------
// Look-ups shared by every view on the page (each fetched once).

const cache = new Map();
function once(key, load) {
  if (!cache.has(key)) {
    const p = load().catch((err) => {
      cache.delete(key);
      throw err;
    });
    cache.set(key, p);
  }
  return cache.get(key);
}

const subclassOf = (kind, code) =>
  once(`sub:${kind}:${code}`, () => getJSON(`/api/taxonomy/subclasses/${code}${query({ kind })}`));
const placeOf = (lon, lat) =>
  once(`geo:${lon}:${lat}`, () => getJSON(`/api/geocode${query({ lon, lat })}`));
const departments = () => once("departments", () => getJSON("/api/departments?active=true"));

async function departmentName(code) {
  if (!code) return null;
  try {
    const found = (await departments()).find((d) => d.code === code);
    return found ? found.name : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------

export function caseView(
  container,
  { onChange = null, onClose = null, showMap = true, actions = true, forms = {} } = {},
) {
  const root = h("article", { class: "case-view", "aria-live": "polite" });
  const formBox = h("div", { class: "case-action-form" });
  const mapBox = h("div", { class: "case-map-box" });
  container.replaceChildren(root);
  let caseNo = null;
  let detail = null;
  let extra = { subclass: null, place: null, department: null };
  let openAction = null; // {action, element, controller}
  let small = null;
  let generation = 0;
  const offLanguage = onLanguage(() => render());

  /** Draw case `no`; resolves to its detail (null when it could not be read). */
  async function load(no) {
    if (no !== caseNo) {
      closeForm({ keepDraft: true });
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
      fillIn(root, h("p", { class: "page-error" }, t("case.load_failed", { no })), closeButton());
      showError(err);
      return null;
    }
    if (mine !== generation) return null;
    detail = fresh;
    await loadExtra();
    if (mine !== generation) return null;
    render();
    restoreDraftForm();
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

  // --- drawing --------------------------------------------------------------------------------

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
      actions ? actionsSection() : null,
      facts(),
      h("p", { class: "case-description", dataset: { field: "description" } }, d.description),
      deadlinesSection(),
      photosSection(),
      showMap ? h("section", { class: "case-map" }, heading("case.map"), mapBox) : null,
      timelineSection(),
    );
  }

  function heading(key) {
    return h("h3", { "data-i18n": key }, t(key));
  }

  function row(fieldName, key, ...value) {
    return [
      h("dt", { "data-i18n": key }, t(key)),
      h("dd", { dataset: { field: fieldName } }, ...value),
    ];
  }

  function facts() {
    const d = detail;
    const place = extra.place;
    const gridText = [h("span", { class: "code" }, d.grid_code)];
    if (place && place.grid && place.grid.name) gridText.push(" ", place.grid.name);
    const region = place
      ? [place.street && place.street.name, place.community && place.community.name]
          .filter(Boolean)
          .join(" · ")
      : "";
    const reporter = [d.reporter_name, d.reporter_phone].filter(Boolean).join(" ");
    const times = [
      ["reported_at", "case.reported_at"],
      ["registered_at", "case.registered_at"],
      ["dispatched_at", "case.dispatched_at"],
      ["handled_at", "case.handled_at"],
      ["checked_at", "case.checked_at"],
      ["closed_at", "case.closed_at"],
    ];
    return h(
      "dl",
      { class: "case-facts" },
      row("channel", "case.channel", label("channel", d.channel)),
      row("urgency", "case.urgency", label("urgency", d.urgency)),
      d.item_class ? row("item_class", "case.item_class", label("item_class", d.item_class)) : null,
      row("grid", "case.grid", ...gridText),
      region ? row("region", "case.region", region) : null,
      row("point", "case.point", `${Number(d.lon).toFixed(6)}, ${Number(d.lat).toFixed(6)}`),
      row("reporter", "case.reporter", reporter || t("value.none")),
      d.department_code
        ? row(
            "department",
            "case.department",
            extra.department || "",
            " ",
            h("span", { class: "code" }, d.department_code),
          )
        : null,
      ...times
        .filter(([name]) => d[name])
        .map(([name, key]) => row(name, key, formatDateTime(d[name]))),
    );
  }

  function deadlinesSection() {
    const list = [...detail.deadlines].sort(
      (a, b) => Number(Boolean(a.stopped_at)) - Number(Boolean(b.stopped_at)),
    );
    return h(
      "section",
      { class: "case-deadlines" },
      heading("case.deadlines"),
      list.length
        ? h(
            "ul",
            {},
            ...list.map((x) =>
              h(
                "li",
                { class: x.stopped_at ? "stopped" : "running", dataset: { step: x.step } },
                deadlineBadge(x),
                x.limit ? h("span", { class: "muted deadline-limit" }, x.limit) : null,
                x.stopped_at
                  ? h(
                      "span",
                      { class: "muted" },
                      t("case.stopped_at", { time: formatDateTime(x.stopped_at) }),
                    )
                  : null,
              ),
            ),
          )
        : h("p", { class: "muted" }, t("case.no_deadlines")),
    );
  }

  function photoIds(filter) {
    const ids = [];
    const add = (list) => {
      for (const id of list || []) if (typeof id === "string" && !ids.includes(id)) ids.push(id);
    };
    if (filter === "before") add(detail.photos);
    for (const e of detail.events) {
      if ((filter === "before" ? BEFORE : AFTER).has(e.action)) add(e.payload.photos);
    }
    return ids;
  }

  function photosSection() {
    const before = photoIds("before");
    const after = photoIds("after");
    if (!before.length && !after.length) return null;
    return h(
      "section",
      { class: "case-photos" },
      heading("case.photos"),
      before.length
        ? h("div", { class: "photo-group", dataset: { group: "before" } }, [
            h("h4", { "data-i18n": "case.photos_before" }, t("case.photos_before")),
            thumbs(before),
          ])
        : null,
      after.length
        ? h("div", { class: "photo-group", dataset: { group: "after" } }, [
            h("h4", { "data-i18n": "case.photos_after" }, t("case.photos_after")),
            thumbs(after),
          ])
        : null,
    );
  }

  function thumbs(ids) {
    return h(
      "ul",
      { class: "thumbs" },
      ...ids.map((id) =>
        h(
          "li",
          {},
          h(
            "a",
            {
              href: `/api/media/${encodeURIComponent(id)}`,
              target: "_blank",
              rel: "noopener",
              class: "thumb",
              dataset: { media: id },
              onclick: (e) => {
                e.preventDefault();
                openPhoto(id);
              },
            },
            h("img", {
              src: `/api/media/${encodeURIComponent(id)}/thumb`,
              alt: t("case.photo"),
              loading: "lazy",
            }),
          ),
        ),
      ),
    );
  }

  function timelineSection() {
    return h(
      "section",
      { class: "case-timeline" },
      heading("case.timeline"),
      h(
        "ol",
        { class: "timeline" },
        ...detail.events.map((e) =>
          h(
            "li",
            { dataset: { action: e.action, seq: String(e.seq) } },
            h(
              "div",
              { class: "event-head" },
              h("time", { datetime: e.at }, formatDateTime(e.at)),
              h("strong", { class: "event-action" }, label("action", e.action)),
              h("span", { class: "event-role" }, label("role", e.role)),
              e.from_state !== e.to_state
                ? h(
                    "span",
                    { class: "event-states muted" },
                    `${label("state", e.from_state)} → ${label("state", e.to_state)}`,
                  )
                : null,
            ),
            e.note ? h("p", { class: "event-note" }, e.note) : null,
            ...eventDetails(e),
            (e.payload.photos || []).length ? thumbs(e.payload.photos) : null,
          ),
        ),
      ),
    );
  }

  function eventDetails(e) {
    const p = e.payload || {};
    const out = [];
    const line = (key, value) =>
      out.push(
        h("p", { class: "event-detail" }, h("span", { class: "muted" }, t(key)), " ", value),
      );
    if (p.result && p.result !== e.note) line("case.field.result", p.result);
    if (p.department_code) line("case.field.department", p.department_code);
    if (p.level) line("case.field.level", label("supervision_level", p.level));
    if (p.due_at) line("case.field.due_at", formatDateTime(p.due_at));
    if (p.score) line("case.field.score", String(p.score));
    if (p.referred_to) line("case.field.referred_to", p.referred_to);
    if (p.routing && p.routing.department_code) {
      line("case.routing", `${p.routing.department_code} — ${p.routing.reason || ""}`);
    }
    return out;
  }

  function openPhoto(id) {
    const overlay = h(
      "div",
      {
        class: "lightbox",
        role: "dialog",
        "aria-modal": "true",
        tabindex: "-1",
        onclick: () => overlay.remove(),
        onkeydown: (e) => e.key === "Escape" && overlay.remove(),
      },
      h("img", { src: `/api/media/${encodeURIComponent(id)}`, alt: t("case.photo") }),
      h(
        "button",
        {
          type: "button",
          class: "close",
          "aria-label": t("case.close"),
          onclick: () => overlay.remove(),
        },
        "×",
      ),
    );
    document.body.append(overlay);
    overlay.focus();
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

  // --- actions --------------------------------------------------------------------------------

  function actionsSection() {
    const allowed = detail.allowed_actions || [];
    return h(
      "section",
      { class: "case-actions" },
      heading("case.actions"),
      allowed.length
        ? h(
            "div",
            { class: "action-buttons" },
            ...allowed.map((action) =>
              h(
                "button",
                {
                  type: "button",
                  class: openAction && openAction.action === action ? "action active" : "action",
                  dataset: { action },
                  "aria-expanded": String(Boolean(openAction && openAction.action === action)),
                  onclick: () => toggleForm(action),
                },
                label("action", action),
              ),
            ),
          )
        : h("p", { class: "muted no-actions" }, t("case.no_actions")),
      formBox,
    );
  }

  function draftName(action) {
    return `case:${caseNo}:${action}`;
  }

  function toggleForm(action) {
    if (openAction && openAction.action === action) {
      closeForm({ keepDraft: false });
      render();
      return;
    }
    openForm(action);
  }

  function closeForm({ keepDraft }) {
    if (!openAction) return;
    openAction.controller.destroy(); // saves a pending draft…
    if (!keepDraft) openAction.controller.clearDraft(); // …which is dropped unless kept
    openAction = null;
    formBox.replaceChildren();
  }

  function restoreDraftForm() {
    if (openAction || !actions) return;
    const allowed = detail.allowed_actions || [];
    for (const name of draftNames(`case:${caseNo}:`)) {
      const action = name.split(":").pop();
      if (allowed.includes(action) && readDraft(name)) {
        openForm(action);
        return;
      }
    }
  }

  function openForm(action) {
    closeForm({ keepDraft: false });
    if (forms[action]) {
      const built = forms[action]({
        detail,
        action,
        cancel: () => toggleForm(action),
        done: (result) => done(action, result),
      });
      formBox.replaceChildren(built.element);
      openAction = { action, element: built.element, controller: built.controller };
      markOpen(action);
      return;
    }
    const fields = ACTION_FIELDS[action] || [];
    const form = h("form", {
      class: "action-form",
      dataset: { action },
      "aria-label": label("action", action),
    });
    const controls = fields.map((f) => control(f));
    const hasText = fields.some((f) => f.name === "reason");
    form.append(
      h("h4", {}, label("action", action)),
      ...controls,
      hasText ? null : field("case.field.note", textarea("note", { rows: 2 })),
      buttons(`action.${action}`, { cancel: () => toggleForm(action) }),
    );
    formBox.replaceChildren(form);
    const controller = bindForm(form, {
      draft: draftName(action),
      submit: (values) => send(action, fields, values),
      onSuccess: (result) => done(action, result),
    });
    openAction = { action, element: form, controller };
    markOpen(action);
  }

  function markOpen(action) {
    for (const b of root.querySelectorAll(".action-buttons button")) {
      const on = b.dataset.action === action;
      b.classList.toggle("active", on);
      b.setAttribute("aria-expanded", String(on));
    }
    openAction.element.querySelector("input:not([type=hidden]), select, textarea")?.focus();
  }

  function control(f) {
    let el;
    switch (f.kind) {
      case "text":
        el = textarea(f.name, { required: f.required, rows: 3 });
        break;
      case "line":
        el = input(f.name, { required: f.required });
        break;
      case "photos":
        el = photoPicker(f.name, { required: f.required, labelKey: f.labelKey });
        break;
      case "datetime":
        el = input(f.name, { type: "datetime-local", required: f.required });
        el.value = toLocalInput(new Date(Date.now() + 86400000).toISOString());
        break;
      case "level":
        el = select(
          f.name,
          ["normal", "yellow", "red"].map((v) => [v, label("supervision_level", v)]),
          { required: true },
        );
        break;
      case "score":
        el = select(
          f.name,
          [5, 4, 3, 2, 1].map((v) => [String(v), t("case.score_value", { n: v })]),
          { required: true },
        );
        break;
      case "case_ref":
        el = input(f.name, {
          required: f.required,
          inputmode: "numeric",
          pattern: "[0-9]+",
          "data-i18n-placeholder": "case.case_no_placeholder",
          placeholder: t("case.case_no_placeholder"),
        });
        break;
      case "department":
        el = departmentSelect(f.name);
        break;
      case "supervisor":
        el = supervisorSelect(f.name, f === F.checker);
        break;
      default:
        el = input(f.name, { required: f.required });
    }
    return field(f.labelKey, el, { required: f.required });
  }

  /** A select filled later; a value set before its options exist is applied once they do. */
  function lateSelect(name) {
    const el = select(name, [], { required: true, empty: t("form.choose") });
    el.addEventListener("gridgov:set", (e) => {
      if (e.detail) el.dataset.pending = String(e.detail);
    });
    return el;
  }

  function fill(el, options, preferred) {
    const keep = el.dataset.pending || el.value || preferred || "";
    for (const [value, text, disabled] of options) {
      el.append(h("option", { value, disabled: Boolean(disabled) }, text));
    }
    if (keep && options.some(([v]) => v === keep)) el.value = keep;
    delete el.dataset.pending;
  }

  function departmentSelect(name) {
    const el = lateSelect(name);
    Promise.all([
      departments(),
      getJSON(`/api/cases/${encodeURIComponent(caseNo)}/routing`).catch(() => null),
    ])
      .then(([list, routing]) => {
        const suggested = routing && routing.department_code;
        fill(
          el,
          list.map((d) => [
            d.code,
            d.code === suggested ? `${d.name}（${t("case.suggested")}）` : d.name,
          ]),
          suggested,
        );
        if (routing && routing.reason) {
          el.after(h("p", { class: "field-hint" }, `${t("case.routing")}: ${routing.reason}`));
        }
      })
      .catch(showError);
    return el;
  }

  function supervisorSelect(name, forCheck) {
    const el = lateSelect(name);
    getJSON(`/api/cases/board/candidates/${encodeURIComponent(caseNo)}`)
      .then((people) => {
        const options = people.map((p) => {
          const tags = [];
          if (p.responsible) tags.push(t("case.responsible"));
          if (p.discoverer) tags.push(t("case.discoverer"));
          const text = `${p.name}（${p.username}）${tags.length ? ` · ${tags.join(" · ")}` : ""}`;
          return [String(p.id), text, forCheck && p.discoverer];
        });
        const first = people.find((p) => !(forCheck && p.discoverer));
        fill(el, options, first && !forCheck ? String(first.id) : "");
      })
      .catch(showError);
    return el;
  }

  async function payloadOf(action, fields, values) {
    const payload = {};
    for (const f of fields) {
      const v = values[f.name];
      if (f.kind === "supervisor" || f.kind === "score") payload[f.name] = Number(v);
      else if (f.kind === "datetime") payload[f.name] = toUTC(v);
      else if (f.kind === "case_ref") {
        const ref = await getJSON(`/api/cases/board/ref/${encodeURIComponent(String(v).trim())}`);
        payload.duplicate_id = ref.id;
        payload.reporter_ids = ref.reporter_ids;
      } else if (typeof v === "string") payload[f.name] = v.trim();
      else payload[f.name] = v;
    }
    const note = typeof values.note === "string" ? values.note.trim() : "";
    if (note) payload.note = note;
    return payload;
  }

  /** 合并 goes through POST /api/cases/{no}/merge (both events in one transaction); every other
   * action through POST /api/cases/{no}/actions. */
  function post(action, payload, values) {
    const no = encodeURIComponent(caseNo);
    if (action === "merge") {
      return postJSON(`/api/cases/${no}/merge`, {
        into: String(values.master).trim(),
        expected_version: detail.version,
        note: payload.note || "",
      });
    }
    return postJSON(`/api/cases/${no}/actions`, {
      action,
      payload,
      expected_version: detail.version,
    });
  }

  async function send(action, fields, values) {
    const payload = action === "merge" ? {} : await payloadOf(action, fields, values);
    if (action === "merge" && typeof values.note === "string" && values.note.trim()) {
      payload.note = values.note.trim();
    }
    try {
      return await post(action, payload, values);
    } catch (err) {
      if (err.code === "version_conflict") {
        const state = label("state", err.where.state);
        toast(t("case.conflict_detail", { state }), {
          kind: "error",
          headline: t("error.version_conflict"),
          code: err.code,
        });
        reloadKeepingForm();
      }
      throw err;
    }
  }

  /** Reload after a conflict; the open form (and what was typed) stays if still allowed. */
  async function reloadKeepingForm() {
    const fresh = await load(caseNo);
    if (!fresh) return;
    if (openAction && !(fresh.allowed_actions || []).includes(openAction.action)) {
      closeForm({ keepDraft: false });
      render();
    }
    if (onChange) onChange(fresh);
  }

  function done(action, result) {
    closeForm({ keepDraft: false });
    detail = result;
    caseNo = result.case_no; // a merge answers with the master case
    toast(t("case.action_done", { action: label("action", action), no: result.case_no }), {
      kind: "success",
    });
    loadExtra().then(render);
    render();
    if (onChange) onChange(result);
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
      closeForm({ keepDraft: true });
      small?.destroy();
      small = null;
      generation += 1;
      container.replaceChildren();
    },
  };
}
