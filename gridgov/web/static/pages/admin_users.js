// admin_users.js — the admin page's 用户 tab (pages/admin.js): users with role, department,
// jurisdictions, status and last login, filtered by role and active flag and paged (加载更多); a
// row opens the edit form, 新建用户 the create form (admin_user_forms.js).

import { getJSON, query } from "../lib/api.js";
import { h, tx } from "../lib/dom.js";
import { label, t } from "../lib/i18n.js";
import { showError } from "../lib/notice.js";
import { formatDateTime } from "../lib/time.js";
import { ROLES, button, emptyRow, enumSelect, option, th } from "./admin_kit.js";
import { userForms } from "./admin_user_forms.js";

const USERS_PAGE = 100;

export function usersTab(panel) {
  const state = {
    users: [],
    role: "",
    active: "",
    offset: 0,
    more: false,
    selected: null,
    regions: [],
    departments: [],
  };
  const roleFilter = enumSelect("role_filter", ROLES, "role", { empty: "form.all" });
  roleFilter.id = "user-role-filter";
  const activeFilter = h(
    "select",
    { id: "user-active-filter" },
    option("", "form.all"),
    option("true", "admin.users.active_only"),
    option("false", "admin.users.inactive_only"),
  );
  for (const el of [roleFilter, activeFilter]) {
    el.addEventListener("change", () => {
      state.role = roleFilter.value;
      state.active = activeFilter.value;
      load().catch(showError);
    });
  }
  const tbody = h("tbody");
  const moreButton = button("admin.users.more", () => load({ append: true }).catch(showError), {
    hidden: true,
  });
  const createBox = h("div", { class: "card form-card", id: "user-create-box", hidden: true });
  const editBox = h("div", { class: "card form-card", id: "user-edit-box", hidden: true });
  const { openCreate, openEdit } = userForms({ state, createBox, editBox, draw, load });

  panel.append(
    h(
      "div",
      { class: "users-layout" },
      h(
        "section",
        { class: "card" },
        h(
          "div",
          { class: "toolbar" },
          h("h3", {}, tx("admin.users.title")),
          h("label", {}, tx("admin.users.role"), " ", roleFilter),
          h("label", {}, tx("admin.users.status"), " ", activeFilter),
          button("admin.users.new", () => openCreate(), { id: "user-new", cls: "primary" }),
        ),
        createBox,
        h(
          "div",
          { class: "table-scroll" },
          h(
            "table",
            { id: "user-table" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                th("admin.users.username"),
                th("admin.users.name"),
                th("admin.users.role"),
                th("admin.users.department"),
                th("admin.users.jurisdictions"),
                th("admin.users.status"),
                th("admin.users.last_login"),
              ),
            ),
            tbody,
          ),
        ),
        moreButton,
      ),
      editBox,
    ),
  );

  async function loadRefs() {
    const [streets, communities, departments] = await Promise.all([
      getJSON(`/api/regions${query({ level: "street" })}`),
      getJSON(`/api/regions${query({ level: "community" })}`),
      getJSON("/api/departments"),
    ]);
    state.regions = [...streets, ...communities];
    state.departments = departments;
  }

  async function load({ append = false } = {}) {
    const offset = append ? state.offset : 0;
    const page = await getJSON(
      `/api/users${query({ role: state.role, active: state.active, limit: USERS_PAGE, offset })}`,
    );
    state.users = append ? [...state.users, ...page] : page;
    state.offset = offset + page.length;
    state.more = page.length === USERS_PAGE;
    draw();
  }

  function jurText(u) {
    if (!u.jurisdictions.length) return t("value.none");
    const first = u.jurisdictions
      .slice(0, 2)
      .map((j) => `${label("admin.scope", j.kind)} ${j.code}`);
    const rest = u.jurisdictions.length - first.length;
    return first.join("、") + (rest > 0 ? ` ${t("admin.users.and_more", { n: rest })}` : "");
  }

  function status(u) {
    if (!u.active) return t("admin.inactive");
    if (u.locked_until && new Date(u.locked_until) > new Date()) return t("admin.users.locked");
    return t("admin.active");
  }

  function draw() {
    tbody.replaceChildren(
      ...state.users.map((u) =>
        h(
          "tr",
          {
            dataset: { username: u.username },
            class: `clickable${u.active ? "" : " inactive"}${state.selected && state.selected.username === u.username ? " selected" : ""}`,
            onclick: () => openEdit(u),
          },
          h("td", { class: "code" }, u.username),
          h("td", {}, u.name),
          h("td", {}, label("role", u.role)),
          h("td", { class: "code" }, u.department_code || ""),
          h("td", { class: "wrap" }, jurText(u)),
          h("td", {}, status(u)),
          h("td", {}, u.last_login_at ? formatDateTime(u.last_login_at) : t("value.none")),
        ),
      ),
    );
    if (!state.users.length) tbody.append(emptyRow(7));
    moreButton.hidden = !state.more;
  }

  return {
    ready: Promise.all([loadRefs(), load()]),
    relabel: () => {
      draw();
      if (state.selected) openEdit(state.selected);
    },
  };
}
