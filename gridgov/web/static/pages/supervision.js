// supervision.js — 监督中心 (/supervision; acceptor, shift_lead, admin).
//
// Work queues with counts (待受理, 核实中, 待立案, 待核查/核查中, 待结案, 全部在办) and the 黄灯/红灯
// counts, from GET /api/cases/board/counts; the list of one queue filtered by channel, subclass,
// grid/region code, state and light, from GET /api/cases/board/list (gridgov/cases/board_api.py).
// A row opens the shared case detail (lib/case_view.js) in a side panel, with the actions the
// user's role may take there. The acceptor also registers hotline calls (热线登记): subclass by
// search, place by address or a pin on the map, caller, description; created with an
// Idempotency-Key so a resubmit never files the call twice.
//
// The view lives in the URL (?queue=&channel=&subclass=&grid=&state=&light=&case=&new=hotline),
// so a reload or a trip through the login page comes back to the same list, case and form.

import { ensureSession, getJSON, postJSON, query } from "../lib/api.js";
import { channelBadge, lightBadge, stateBadge, urgencyBadge } from "../lib/badges.js";
import { caseView } from "../lib/case_view.js";
import { casePanel, fillIn, h, showCasePanel } from "../lib/dom.js";
import { bindForm, buttons, field, input, readDraft, select, textarea } from "../lib/form.js";
import { label, t } from "../lib/i18n.js";
import { showError, toast } from "../lib/notice.js";
import { placePicker, subclassPicker } from "../lib/pickers.js";
import { formatDateTime } from "../lib/time.js";

const QUEUES = ["reported", "verifying", "to_register", "to_check", "to_close", "open"];
const DEFAULT_QUEUE = { acceptor: "reported", shift_lead: "to_register" };
const CHANNELS = ["supervisor", "public", "hotline", "video", "sensor"];
const STATES = [
  "reported",
  "verifying",
  "verified",
  "registered",
  "dispatched",
  "handling",
  "handled",
  "checking",
  "checked",
  "rework",
  "return_requested",
  "extension_requested",
  "hang_requested",
  "hung",
  "void_requested",
  "escalated",
  "awaiting_documents",
  "awaiting_approval",
  "closed",
  "rejected",
  "voided",
  "merged",
  "referred",
];
const LIGHTS = ["yellow", "red"];
const PAGE_SIZE = 50;

function option(value, key) {
  return h("option", { value, "data-i18n": key }, t(key));
}

export async function mount(ctx) {
  const role = ctx.user.role;
  const params = new URLSearchParams(window.location.search);
  const state = {
    queue: QUEUES.includes(params.get("queue"))
      ? params.get("queue")
      : DEFAULT_QUEUE[role] || "open",
    channel: params.get("channel") || "",
    subclass: params.get("subclass") || "", // "kind:code"
    grid: params.get("grid") || "",
    state: params.get("state") || "",
    light: params.get("light") || "",
    case: params.get("case") || "",
    hotline: params.get("new") === "hotline",
  };
  let items = [];
  let total = 0;
  let counts = null;
  let listGeneration = 0;

  // --- layout -------------------------------------------------------------------------------

  const queueBar = h("nav", {
    class: "queues",
    "data-i18n-aria-label": "supervision.queues",
    "aria-label": t("supervision.queues"),
  });
  const lightBar = h("div", { class: "light-filters" });
  const channelSelect = h(
    "select",
    { name: "channel", "data-i18n-aria-label": "supervision.filter.channel" },
    option("", "supervision.filter.any_channel"),
    ...CHANNELS.map((c) => option(c, `channel.${c}`)),
  );
  const stateSelect = h(
    "select",
    { name: "state", "data-i18n-aria-label": "supervision.filter.state" },
    option("", "supervision.filter.any_state"),
    ...STATES.map((s) => option(s, `state.${s}`)),
  );
  const lightSelect = h(
    "select",
    { name: "light", "data-i18n-aria-label": "supervision.filter.light" },
    option("", "supervision.filter.any_light"),
    ...LIGHTS.map((l) => option(l, `light.${l}`)),
    option("green", "light.green"),
  );
  const gridInput = h("input", {
    name: "grid",
    type: "search",
    inputmode: "numeric",
    pattern: "[0-9]*",
    maxlength: "20",
    "data-i18n-placeholder": "supervision.filter.grid",
    placeholder: t("supervision.filter.grid"),
    "data-i18n-aria-label": "supervision.filter.grid",
  });
  const subclassBox = h("div", { class: "filter-subclass" });
  const filters = h(
    "form",
    { class: "filters", id: "filters", role: "search" },
    h(
      "label",
      { class: "filter" },
      h("span", { "data-i18n": "supervision.filter.channel" }),
      channelSelect,
    ),
    h(
      "label",
      { class: "filter" },
      h("span", { "data-i18n": "supervision.filter.subclass" }),
      subclassBox,
    ),
    h(
      "label",
      { class: "filter" },
      h("span", { "data-i18n": "supervision.filter.grid" }),
      gridInput,
    ),
    h(
      "label",
      { class: "filter" },
      h("span", { "data-i18n": "supervision.filter.state" }),
      stateSelect,
    ),
    h(
      "label",
      { class: "filter" },
      h("span", { "data-i18n": "supervision.filter.light" }),
      lightSelect,
    ),
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        "data-i18n": "supervision.filter.reset",
        onclick: resetFilters,
      },
      t("supervision.filter.reset"),
    ),
  );
  const tbody = h("tbody");
  const table = h(
    "table",
    { class: "case-table" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ...[
          "supervision.col.case_no",
          "supervision.col.subclass",
          "supervision.col.state",
          "supervision.col.channel",
          "supervision.col.grid",
          "supervision.col.reported_at",
          "supervision.col.light",
        ].map((key) => h("th", { scope: "col", "data-i18n": key }, t(key))),
      ),
    ),
    tbody,
  );
  const foot = h("div", { class: "list-foot" });
  const hotlineButton =
    role === "acceptor"
      ? h(
          "button",
          {
            type: "button",
            id: "new-hotline",
            class: "primary",
            onclick: () => toggleHotline(true),
          },
          h("span", { "data-i18n": "supervision.hotline.open" }, t("supervision.hotline.open")),
        )
      : null;
  const hotlineBox = h("section", { class: "hotline-box card", hidden: true });
  const panel = casePanel();
  const board = h(
    "section",
    { class: "board" },
    h(
      "div",
      { class: "page-top board-top" },
      h("h1", { "data-i18n": "page.supervision" }, t("page.supervision")),
      lightBar,
      hotlineButton,
    ),
    queueBar,
    filters,
    hotlineBox,
    h("div", { class: "table-wrap" }, table),
    foot,
  );
  ctx.main.replaceChildren(h("div", { class: "panel-layout board-layout" }, board, panel));
  for (const el of filters.querySelectorAll("label > span[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }

  // The subclass filter: the shared picker, but no draft and a plain kind:code value.
  const picker = subclassPicker("subclass_filter", {
    onChange: (sub) => {
      const next = sub ? `${sub.kind}:${sub.code}` : "";
      if (next !== state.subclass) {
        state.subclass = next;
        refresh();
      }
    },
  });
  subclassBox.append(picker);
  if (state.subclass) {
    const [kind, code] = state.subclass.split(":");
    getJSON(`/api/taxonomy/subclasses/${code}${query({ kind })}`)
      .then((sub) => {
        const hiddenInput = picker.querySelector("input[type=hidden]");
        hiddenInput.value = JSON.stringify({ kind: sub.kind, code: sub.code, name: sub.name });
        hiddenInput.dispatchEvent(new CustomEvent("gridgov:set"));
      })
      .catch(showError);
  }

  channelSelect.value = state.channel;
  stateSelect.value = state.state;
  lightSelect.value = state.light;
  gridInput.value = state.grid;
  filters.addEventListener("submit", (e) => e.preventDefault());
  channelSelect.addEventListener("change", () => setFilter("channel", channelSelect.value));
  stateSelect.addEventListener("change", () => setFilter("state", stateSelect.value));
  lightSelect.addEventListener("change", () => setFilter("light", lightSelect.value));
  let gridTimer = null;
  gridInput.addEventListener("input", () => {
    clearTimeout(gridTimer);
    gridTimer = setTimeout(() => {
      const v = gridInput.value.trim();
      if (/^\d*$/.test(v)) setFilter("grid", v);
    }, 300);
  });

  // --- URL, filters ---------------------------------------------------------------------------

  function syncURL() {
    const q = new URLSearchParams();
    q.set("queue", state.queue);
    for (const name of ["channel", "subclass", "grid", "state", "light", "case"]) {
      if (state[name]) q.set(name, state[name]);
    }
    if (state.hotline) q.set("new", "hotline");
    window.history.replaceState(null, "", `${window.location.pathname}?${q}`);
  }

  function setFilter(name, value) {
    if (state[name] === value) return;
    state[name] = value;
    if (name === "light") lightSelect.value = value;
    refresh();
  }

  function resetFilters() {
    Object.assign(state, { channel: "", subclass: "", grid: "", state: "", light: "" });
    channelSelect.value = "";
    stateSelect.value = "";
    lightSelect.value = "";
    gridInput.value = "";
    const hiddenInput = picker.querySelector("input[type=hidden]");
    hiddenInput.value = "";
    hiddenInput.dispatchEvent(new CustomEvent("gridgov:set"));
    refresh();
  }

  function commonFilters() {
    const [kind, code] = state.subclass ? state.subclass.split(":") : ["", ""];
    return { channel: state.channel, subclass: code, subclass_kind: kind, grid_code: state.grid };
  }

  // --- data -----------------------------------------------------------------------------------

  async function loadCounts() {
    counts = await getJSON(`/api/cases/board/counts${query(commonFilters())}`);
    drawCounts();
  }

  async function loadList({ append = false } = {}) {
    const mine = ++listGeneration;
    const answer = await getJSON(
      `/api/cases/board/list${query({
        ...commonFilters(),
        queue: state.queue,
        state: state.state,
        light: state.light,
        limit: PAGE_SIZE,
        offset: append ? items.length : 0,
      })}`,
    );
    if (mine !== listGeneration) return;
    items = append ? [...items, ...answer.items] : answer.items;
    total = answer.total;
    drawList();
  }

  async function refresh() {
    syncURL();
    try {
      await Promise.all([loadCounts(), loadList()]);
    } catch (err) {
      showError(err);
    }
  }

  // --- drawing --------------------------------------------------------------------------------

  function drawCounts() {
    queueBar.replaceChildren(
      ...QUEUES.map((q) =>
        h(
          "button",
          {
            type: "button",
            class: q === state.queue ? "count-chip queue active" : "count-chip queue",
            dataset: { queue: q },
            "aria-pressed": String(q === state.queue),
            onclick: () => {
              state.queue = q;
              state.state = "";
              stateSelect.value = "";
              refresh();
            },
          },
          h("span", { class: "queue-name" }, t(`supervision.queue.${q}`)),
          h(
            "span",
            { class: "count", dataset: { count: q } },
            String(counts ? counts.queues[q] : "…"),
          ),
        ),
      ),
    );
    lightBar.replaceChildren(
      ...LIGHTS.map((l) =>
        h(
          "button",
          {
            type: "button",
            class: `light-chip light-${l}${state.light === l ? " active" : ""}`,
            dataset: { light: l },
            "aria-pressed": String(state.light === l),
            onclick: () => setFilter("light", state.light === l ? "" : l),
          },
          label("light", l),
          " ",
          h(
            "span",
            { class: "count", dataset: { count: l } },
            String(counts ? counts.lights[l] : "…"),
          ),
        ),
      ),
    );
  }

  function drawList() {
    tbody.replaceChildren(
      ...items.map((c) => {
        const tr = h(
          "tr",
          {
            tabindex: "0",
            class: c.case_no === state.case ? "selected" : null,
            dataset: { caseNo: c.case_no, state: c.state },
            onclick: () => openCase(c.case_no),
            onkeydown: (e) => {
              if (e.key === "Enter" || e.key === " ") {
                e.preventDefault();
                openCase(c.case_no);
              }
            },
          },
          h("td", { class: "case-no", "data-label": t("supervision.col.case_no") }, c.case_no),
          h(
            "td",
            { "data-label": t("supervision.col.subclass") },
            c.subclass_name || c.subclass_code,
            " ",
            urgencyBadge(c.urgency),
          ),
          h("td", { "data-label": t("supervision.col.state") }, stateBadge(c.state)),
          h("td", { "data-label": t("supervision.col.channel") }, channelBadge(c.channel)),
          h("td", { class: "code", "data-label": t("supervision.col.grid") }, c.grid_code),
          h(
            "td",
            { "data-label": t("supervision.col.reported_at") },
            formatDateTime(c.reported_at || c.created_at),
          ),
          h("td", { "data-label": t("supervision.col.light") }, lightBadge(c.light)),
        );
        return tr;
      }),
    );
    if (!items.length) {
      tbody.append(
        h(
          "tr",
          { class: "empty" },
          h("td", { colspan: "7", class: "muted" }, t("supervision.empty")),
        ),
      );
    }
    fillIn(
      foot,
      h(
        "span",
        { class: "muted", dataset: { total: String(total) } },
        t("supervision.shown", { n: items.length, total }),
      ),
      items.length < total
        ? h(
            "button",
            {
              type: "button",
              class: "secondary",
              onclick: () => loadList({ append: true }).catch(showError),
            },
            t("supervision.more"),
          )
        : null,
    );
  }

  // --- the case panel -------------------------------------------------------------------------

  const view = caseView(panel, {
    onChange: () => refresh(),
    onClose: () => closeCase(),
  });

  async function openCase(no) {
    state.case = no;
    syncURL();
    showCasePanel(panel, tbody, no);
    await view.load(no);
  }

  function closeCase() {
    state.case = "";
    syncURL();
    showCasePanel(panel, tbody, "");
  }

  // --- hotline entry (acceptor) ---------------------------------------------------------------

  let hotline = null;

  function buildHotline() {
    const urgency = select("urgency", [["normal", label("urgency", "normal")]], { required: true });
    const fillUrgency = (sub) => {
      const keep = urgency.value || "normal";
      const levels = sub && sub.urgency_levels ? sub.urgency_levels : ["normal"];
      urgency.replaceChildren(...levels.map((u) => option(u, `urgency.${u}`)));
      urgency.value = levels.includes(keep) ? keep : levels[0];
    };
    fillUrgency(null); // options carry data-i18n, so a language switch relabels them
    urgency.addEventListener("gridgov:set", (e) => {
      if (e.detail && ![...urgency.options].some((o) => o.value === e.detail)) {
        urgency.append(option(e.detail, `urgency.${e.detail}`));
        urgency.value = e.detail;
      }
    });
    const form = h(
      "form",
      { id: "hotline-form", class: "hotline-form" },
      h("h2", { "data-i18n": "supervision.hotline.title" }, t("supervision.hotline.title")),
      field(
        "supervision.hotline.subclass",
        subclassPicker("subclass", {
          required: true,
          labelKey: "supervision.hotline.subclass",
          onChange: fillUrgency,
        }),
        { required: true },
      ),
      field("supervision.hotline.urgency", urgency, { required: true }),
      field(
        "supervision.hotline.place",
        placePicker("place", { required: true, labelKey: "supervision.hotline.place" }),
        { required: true, hint: "supervision.hotline.place_hint" },
      ),
      h(
        "div",
        { class: "field-row" },
        field(
          "supervision.hotline.caller_name",
          input("caller_name", { maxlength: "60", autocomplete: "off" }),
        ),
        field(
          "supervision.hotline.caller_phone",
          input("caller_phone", { type: "tel", maxlength: "30", autocomplete: "off" }),
        ),
      ),
      field(
        "supervision.hotline.description",
        textarea("description", { required: true, rows: 4, maxlength: "1800" }),
        { required: true },
      ),
      buttons("supervision.hotline.submit", {
        cancel: () => toggleHotline(false, { discard: true }),
      }),
    );
    hotlineBox.replaceChildren(form);
    return bindForm(form, {
      draft: "hotline",
      idempotent: true,
      validate: (values) => {
        const phone = (values.caller_phone || "").trim();
        return phone && !/^[0-9+\-() ]{3,30}$/.test(phone)
          ? { caller_phone: t("supervision.hotline.bad_phone") }
          : {};
      },
      submit: async (values, { idempotencyKey }) => {
        await ensureSession(); // POST /api/cases also takes anonymous reports: check first
        const sub = values.subclass;
        const place = values.place;
        let description = values.description.trim();
        if (place.address && !description.includes(place.address)) {
          description = `${description}（${t("supervision.hotline.address_prefix")}${place.address}）`;
        }
        const contact = {};
        if (values.caller_name.trim()) contact.name = values.caller_name.trim();
        if (values.caller_phone.trim()) contact.phone = values.caller_phone.trim();
        return postJSON(
          "/api/cases",
          {
            channel: "hotline",
            subclass: sub.code,
            subclass_kind: sub.kind,
            urgency: values.urgency || "normal",
            lon: place.lon,
            lat: place.lat,
            description,
            ...(Object.keys(contact).length ? { contact } : {}),
          },
          { idempotencyKey },
        );
      },
      onSuccess: (created) => {
        toast(t("supervision.hotline.created", { no: created.case_no }), { kind: "success" });
        toggleHotline(false);
        refresh();
        openCase(created.case_no);
      },
    });
  }

  function toggleHotline(open, { discard = false } = {}) {
    if (open && !hotline) hotline = buildHotline();
    if (!open && hotline && discard) {
      hotline.reset();
      hotline.clearDraft();
    }
    hotlineBox.hidden = !open;
    state.hotline = open;
    if (hotlineButton) hotlineButton.hidden = open;
    syncURL();
    if (open) hotlineBox.querySelector(".picker-search")?.focus();
  }

  // --- start ----------------------------------------------------------------------------------

  ctx.onLanguage(() => {
    drawCounts();
    drawList();
  });
  drawCounts();
  if (role === "acceptor" && (state.hotline || readDraft("hotline"))) toggleHotline(true);
  await refresh();
  if (state.case) await openCase(state.case);
  window.gridgov.board = { refresh, openCase, closeCase, state, view };
}
