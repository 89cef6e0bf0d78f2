// admin_calendar.js — the admin page's 工作日历 tab (pages/admin.js): this year's and next
// year's status with a warning when one is not covered, the rules of a chosen year (or only the
// local overrides), an override added (PUT /api/calendar/overrides/{date}) or removed, and a State
// Council notice imported (CSV or JSON, POST /api/calendar/notice).

import { deleteJSON, getJSON, postJSON, putJSON, query, upload } from "../lib/api.js";
import { h, tx } from "../lib/dom.js";
import { bindForm, buttons, field, input } from "../lib/form.js";
import { label, language, t } from "../lib/i18n.js";
import { showError, toast } from "../lib/notice.js";
import {
  button,
  emptyRow,
  enumSelect,
  fileButton,
  readJSONFile,
  reloadAfterWrite,
  resultBox,
  showRefusalIn,
  showResult,
  th,
} from "./admin_kit.js";

const DAY_KINDS = ["holiday", "workday"];

export function calendarTab(panel) {
  const thisYear = Number(
    new Intl.DateTimeFormat("en-CA", {
      year: "numeric",
      timeZone: window.gridgov.config.timezone,
    }).format(new Date()),
  );
  const state = { year: thisYear, statuses: [], rules: [] };
  const statusBox = h("div", { class: "calendar-status", id: "calendar-status" });
  const banner = h("div", {
    class: "calendar-warning",
    id: "calendar-warning",
    role: "alert",
    hidden: true,
  });
  const yearSelect = h(
    "select",
    { id: "calendar-year" },
    ...[thisYear - 1, thisYear, thisYear + 1, thisYear + 2].map((y) =>
      h("option", { value: String(y) }, String(y)),
    ),
  );
  yearSelect.value = String(thisYear);
  yearSelect.addEventListener("change", () => {
    state.year = Number(yearSelect.value);
    loadRules().catch(showError);
  });
  const onlyLocal = h("input", { type: "checkbox", id: "calendar-only-overrides" });
  onlyLocal.addEventListener("change", () => drawRules());
  const tbody = h("tbody");
  const table = h(
    "table",
    { class: "calendar-table", id: "calendar-rules" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        th("admin.calendar.date"),
        th("admin.calendar.kind"),
        th("admin.calendar.note"),
        th("admin.calendar.source"),
        th("admin.calendar.effective"),
        h("th"),
      ),
    ),
    tbody,
  );

  const kindSel = enumSelect("kind", DAY_KINDS, "admin.day", {
    required: true,
    labelKey: "admin.calendar.kind",
  });
  const overrideForm = h(
    "form",
    { id: "override-form", class: "card" },
    h("h3", {}, tx("admin.calendar.add_override")),
    h(
      "div",
      { class: "field-row" },
      field(
        "admin.calendar.date",
        input("day", { type: "date", required: true, labelKey: "admin.calendar.date" }),
        { required: true },
      ),
      field("admin.calendar.kind", kindSel, { required: true }),
    ),
    field("admin.calendar.note", input("note", { maxlength: "200" }), {
      hint: "admin.calendar.note_hint",
    }),
    buttons("admin.calendar.save_override"),
  );
  bindForm(overrideForm, {
    validate: (values) => {
      if (values.day && !/^\d{4}-\d{2}-\d{2}$/.test(values.day))
        return { day: t("admin.calendar.date_invalid") };
      return {};
    },
    submit: (values) =>
      putJSON(`/api/calendar/overrides/${encodeURIComponent(values.day)}`, {
        kind: values.kind,
        note: values.note.trim(),
      }),
    onSuccess: (row) => {
      toast(
        t("admin.calendar.override_saved", { date: row.date, kind: label("admin.day", row.kind) }),
        { kind: "success" },
      );
      const year = Number(String(row.date).slice(0, 4));
      if (year !== state.year && [...yearSelect.options].some((o) => Number(o.value) === year)) {
        state.year = year;
        yearSelect.value = String(year);
        reloadAfterWrite(() => Promise.all([loadStatus(), loadRules()]));
        return;
      }
      // The new rule decides its date: shown at once, the year reloaded from the server.
      state.rules = [
        ...state.rules
          .filter((r) => !(r.date === row.date && r.source === "override"))
          .map((r) => (r.date === row.date ? { ...r, effective: false } : r)),
        row,
      ].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
      drawRules();
      reloadAfterWrite(() => Promise.all([loadStatus(), loadRules()]));
    },
  });

  const noticeResult = resultBox();
  const noticeBox = h(
    "div",
    { class: "card notice-import" },
    h("h3", {}, tx("admin.calendar.notice")),
    h("p", { class: "muted hint" }, tx("admin.calendar.notice_hint")),
    fileButton(
      "admin.calendar.notice_file",
      ".csv,text/csv,.json,application/json",
      async (file) => {
        try {
          let summary;
          if (/\.json$/i.test(file.name))
            summary = await postJSON("/api/calendar/notice", await readJSONFile(file));
          else summary = await upload("/api/calendar/notice", file);
          showResult(noticeResult, "success", [
            h("span", {}, t("admin.calendar.notice_done", summary)),
          ]);
          state.year = summary.year;
          if (![...yearSelect.options].some((o) => Number(o.value) === summary.year)) {
            yearSelect.append(h("option", { value: String(summary.year) }, String(summary.year)));
          }
          yearSelect.value = String(summary.year);
          reloadAfterWrite(() => Promise.all([loadStatus(), loadRules()]));
        } catch (err) {
          showRefusalIn(noticeResult, err);
        }
      },
    ),
    noticeResult,
  );

  panel.append(
    banner,
    statusBox,
    h(
      "div",
      { class: "calendar-layout" },
      h(
        "div",
        { class: "card" },
        h(
          "div",
          { class: "toolbar" },
          h("label", {}, tx("admin.calendar.year"), " ", yearSelect),
          h("label", { class: "check" }, onlyLocal, tx("admin.calendar.only_overrides")),
        ),
        h("div", { class: "table-scroll" }, table),
      ),
      h("div", { class: "calendar-side" }, overrideForm, noticeBox),
    ),
  );

  async function loadStatus() {
    state.statuses = await Promise.all(
      [thisYear, thisYear + 1].map((year) => getJSON(`/api/calendar/status${query({ year })}`)),
    );
    drawStatus();
  }

  function drawStatus() {
    statusBox.replaceChildren(
      ...state.statuses.map((s) =>
        h(
          "div",
          {
            class: `year-status ${s.covered ? "covered" : "uncovered"}`,
            dataset: { year: String(s.year), covered: String(s.covered) },
          },
          h("strong", {}, String(s.year)),
          " ",
          h("span", {}, t(s.covered ? "admin.calendar.covered" : "admin.calendar.not_covered")),
          " · ",
          h("span", { class: "muted" }, label("admin.calendar.source", s.source)),
        ),
      ),
    );
    const uncovered = state.statuses.filter((s) => !s.covered);
    banner.hidden = !uncovered.length;
    banner.replaceChildren(
      ...uncovered.map((s) =>
        h(
          "p",
          { dataset: { year: String(s.year) } },
          h("strong", {}, t("admin.calendar.warning_title", { year: s.year })),
          " ",
          (language() === "zh-CN" ? s.warning_zh : s.warning_en) || s.warning || "",
        ),
      ),
    );
  }

  async function loadRules() {
    state.rules = await getJSON(`/api/calendar/rules${query({ year: state.year })}`);
    drawRules();
  }

  function drawRules() {
    const rows = onlyLocal.checked
      ? state.rules.filter((r) => r.source === "override")
      : state.rules;
    tbody.replaceChildren(
      ...rows.map((r) =>
        h(
          "tr",
          {
            dataset: { date: r.date, source: r.source },
            class: r.effective ? "effective" : "shadowed",
          },
          h("td", { class: "code" }, `${r.date} ${weekday(r.date)}`),
          h("td", {}, h("span", { class: `badge day-${r.kind}` }, label("admin.day", r.kind))),
          h("td", {}, r.note || ""),
          h("td", {}, label("admin.calendar.source", r.source)),
          h("td", {}, r.effective ? "✓" : ""),
          h(
            "td",
            {},
            r.source === "override"
              ? button("admin.calendar.remove", () => removeOverride(r.date), {
                  class: "link-button remove-override",
                })
              : null,
          ),
        ),
      ),
    );
    if (!rows.length) tbody.append(emptyRow(6));
  }

  function weekday(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    return new Intl.DateTimeFormat(language(), { weekday: "short", timeZone: "UTC" }).format(
      new Date(Date.UTC(y, m - 1, d)),
    );
  }

  async function removeOverride(day) {
    if (!window.confirm(t("admin.calendar.remove_confirm", { date: day }))) return;
    try {
      await deleteJSON(`/api/calendar/overrides/${encodeURIComponent(day)}`);
      toast(t("admin.calendar.removed", { date: day }), { kind: "success" });
      state.rules = state.rules.filter((r) => !(r.date === day && r.source === "override"));
      drawRules();
      reloadAfterWrite(() => Promise.all([loadStatus(), loadRules()]));
    } catch (err) {
      showError(err);
    }
  }

  return {
    ready: Promise.all([loadStatus(), loadRules()]),
    relabel: () => {
      drawStatus();
      drawRules();
    },
  };
}
