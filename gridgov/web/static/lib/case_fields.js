// case_fields.js — what each action's form asks for and how its controls and payload are built
// (part of the shared case detail, lib/case_view.js).
//
// ACTION_FIELDS follows the `requires` of the rows in gridgov/cases/table.py; every form also has
// an optional note (unless it asks for a reason). A new action needs one line here and its label
// `action.<name>` in common.json; what the server adds by itself (上报上级's `to_region`) is not
// asked for.

import { getJSON, query } from "./api.js";
import { h } from "./dom.js";
import { field, input, select, textarea } from "./form.js";
import { label, t } from "./i18n.js";
import { showError } from "./notice.js";
import { photoPicker } from "./pickers.js";
import { toLocalInput, toUTC } from "./time.js";

export const F = {
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
  record_rating: [F.score], // 回访评价: the caller's score (1–5) and an optional note
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
  escalate: [F.reason], // the server adds `to_region` (the next level up)
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
export const BEFORE = new Set(["submit", "verify"]);
export const AFTER = new Set(["report_back", "self_handle", "check_pass", "check_fail"]);

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

export const subclassOf = (kind, code) =>
  once(`sub:${kind}:${code}`, () => getJSON(`/api/taxonomy/subclasses/${code}${query({ kind })}`));
export const placeOf = (lon, lat) =>
  once(`geo:${lon}:${lat}`, () => getJSON(`/api/geocode${query({ lon, lat })}`));
const departments = () => once("departments", () => getJSON("/api/departments?active=true"));

export async function departmentName(code) {
  if (!code) return null;
  try {
    const found = (await departments()).find((d) => d.code === code);
    return found ? found.name : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Controls and payloads.

/** The labelled control of field `f` in a form on case `caseNo`. */
export function control(f, caseNo) {
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
      el = departmentSelect(f.name, caseNo);
      break;
    case "supervisor":
      el = supervisorSelect(f.name, caseNo, f === F.checker);
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

function departmentSelect(name, caseNo) {
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

function supervisorSelect(name, caseNo, forCheck) {
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

/** The action's payload from the form's values (numbers, UTC times, case references). */
export async function payloadOf(fields, values) {
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
