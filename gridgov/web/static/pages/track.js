// track.js — 进度查询 (/track; public, phone layout).
//
// Case number + tracking code (from the URL ?case=&code=, the form, or "我的上报" on this
// device) → GET /api/public/cases/{no}?code=… : the stage in plain words with a step bar, the
// expected date (and whether it is overdue), the timeline without staff names, the result text
// and photos once handled, and — once closed — a rating form (1–5 stars and a comment, once;
// POST /api/public/cases/{no}/rating). A wrong code answers like an unknown case (404).
// A logged-in resident also sees the reports of their account (GET /api/cases: their own).

import { getJSON, postJSON, query } from "../lib/api.js";
import { stateBadge } from "../lib/badges.js";
import { h } from "../lib/dom.js";
import { bindForm, buttons, field, input, textarea } from "../lib/form.js";
import { has, t } from "../lib/i18n.js";
import { showError, toast } from "../lib/notice.js";
import { formatDateTime } from "../lib/time.js";
import { myReports, myReportsList, rememberReport, trackURL } from "./report.js";

/** The main path as the public sees it, in order (public_api.STAGES codes). */
const STEPS = ["received", "verifying", "registered", "handling", "checking", "closed"];
/** Stages off the main path: shown as a note instead of a position on the bar. */
const OFF_PATH = new Set(["not_accepted", "voided", "merged", "referred", "suspended", "awaiting_documents", "awaiting_approval"]);

function stageText(stage, fallback) {
  const key = `resident.stage.${stage}`;
  return has(key) ? t(key) : fallback || stage;
}

function eventText(entry) {
  const key = `resident.event.${entry.action}`;
  return has(key) ? t(key) : entry.text;
}

function detailText(entry) {
  if (entry.detail == null || entry.detail === "") return null;
  if (entry.action === "promise") return t("resident.event_detail.promise", { time: formatDateTime(entry.detail) });
  if (entry.action === "rate") return t("resident.stars", { n: entry.detail });
  return entry.detail;
}

function photoList(ids, cls) {
  if (!ids || !ids.length) return null;
  return h(
    "ul",
    { class: `thumbs ${cls}` },
    ...ids.map((id) =>
      h(
        "li",
        {},
        h(
          "a",
          { href: `/api/media/${encodeURIComponent(id)}`, target: "_blank", rel: "noopener" },
          h("img", { src: `/api/media/${encodeURIComponent(id)}/thumb`, alt: "", loading: "lazy" }),
        ),
      ),
    ),
  );
}

function stars(score) {
  return h(
    "span",
    { class: "r-stars", "aria-label": t("resident.stars", { n: score }), dataset: { score: String(score) } },
    "★".repeat(score),
    h("span", { class: "r-stars-off" }, "★".repeat(Math.max(0, 5 - score))),
  );
}

export async function mount(ctx) {
  document.body.classList.add("r-app");
  const params = new URLSearchParams(window.location.search);
  const caseInput = input("case_no", {
    required: true,
    maxlength: 40,
    inputmode: "numeric",
    autocomplete: "off",
    labelKey: "resident.case_no",
  });
  const codeInput = input("code", {
    required: true,
    maxlength: 40,
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    labelKey: "resident.tracking_code",
  });
  const form = h(
    "form",
    { id: "r-track-form", class: "r-form card" },
    h("div", { class: "field-row" }, field("resident.case_no", caseInput, { required: true }), field("resident.tracking_code", codeInput, { required: true })),
    buttons("resident.lookup"),
  );
  const result = h("section", { class: "r-result", "aria-live": "polite" });
  const myBox = h("div", { class: "r-my-box" });
  const accountBox = h("section", { class: "r-account-list", hidden: true });
  ctx.main.replaceChildren(
    h(
      "div",
      { class: "r-page" },
      h("h1", { "data-i18n": "resident.track_title" }, t("resident.track_title")),
      h("p", { class: "r-intro", "data-i18n": "resident.track_intro" }, t("resident.track_intro")),
      form,
      result,
      h(
        "section",
        { class: "r-my" },
        h("h2", { "data-i18n": "resident.my.title" }, t("resident.my.title")),
        myBox,
        h("p", {}, h("a", { href: "/report", "data-i18n": "resident.report_new" }, t("resident.report_new"))),
      ),
      accountBox,
    ),
  );

  let shown = null; // {case_no, code, view}
  let generation = 0;

  const drawMy = () => myBox.replaceChildren(myReportsList(drawMy));
  drawMy();

  // --- lookup ---------------------------------------------------------------------------------

  async function lookup(caseNo, code) {
    const mine = ++generation;
    const view = await getJSON(`/api/public/cases/${encodeURIComponent(caseNo)}${query({ code })}`, {
      auth: "none",
    });
    if (mine !== generation) return view;
    shown = { case_no: view.case_no, code, view };
    history.replaceState(null, "", trackURL(view.case_no, code));
    // Known on this device from now on (a number typed in from a note, say).
    if (!myReports().some((r) => r.case_no === view.case_no)) {
      rememberReport({
        case_no: view.case_no,
        code,
        at: view.reported_at || new Date().toISOString(),
        label: (view.description || "").slice(0, 30),
      });
      drawMy();
    }
    render();
    return view;
  }

  const bound = bindForm(form, {
    draft: null,
    resetOnSuccess: false,
    submit: (values) => lookup(values.case_no.trim(), values.code.trim()),
    onSuccess: () => result.scrollIntoView?.({ block: "start" }),
  });

  // --- the case -------------------------------------------------------------------------------

  function stepBar(stage) {
    if (OFF_PATH.has(stage)) return null;
    // Closed: every step done, the last one too.
    const at = stage === "closed" ? STEPS.length : STEPS.indexOf(stage);
    return h(
      "ol",
      { class: "r-steps" },
      ...STEPS.map((step, i) =>
        h(
          "li",
          {
            class: i < at ? "done" : i === at ? "current" : "todo",
            dataset: { step },
            "aria-current": i === at || (at === STEPS.length && i === at - 1) ? "step" : null,
          },
          h("span", { class: "r-step-dot", "aria-hidden": "true" }, i < at ? "✓" : String(i + 1)),
          h("span", { class: "r-step-name", "data-i18n": `resident.step.${step}` }, t(`resident.step.${step}`)),
        ),
      ),
    );
  }

  function facts(v) {
    const rows = [
      ["resident.fact.case_no", h("span", { class: "code" }, v.case_no)],
      ["resident.fact.subclass", v.subclass_name || v.subclass_code],
      ["resident.fact.reported_at", formatDateTime(v.reported_at)],
    ];
    if (v.expected_at && v.stage !== "closed") {
      rows.push([
        "resident.fact.expected_at",
        h(
          "span",
          { class: v.overdue ? "r-overdue" : "" },
          formatDateTime(v.expected_at),
          v.overdue ? h("span", { class: "badge light light-red" }, t("resident.overdue")) : null,
        ),
      ]);
    }
    if (v.handled_by) rows.push(["resident.fact.handled_by", v.handled_by]);
    if (v.closed_at) rows.push(["resident.fact.closed_at", formatDateTime(v.closed_at)]);
    return h(
      "dl",
      { class: "r-facts" },
      ...rows.flatMap(([key, value], i) => [
        h("dt", { "data-i18n": key }, t(key)),
        h("dd", { dataset: { field: key.split(".").pop() } }, value),
      ]),
    );
  }

  function timeline(v) {
    return h(
      "ol",
      { class: "timeline r-timeline" },
      ...[...v.timeline].reverse().map((e) =>
        h(
          "li",
          { dataset: { action: e.action } },
          h("time", { class: "muted" }, formatDateTime(e.at)),
          " ",
          h("span", { class: "r-event" }, eventText(e)),
          detailText(e) ? h("p", { class: "event-detail" }, detailText(e)) : null,
        ),
      ),
    );
  }

  function resultBlock(r, titleKey = "resident.result") {
    if (!r) return null;
    return h(
      "section",
      { class: "r-result-block" },
      h("h3", { "data-i18n": titleKey }, t(titleKey)),
      h("p", { class: "r-result-text", dataset: { field: "result" } }, r.text || t("value.none")),
      photoList(r.photos, "r-result-photos"),
      h("p", { class: "muted" }, formatDateTime(r.at)),
    );
  }

  function ratingBlock(v) {
    if (v.rating) {
      return h(
        "section",
        { class: "r-rating done", dataset: { score: String(v.rating.score) } },
        h("h3", { "data-i18n": "resident.rating.yours" }, t("resident.rating.yours")),
        stars(v.rating.score),
        v.rating.comment ? h("p", { class: "r-rating-comment" }, v.rating.comment) : null,
        h("p", { class: "muted" }, formatDateTime(v.rating.at)),
      );
    }
    if (!v.can_rate) {
      const key = v.stage === "closed" ? "resident.rating.not_possible" : "resident.rating.after_close";
      return h("p", { class: "muted r-rating-later", "data-i18n": key }, t(key));
    }
    const starBox = h("div", { class: "r-star-input", role: "radiogroup" });
    for (let n = 1; n <= 5; n += 1) {
      starBox.append(
        h(
          "label",
          { class: "r-star", title: t("resident.stars", { n }), dataset: { n: String(n) } },
          h("input", { type: "radio", name: "score", value: String(n), required: true, dataset: { labelKey: "resident.rating.score" }, "aria-label": t("resident.stars", { n }) }),
          h("span", { "aria-hidden": "true" }, "★"),
        ),
      );
    }
    const paint = () => {
      const chosen = Number((starBox.querySelector("input:checked") || {}).value || 0);
      for (const lab of starBox.querySelectorAll(".r-star")) lab.classList.toggle("on", Number(lab.dataset.n) <= chosen);
      scoreText.textContent = chosen ? t(`resident.rating.level${chosen}`) : "";
    };
    const scoreText = h("span", { class: "r-score-text muted" });
    starBox.addEventListener("change", paint);
    const rateForm = h(
      "form",
      { id: "r-rate-form", class: "r-rate-form" },
      h("h3", { "data-i18n": "resident.rating.title" }, t("resident.rating.title")),
      h("div", { class: "field required", dataset: { field: "score" } }, h("span", { class: "field-label", "data-i18n": "resident.rating.score" }, t("resident.rating.score")), starBox, scoreText),
      field("resident.rating.comment", textarea("comment", { rows: 3, maxlength: 500, labelKey: "resident.rating.comment" })),
      buttons("resident.rating.submit"),
    );
    const caseNo = v.case_no;
    const code = shown.code;
    bindForm(rateForm, {
      draft: `rate-${caseNo}`,
      submit: (values) =>
        postJSON(
          `/api/public/cases/${encodeURIComponent(caseNo)}/rating`,
          { code, score: Number(values.score), comment: (values.comment || "").trim() || null },
          { auth: "none" },
        ),
      onSuccess: (view) => {
        shown = { ...shown, view };
        toast(t("resident.rating.thanks"), { kind: "success" });
        render();
      },
    });
    paint();
    return h("section", { class: "r-rating" }, rateForm);
  }

  function render() {
    if (!shown) {
      result.replaceChildren();
      return;
    }
    const v = shown.view;
    const merged = v.merged_into;
    result.replaceChildren(
      h(
        "article",
        { class: "r-case card", dataset: { caseNo: v.case_no, stage: v.stage } },
        h("p", { class: `r-stage r-stage-${v.stage}`, dataset: { field: "stage" } }, stageText(v.stage, v.stage_text)),
        stepBar(v.stage),
        facts(v),
        h("h3", { "data-i18n": "resident.description" }, t("resident.description")),
        h("p", { class: "r-description" }, v.description),
        photoList(v.photos, "r-report-photos"),
        merged
          ? h(
              "section",
              { class: "r-merged" },
              h("p", { "data-i18n": "resident.merged_note" }, t("resident.merged_note")),
              h("p", { class: "r-stage" }, stageText(merged.stage, merged.stage_text)),
              merged.closed_at ? h("p", { class: "muted" }, t("resident.closed_at", { time: formatDateTime(merged.closed_at) })) : null,
              resultBlock(merged.result),
            )
          : null,
        resultBlock(v.result),
        h("h3", { "data-i18n": "resident.progress" }, t("resident.progress")),
        timeline(v),
        ratingBlock(v),
        h(
          "button",
          { type: "button", class: "link-button r-refresh", "data-i18n": "resident.refresh", onclick: () => refresh() },
          t("resident.refresh"),
        ),
      ),
    );
  }

  async function refresh() {
    if (!shown) return;
    try {
      await lookup(shown.case_no, shown.code);
    } catch (err) {
      showError(err);
    }
  }

  // --- a logged-in resident: the reports of their account -----------------------------------

  async function drawAccount() {
    if (!ctx.user || ctx.user.role !== "resident") return;
    let list;
    try {
      list = await getJSON(`/api/cases${query({ limit: 50 })}`);
    } catch (err) {
      showError(err);
      return;
    }
    accountBox.hidden = false;
    accountBox.replaceChildren(
      h("h2", { "data-i18n": "resident.account.title" }, t("resident.account.title")),
      list.items.length
        ? h(
            "ul",
            { class: "r-my-list r-account-items" },
            ...list.items.map((c) =>
              h(
                "li",
                { dataset: { caseNo: c.case_no } },
                h("a", { href: `/case/${encodeURIComponent(c.case_no)}` }, h("span", { class: "r-my-no" }, c.case_no), " ", h("span", { class: "r-my-label" }, c.description.slice(0, 30))),
                stateBadge(c.state),
                h("time", { class: "muted" }, formatDateTime(c.reported_at || c.created_at)),
              ),
            ),
          )
        : h("p", { class: "muted", "data-i18n": "resident.account.empty" }, t("resident.account.empty")),
    );
  }

  ctx.onLanguage(() => {
    render();
    drawMy();
    drawAccount();
  });

  // --- start: look up what the URL names -----------------------------------------------------

  const caseNo = (params.get("case") || "").trim();
  const code = (params.get("code") || "").trim();
  if (caseNo) bound.setValues({ case_no: caseNo, code });
  const pending = [drawAccount()];
  if (caseNo && code) {
    pending.push(
      lookup(caseNo, code).catch((err) => {
        bound.showRefusal(err);
      }),
    );
  }
  await Promise.all(pending);
  window.gridgov.track = { lookup, refresh, get shown() { return shown; } }; // for the browser tests
}
