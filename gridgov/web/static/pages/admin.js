// admin.js — 系统管理 (/admin; admin): the configuration that is data, not code (DESIGN §4.2).
//
// Tabs (the open one is ?tab= in the URL, so a reload or a login comes back to it):
//   grids        regions and unit grids: the region tree, a map of our own layers, a grid's
//                polygon edited vertex by vertex (drag; click a midpoint to add; right-click to
//                remove; shared vertices of neighbouring grids move together) or redrawn, saved
//                through PUT /api/grids/{code} or POST /api/grids/edit; a refusal (overlap, gap,
//                outside the community …) is listed and marked on the map where the server found it
//   taxonomy     classes and subclasses (GET /api/taxonomy/*), a subclass's time limits edited
//                (PUT /api/taxonomy/subclasses/{code}/time-limits), JSON and Excel import/export
//   calendar     the year's status with a warning when next year is not covered, the rules of a
//                year, local overrides added and removed, a State Council notice imported
//   departments  departments and the responsibility matrix (list, create, edit, delete) and the
//                routing preview (GET /api/routing/preview)
//   users        users with role, jurisdictions and active flag; create, edit, reset password
// Every form validates before sending, shows the server's refusal and keeps what was typed
// (lib/form.js).
//
// Modules: admin_kit.js (shared pieces), admin_grids.js (regions and grids) with admin_grid_map.js
// (map style, polygon helpers), admin_grid_editor.js and admin_grid_edit_form.js (the vertex
// editor); admin_taxonomy.js; admin_calendar.js; admin_departments.js with admin_routing.js (the
// responsibility matrix and routing preview); admin_users.js with admin_user_forms.js and
// admin_jurisdictions.js.

import { h, tx } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { showError } from "../lib/notice.js";
import { calendarTab } from "./admin_calendar.js";
import { departmentsTab } from "./admin_departments.js";
import { gridsTab } from "./admin_grids.js";
import { taxonomyTab } from "./admin_taxonomy.js";
import { usersTab } from "./admin_users.js";

const TABS = ["grids", "taxonomy", "calendar", "departments", "users"];

// ---------------------------------------------------------------------------------------------
// The page

export async function mount(ctx) {
  const params = new URLSearchParams(window.location.search);
  const current = TABS.includes(params.get("tab")) ? params.get("tab") : "grids";
  const panels = {};
  const tabs = {};
  const mounted = {};
  const tabBar = h("nav", {
    class: "admin-tabs",
    role: "tablist",
    "data-i18n-aria-label": "page.admin",
    "aria-label": t("page.admin"),
  });
  for (const name of TABS) {
    tabs[name] = h(
      "button",
      {
        type: "button",
        role: "tab",
        id: `tab-${name}`,
        class: "admin-tab",
        dataset: { tab: name },
        "aria-controls": `panel-${name}`,
        onclick: () => show(name),
      },
      tx(`admin.tab.${name}`),
    );
    tabBar.append(tabs[name]);
    panels[name] = h("section", {
      class: `admin-panel admin-${name}`,
      id: `panel-${name}`,
      role: "tabpanel",
      "aria-labelledby": `tab-${name}`,
      hidden: true,
    });
  }
  ctx.main.replaceChildren(
    h(
      "div",
      { class: "admin-page" },
      h(
        "div",
        { class: "admin-top" },
        h("h1", { "data-i18n": "page.admin" }, t("page.admin")),
        tabBar,
      ),
      ...Object.values(panels),
    ),
  );

  const builders = {
    grids: gridsTab,
    taxonomy: taxonomyTab,
    calendar: calendarTab,
    departments: departmentsTab,
    users: usersTab,
  };

  async function show(name) {
    for (const n of TABS) {
      tabs[n].setAttribute("aria-selected", String(n === name));
      panels[n].hidden = n !== name;
    }
    const url = new URL(window.location.href);
    url.searchParams.set("tab", name);
    window.history.replaceState(null, "", url);
    if (!mounted[name]) {
      mounted[name] = builders[name](panels[name], ctx);
      try {
        await mounted[name].ready;
      } catch (err) {
        showError(err);
      }
    } else {
      mounted[name].shown?.();
    }
  }

  ctx.onLanguage(() => {
    for (const tab of Object.values(mounted)) tab.relabel?.();
  });
  window.gridgov.admin = { show, tabs: mounted };
  await show(current);
}
