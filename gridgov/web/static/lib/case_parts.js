// case_parts.js — the read-only sections of the shared case detail (lib/case_view.js): facts,
// deadlines, photos before/after and the timeline of events. Each takes the case detail
// (GET /api/cases/{no}) and returns a node, so a language switch simply draws them again.

import { deadlineBadge } from "./badges.js";
import { h } from "./dom.js";
import { label, t } from "./i18n.js";
import { AFTER, BEFORE } from "./case_fields.js";
import { formatDateTime } from "./time.js";

export function heading(key) {
  return h("h3", { "data-i18n": key }, t(key));
}

function row(fieldName, key, ...value) {
  return [
    h("dt", { "data-i18n": key }, t(key)),
    h("dd", { dataset: { field: fieldName } }, ...value),
  ];
}

const TIMES = [
  ["reported_at", "case.reported_at"],
  ["registered_at", "case.registered_at"],
  ["dispatched_at", "case.dispatched_at"],
  ["handled_at", "case.handled_at"],
  ["checked_at", "case.checked_at"],
  ["closed_at", "case.closed_at"],
];

/** Channel, urgency, grid, place, reporter (phone masked by the server), department, times. */
export function facts(d, extra) {
  const place = extra.place;
  const gridText = [h("span", { class: "code" }, d.grid_code)];
  if (place && place.grid && place.grid.name) gridText.push(" ", place.grid.name);
  const region = place
    ? [place.street && place.street.name, place.community && place.community.name]
        .filter(Boolean)
        .join(" · ")
    : "";
  const reporter = [d.reporter_name, d.reporter_phone].filter(Boolean).join(" ");
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
    ...TIMES.filter(([name]) => d[name]).map(([name, key]) =>
      row(name, key, formatDateTime(d[name])),
    ),
  );
}

export function deadlinesSection(d) {
  const list = [...d.deadlines].sort(
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

function photoIds(d, filter) {
  const ids = [];
  const add = (list) => {
    for (const id of list || []) if (typeof id === "string" && !ids.includes(id)) ids.push(id);
  };
  if (filter === "before") add(d.photos);
  for (const e of d.events) {
    if ((filter === "before" ? BEFORE : AFTER).has(e.action)) add(e.payload.photos);
  }
  return ids;
}

export function photosSection(d) {
  const before = photoIds(d, "before");
  const after = photoIds(d, "after");
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

/** Who acted: the display name (staff readers get it from the server), 匿名群众 for a report
 * without an account, else nothing (the role is shown beside it anyway). */
function actorName(e) {
  if (e.actor_name) return h("span", { class: "event-actor" }, e.actor_name);
  if (!e.actor_user_id && e.role === "resident") {
    return h("span", { class: "event-actor anonymous" }, t("case.anonymous"));
  }
  return null;
}

export function timelineSection(d) {
  return h(
    "section",
    { class: "case-timeline" },
    heading("case.timeline"),
    h(
      "ol",
      { class: "timeline" },
      ...d.events.map((e) =>
        h(
          "li",
          { dataset: { action: e.action, seq: String(e.seq) } },
          h(
            "div",
            { class: "event-head" },
            h("time", { datetime: e.at }, formatDateTime(e.at)),
            h("strong", { class: "event-action" }, label("action", e.action)),
            actorName(e),
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
  const line = (key, value, name = null) =>
    out.push(
      h(
        "p",
        { class: "event-detail", dataset: name ? { detail: name } : {} },
        h("span", { class: "muted" }, t(key)),
        " ",
        value,
      ),
    );
  if (p.result && p.result !== e.note) line("case.field.result", p.result);
  if (p.department_code) line("case.field.department", p.department_code);
  if (p.level) line("case.field.level", label("supervision_level", p.level));
  if (p.due_at) line("case.field.due_at", formatDateTime(p.due_at));
  if (p.score) line("case.field.score", String(p.score), "score");
  if (p.referred_to) line("case.field.referred_to", p.referred_to);
  if (p.to_region) {
    line("case.field.to_region", h("span", { class: "code" }, p.to_region), "to_region");
  }
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
