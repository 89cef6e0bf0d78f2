// forbidden.js — the 403 notice: the viewer's role may not open the requested page
// (the server answers 403 with the shell and mounts this module).

import { h } from "../lib/dom.js";
import { label, onLanguage, t } from "../lib/i18n.js";

export async function mount(ctx) {
  const draw = () => {
    const role = ctx.user ? label("role", ctx.user.role) : "";
    ctx.main.replaceChildren(
      h(
        "section",
        { class: "notice-page forbidden", dataset: { status: "403" } },
        h("h1", {}, t("forbidden.title")),
        h("p", {}, t("forbidden.body", { role, page: t(ctx.config.title_key) })),
        h(
          "p",
          { class: "notice-links" },
          h("a", { href: ctx.config.home, class: "button" }, t("forbidden.home")),
          " ",
          h(
            "a",
            { href: `/login?next=${encodeURIComponent(ctx.config.url)}` },
            t("forbidden.switch"),
          ),
        ),
      ),
    );
  };
  draw();
  ctx.onLanguage(draw);
}
