// report.js — 我要上报 (/report; public: no login needed, phone layout).
//
// A resident reports a problem: photos (uploaded at once, anonymous uploads are rate limited by
// the server), the place (my GPS position, an address search or a pin on a small map; the grid
// and, for a GPS fix or a pin, the nearest known door plate or building, report/near.js, are
// shown so the reporter sees where it goes), the kind of problem (a short list of common ones
// or a search by name / pinyin initials), a description and, if they like, a name and phone for
// the answer. POST /api/public/reports with an Idempotency-Key kept with the draft until it
// succeeds (a resubmit after a network error never files it twice) answers the case number and
// a tracking code (查询码): both are shown large, can be copied, open /track, and are remembered
// on this device ("我的上报", localStorage; the /track page lists them too). A refusal for too
// many reports (429) says when to try again.

import { getJSON, postJSON, query } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { bindForm, buttons, field, input, textarea } from "../lib/form.js";
import { t } from "../lib/i18n.js";
import { showError, toast } from "../lib/notice.js";
import { photoPicker, placePicker, subclassPicker } from "../lib/pickers.js";
import { formatDateTime } from "../lib/time.js";
import { nearAddress, nearest, placeWith } from "./report/near.js";

/** Common problems offered as one tap (event subclasses; names come from the taxonomy). */
export const COMMON = ["0102", "0114", "0104", "0109", "0401", "0402", "0408", "0505", "0506", "0201", "0601", "0603"];
export const MY_REPORTS = "gridgov.resident.reports";
const MY_MAX = 30;
const PHONE = /^\+?[0-9][0-9 -]{4,28}$/;

// ---- "我的上报": the reports made on this device (shared with track.js) -----------------------

export function myReports() {
  try {
    const list = JSON.parse(window.localStorage.getItem(MY_REPORTS) || "[]");
    return Array.isArray(list) ? list.filter((r) => r && r.case_no && r.code) : [];
  } catch {
    return [];
  }
}

export function saveMyReports(list) {
  try {
    window.localStorage.setItem(MY_REPORTS, JSON.stringify(list.slice(0, MY_MAX)));
  } catch {
    // Storage disabled: the numbers are still on the screen to write down.
  }
}

export function rememberReport(entry) {
  saveMyReports([entry, ...myReports().filter((r) => r.case_no !== entry.case_no)]);
}

export function forgetReport(caseNo) {
  saveMyReports(myReports().filter((r) => r.case_no !== caseNo));
}

export function trackURL(caseNo, code) {
  return `/track${query({ case: caseNo, code })}`;
}

/** The list of this device's reports, each a link to its progress; `onRemove` after removal. */
export function myReportsList(onRemove) {
  const list = myReports();
  if (!list.length) {
    return h("p", { class: "muted r-my-empty", "data-i18n": "resident.my.empty" }, t("resident.my.empty"));
  }
  return h(
    "ul",
    { class: "r-my-list" },
    ...list.map((r) =>
      h(
        "li",
        { dataset: { caseNo: r.case_no } },
        h(
          "a",
          { href: trackURL(r.case_no, r.code), class: "r-my-link" },
          h("span", { class: "r-my-no" }, r.case_no),
          " ",
          h("span", { class: "r-my-label" }, r.label || ""),
        ),
        h("time", { class: "muted" }, formatDateTime(r.at)),
        h(
          "button",
          {
            type: "button",
            class: "link-button r-my-remove",
            "data-i18n": "resident.my.remove",
            onclick: () => {
              if (!window.confirm(t("resident.my.remove_confirm", { no: r.case_no }))) return;
              forgetReport(r.case_no);
              onRemove?.();
            },
          },
          t("resident.my.remove"),
        ),
      ),
    ),
  );
}

/** Copy `text` to the clipboard; say so (or ask to copy by hand where the browser refuses). */
export async function copyText(text, node) {
  try {
    await navigator.clipboard.writeText(text);
    toast(t("resident.copied", { text }), { kind: "success", timeout: 3000 });
  } catch {
    if (node) {
      const range = document.createRange();
      range.selectNodeContents(node);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    }
    toast(t("resident.copy_by_hand"), { kind: "info" });
  }
}

/** Seconds to wait before trying again after a 429: the answer's Retry-After (lib/api.js). */
export function retryAfter(err) {
  const n = Number(err && err.retryAfter);
  return Number.isFinite(n) && n > 0 ? Math.ceil(n) : null;
}

// ---- the page -------------------------------------------------------------------------------

export async function mount(ctx) {
  document.body.classList.add("r-app");
  const user = ctx.user;
  const staff = user && user.role !== "resident";

  const photos = photoPicker("photos", { labelKey: "resident.photos" });
  const place = placePicker("place", { required: true, labelKey: "resident.place" });
  const gpsButton = h(
    "button",
    { type: "button", class: "secondary r-gps", "data-i18n": "resident.use_gps" },
    t("resident.use_gps"),
  );
  const gpsStatus = h("span", { class: "muted r-gps-status", "aria-live": "polite" });
  const near = nearAddress(place, (value) => bound.setValues({ place: value }));
  const commonBox = h("div", { class: "r-common", role: "group" });
  const subclass = subclassPicker("subclass", {
    required: true,
    labelKey: "resident.subclass",
    onChange: (sub) => drawCommon(sub),
  });
  const description = textarea("description", {
    required: true,
    rows: 4,
    maxlength: 2000,
    labelKey: "resident.description",
    "data-i18n-placeholder": "resident.description_placeholder",
    placeholder: t("resident.description_placeholder"),
  });
  const contactName = input("contact_name", { maxlength: 60, autocomplete: "name", labelKey: "resident.contact_name" });
  const contactPhone = input("contact_phone", {
    type: "tel",
    maxlength: 30,
    autocomplete: "tel",
    inputmode: "tel",
    labelKey: "resident.contact_phone",
  });
  const waitNote = h("p", { class: "r-wait form-note", hidden: true, role: "status" });
  const form = h(
    "form",
    { id: "r-report-form", class: "r-form card" },
    field("resident.photos", photos, { hint: "resident.photos_hint" }),
    field("resident.place", h("div", { class: "r-place" }, h("div", { class: "r-gps-row" }, gpsButton, gpsStatus), place, near.note), {
      required: true,
    }),
    field("resident.subclass", h("div", { class: "r-subclass" }, commonBox, subclass), { required: true }),
    field("resident.description", description, { required: true }),
    h(
      "fieldset",
      { class: "r-contact" },
      h("legend", { "data-i18n": "resident.contact" }, t("resident.contact")),
      h("p", { class: "field-hint", "data-i18n": "resident.contact_hint" }, t("resident.contact_hint")),
      field("resident.contact_name", contactName),
      field("resident.contact_phone", contactPhone),
    ),
    waitNote,
    buttons("resident.submit"),
  );
  const done = h("section", { class: "r-done card", hidden: true, "aria-live": "polite" });
  const myBox = h("div", { class: "r-my-box" });
  const accountNote = user
    ? h(
        "p",
        { class: staff ? "form-error r-staff" : "form-note r-account" },
        staff
          ? [
              h("span", { "data-i18n": "resident.staff_note" }, t("resident.staff_note")),
              " ",
              h("a", { href: ctx.config.home, "data-i18n": "resident.staff_home" }, t("resident.staff_home")),
            ]
          : t("resident.account_note", { name: user.name }),
      )
    : null;
  ctx.main.replaceChildren(
    h(
      "div",
      { class: "r-page" },
      h("h1", { "data-i18n": "resident.report_title" }, t("resident.report_title")),
      h("p", { class: "r-intro", "data-i18n": "resident.report_intro" }, t("resident.report_intro")),
      accountNote,
      done,
      form,
      h(
        "section",
        { class: "r-my" },
        h("h2", { "data-i18n": "resident.my.title" }, t("resident.my.title")),
        myBox,
        h("p", {}, h("a", { href: "/track", "data-i18n": "resident.track_other" }, t("resident.track_other"))),
      ),
    ),
  );

  const drawMy = () => myBox.replaceChildren(myReportsList(drawMy));
  drawMy();

  // --- common problems: names from the taxonomy (data), one tap each --------------------------

  let common = [];
  function drawCommon(chosen = null) {
    commonBox.hidden = Boolean(chosen) || !common.length;
    commonBox.replaceChildren(
      h("span", { class: "muted r-common-title", "data-i18n": "resident.common" }, t("resident.common")),
      h(
        "div",
        { class: "r-common-list" },
        ...common.map((sub) =>
          h(
            "button",
            {
              type: "button",
              class: "r-chip",
              dataset: { code: sub.code, kind: sub.kind },
              onclick: () =>
                bound.setValues({
                  subclass: {
                    kind: sub.kind,
                    code: sub.code,
                    name: sub.name,
                    urgency_levels: sub.urgency_levels,
                    register_condition: sub.register_condition,
                  },
                }),
            },
            sub.name,
          ),
        ),
      ),
    );
  }

  // --- my position --------------------------------------------------------------------------

  gpsButton.addEventListener("click", () => {
    if (!navigator.geolocation) {
      gpsStatus.textContent = t("resident.gps_unavailable");
      return;
    }
    gpsButton.disabled = true;
    gpsStatus.textContent = t("resident.gps_locating");
    navigator.geolocation.getCurrentPosition(
      async (pos) => {
        const lon = Math.round(pos.coords.longitude * 1e7) / 1e7;
        const lat = Math.round(pos.coords.latitude * 1e7) / 1e7;
        near.lookedUp(lon, lat); // one request: the grid and the nearest address together
        const where = await nearest(lon, lat);
        bound.setValues({ place: placeWith({ lon, lat, address: "" }, where) });
        near.draw();
        gpsStatus.textContent = t("resident.gps_done", { accuracy: Math.round(pos.coords.accuracy || 0) });
        gpsButton.disabled = false;
      },
      (err) => {
        gpsStatus.textContent = err && err.code === 1 ? t("resident.gps_denied") : t("resident.gps_unavailable");
        gpsButton.disabled = false;
      },
      { enableHighAccuracy: true, timeout: 15_000, maximumAge: 30_000 },
    );
  });

  // --- submit ---------------------------------------------------------------------------------

  let waitTimer = null;
  function showWait(seconds) {
    clearInterval(waitTimer);
    let left = seconds;
    const draw = () => {
      waitNote.hidden = false;
      waitNote.textContent = left > 0 ? t("resident.wait_seconds", { n: left }) : t("resident.wait_over");
    };
    draw();
    if (!seconds) {
      waitNote.textContent = t("resident.wait_unknown");
      return;
    }
    waitTimer = setInterval(() => {
      left -= 1;
      draw();
      if (left <= 0) clearInterval(waitTimer);
    }, 1000);
  }

  const bound = bindForm(form, {
    idempotent: true,
    validate: (values) => {
      const problems = {};
      const phone = (values.contact_phone || "").trim();
      if (phone && !PHONE.test(phone)) problems.contact_phone = t("resident.phone_invalid");
      return problems;
    },
    submit: async (values, { idempotencyKey }) => {
      waitNote.hidden = true;
      const p = values.place;
      const body = {
        subclass: values.subclass.code,
        subclass_kind: values.subclass.kind,
        lon: p.lon,
        lat: p.lat,
        crs: "wgs84",
        description: values.description.trim(),
        photos: values.photos || [],
      };
      const name = (values.contact_name || "").trim();
      const phone = (values.contact_phone || "").trim();
      if (name || phone) body.contact = { ...(name ? { name } : {}), ...(phone ? { phone } : {}) };
      try {
        const answer = await postJSON("/api/public/reports", body, { idempotencyKey, auth: "none" });
        return { answer, label: body.description.slice(0, 30) };
      } catch (err) {
        if (err && err.status === 429) showWait(retryAfter(err));
        throw err;
      }
    },
    onSuccess: ({ answer, label }) => {
      rememberReport({
        case_no: answer.case_no,
        code: answer.tracking_code,
        at: answer.reported_at || new Date().toISOString(),
        label,
      });
      drawMy();
      showDone(answer);
    },
  });

  function showDone(answer) {
    const noNode = h("dd", { class: "r-big", dataset: { field: "case_no" } }, answer.case_no);
    const codeNode = h("dd", { class: "r-big code", dataset: { field: "tracking_code" } }, answer.tracking_code);
    const copy = (text, node) =>
      h(
        "button",
        { type: "button", class: "secondary r-copy", "data-i18n": "resident.copy", onclick: () => copyText(text, node) },
        t("resident.copy"),
      );
    done.dataset.caseNo = answer.case_no;
    done.replaceChildren(
      h("h2", { "data-i18n": "resident.done_title" }, t("resident.done_title")),
      h("p", { "data-i18n": "resident.done_keep" }, t("resident.done_keep")),
      h(
        "dl",
        { class: "r-numbers" },
        h("div", {}, h("dt", { "data-i18n": "resident.case_no" }, t("resident.case_no")), noNode, copy(answer.case_no, noNode)),
        h(
          "div",
          {},
          h("dt", { "data-i18n": "resident.tracking_code" }, t("resident.tracking_code")),
          codeNode,
          copy(answer.tracking_code, codeNode),
        ),
      ),
      h(
        "div",
        { class: "r-done-actions" },
        h(
          "a",
          { class: "button primary r-track-link", href: trackURL(answer.case_no, answer.tracking_code), "data-i18n": "resident.track_this" },
          t("resident.track_this"),
        ),
        h(
          "button",
          {
            type: "button",
            class: "secondary r-again",
            "data-i18n": "resident.report_again",
            onclick: () => {
              done.hidden = true;
              form.hidden = false;
              window.scrollTo({ top: 0 });
            },
          },
          t("resident.report_again"),
        ),
      ),
      h("p", { class: "muted", "data-i18n": "resident.done_saved" }, t("resident.done_saved")),
    );
    done.hidden = false;
    form.hidden = true;
    window.scrollTo({ top: 0 });
  }

  ctx.onLanguage(() => {
    drawMy();
    drawCommon(null);
    near.draw();
  });

  // The common problems need the taxonomy's names; the form works without them.
  try {
    const all = await getJSON(`/api/taxonomy/subclasses${query({ kind: "event" })}`, { auth: "none" });
    const byCode = new Map(all.map((s) => [s.code, s]));
    common = COMMON.map((code) => byCode.get(code)).filter(Boolean);
  } catch (err) {
    showError(err);
  }
  const chosen = form.querySelector("input[name=subclass]").value;
  drawCommon(chosen ? JSON.parse(chosen) : null);
  window.gridgov.reportForm = bound; // for the browser tests
}
