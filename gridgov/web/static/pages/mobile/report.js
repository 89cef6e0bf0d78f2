// report.js — the 上报 tab of the supervisor's phone app: photo from the camera, the place
// (pages/mobile/place.js), a nearby component to link, subclass by search (Chinese, code or
// pinyin initials) or one tap on the ones used lately, urgency, description. Submitting queues
// the report in the outbox with the form's Idempotency-Key and sends it at once.

import { getJSON, query } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { bindForm, buttons, field, readJSON, textarea } from "../../lib/form.js";
import { label, t } from "../../lib/i18n.js";
import { showError, toast } from "../../lib/notice.js";
import { subclassPicker } from "../../lib/pickers.js";
import { formatDateTime } from "../../lib/time.js";
import { outboxPhotos, photoControl } from "./photos.js";
import { placeControls } from "./place.js";
import { readStore, temporary, writeStore } from "./util.js";

/**
 * The 上报 tab in app.panels.report. `app`: {user, geo, outbox, foreground, recentKey}.
 * Returns {form, bound, drawRecent, drawPlace, shown()}.
 */
export function reportView(app) {
  const { user, geo } = app;
  const panel = app.panels.report;
  const blobs = new Map();
  const photos = photoControl("photos", blobs, { labelKey: "mobile.report.photos" });
  const where = placeControls(geo, { onComponent: (c) => componentChosen(c) });
  const urgency = h("select", { name: "urgency", class: "m-urgency" });
  const subclass = subclassPicker("subclass", {
    required: true,
    labelKey: "mobile.report.subclass",
    onChange: (sub) => {
      fillUrgency(sub);
      usualBox.hidden = Boolean(sub) || !readStore(usualKey, []).length;
    },
  });
  // The subclasses this supervisor used lately: one tap, and they work offline too.
  const usualKey = `gridgov.mobile.subclasses:${user.username}`;
  const usualList = h("div", { class: "m-usual-list" });
  const usualBox = h(
    "div",
    { class: "m-usual", hidden: true },
    h("span", { class: "muted", "data-i18n": "mobile.report.usual" }, t("mobile.report.usual")),
    usualList,
  );
  subclass.append(usualBox);
  const description = textarea("description", {
    required: true,
    rows: 3,
    maxlength: 2000,
    labelKey: "mobile.report.description",
    "data-i18n-placeholder": "mobile.report.description_placeholder",
    placeholder: t("mobile.report.description_placeholder"),
  });
  const recentList = h("ul", { class: "m-recent" });
  const form = h(
    "form",
    { id: "m-report-form", class: "m-form" },
    field("mobile.report.photos", photos, { required: true }),
    field("mobile.report.place", where.placeBox, { required: true }),
    field("mobile.report.component", where.componentBox, { hint: "mobile.report.component_hint" }),
    field("mobile.report.subclass", subclass, { required: true }),
    field("mobile.report.urgency", urgency),
    field("mobile.report.description", description, { required: true }),
    buttons("mobile.report.submit"),
  );
  photos.querySelector("input[type=hidden]").dataset.required = "";
  panel.append(
    h("h1", { "data-i18n": "mobile.report.title" }, t("mobile.report.title")),
    form,
    h(
      "section",
      { class: "m-recent-box" },
      h("h2", { "data-i18n": "mobile.report.recent" }, t("mobile.report.recent")),
      recentList,
    ),
  );

  function fillUrgency(sub) {
    const levels = sub && sub.urgency_levels && sub.urgency_levels.length ? sub.urgency_levels : ["normal"];
    const before = urgency.value || "normal";
    urgency.replaceChildren(
      ...levels.map((u) => h("option", { value: u, "data-i18n": `urgency.${u}` }, label("urgency", u))),
    );
    urgency.value = levels.includes(before) ? before : levels[0];
  }
  fillUrgency(null);

  async function componentChosen(c) {
    const sub = readJSON(form.querySelector("input[name=subclass]"));
    if (c && !sub) {
      try {
        const s = await getJSON(`/api/taxonomy/subclasses/${encodeURIComponent(c.subclass_code)}${query({ kind: "component" })}`);
        bound.setValues({ subclass: { kind: s.kind, code: s.code, name: s.name, urgency_levels: s.urgency_levels, register_condition: s.register_condition } });
      } catch (err) {
        if (!temporary(err)) showError(err);
      }
    }
  }

  const bound = bindForm(form, {
    idempotent: true,
    validate: (values) => {
      const problems = {};
      if (values.description && values.description.trim().length > 2000) {
        problems.description = t("mobile.report.too_long");
      }
      return problems;
    },
    submit: async (values, { idempotencyKey }) => {
      const p = values.place;
      const body = {
        subclass: values.subclass.code,
        subclass_kind: values.subclass.kind,
        urgency: values.urgency || "normal",
        lon: p.lon,
        lat: p.lat,
        crs: "wgs84",
        description: values.description.trim(),
      };
      if (values.component && values.component.id) body.component_id = values.component.id;
      rememberSubclass(values.subclass);
      const item = await app.outbox.add({
        kind: "report",
        key: idempotencyKey,
        body,
        photos: outboxPhotos(values.photos, blobs),
        label: body.description.slice(0, 40),
      });
      app.foreground.add(item.key);
      let fate;
      try {
        fate = await app.outbox.send(item.key);
      } finally {
        app.foreground.delete(item.key); // a later send (still queued) toasts on its own
      }
      if (fate.status === "failed") {
        await app.outbox.discard(item.key); // the form shows the refusal; nothing stays queued
        throw fate.error;
      }
      return fate;
    },
    onSuccess: (fate) => {
      if (fate.status === "sent") {
        toast(t("mobile.report.sent", { no: fate.result.case_no }), { kind: "success" });
        lastReport.textContent = t("mobile.report.sent", { no: fate.result.case_no });
        lastReport.dataset.caseNo = fate.result.case_no;
        lastReport.hidden = false;
      } else {
        toast(t("mobile.report.queued"), { kind: "info", timeout: 8000 });
        lastReport.textContent = t("mobile.report.queued");
        lastReport.dataset.caseNo = "";
        lastReport.hidden = false;
      }
      where.drawComponents([]);
      window.scrollTo({ top: 0 });
      for (const [key, b] of blobs) {
        URL.revokeObjectURL(b.url);
        blobs.delete(key);
      }
    },
  });
  const lastReport = h("p", { class: "m-last-report form-note", hidden: true, role: "status" });
  form.before(lastReport);

  function rememberSubclass(sub) {
    if (!sub) return;
    const list = readStore(usualKey, []).filter((x) => !(x.code === sub.code && x.kind === sub.kind));
    list.unshift(sub);
    writeStore(usualKey, list.slice(0, 8));
    drawUsual();
  }

  function drawUsual() {
    const list = readStore(usualKey, []);
    usualList.replaceChildren(
      ...list.map((sub) =>
        h(
          "button",
          {
            type: "button",
            class: "m-usual-chip",
            dataset: { code: sub.code, kind: sub.kind },
            onclick: () => bound.setValues({ subclass: sub }),
          },
          sub.name,
        ),
      ),
    );
    usualBox.hidden = !list.length || Boolean(readJSON(form.querySelector("input[name=subclass]")));
  }
  drawUsual();

  function drawRecent() {
    const list = readStore(app.recentKey, []);
    recentList.replaceChildren(
      ...(list.length
        ? list.map((r) =>
            h(
              "li",
              { dataset: { caseNo: r.case_no } },
              h("a", { href: `/case/${encodeURIComponent(r.case_no)}` }, r.case_no),
              " ",
              h("span", {}, r.label || ""),
              " ",
              h("time", { class: "muted" }, formatDateTime(r.at)),
            ),
          )
        : [h("li", { class: "muted", "data-i18n": "mobile.report.no_recent" }, t("mobile.report.no_recent"))]),
    );
  }
  drawRecent();

  return {
    form,
    bound,
    drawRecent,
    drawPlace: where.drawPlace,
    shown: where.shown,
  };
}
