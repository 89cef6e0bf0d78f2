// placeholder.js — mounted for a page of the table (gridgov/web/pages.py) whose module
// pages/<id>.js is not written yet: says so in the user's language, links home.

import { h } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

export async function mount(ctx) {
  ctx.main.replaceChildren(
    h(
      "section",
      { class: "notice-page placeholder" },
      h("h1", { "data-i18n": ctx.config.title_key }, t(ctx.config.title_key)),
      h("p", { class: "notice-title", "data-i18n": "placeholder.title" }, t("placeholder.title")),
      h("p", { class: "muted", "data-i18n": "placeholder.body" }, t("placeholder.body")),
      ctx.user && ctx.config.home !== ctx.config.path
        ? h("a", { href: ctx.config.home, "data-i18n": "placeholder.home" }, t("placeholder.home"))
        : null,
    ),
  );
}
