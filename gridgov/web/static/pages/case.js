// case.js — /case/{case_no}: the shared case detail on a page of its own (lib/case_view.js).
//
// A case the server refuses (403: another jurisdiction, department or role; 404: no such case)
// gets a notice like the shell's 403 page (pages/forbidden.js): the translated headline of the
// error's code, "无法加载案件 …", the server's own message as the detail, and the way home or to
// another account. It follows language switches like the rest of the page.

import { ApiError } from "../lib/api.js";
import { caseView } from "../lib/case_view.js";
import { fillIn, h } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { errorHeadline } from "../lib/notice.js";

export async function mount(ctx) {
  const box = h("div", { class: "case-page" });
  ctx.main.replaceChildren(box);
  let refused = null; // {err, no} while the server refuses the case

  function drawRefusal() {
    const { err, no } = refused;
    fillIn(
      view.element,
      h(
        "section",
        {
          class: "notice-page forbidden case-refused",
          dataset: { status: String(err.status), code: err.code || "" },
        },
        h("h1", {}, errorHeadline(err)),
        h("p", { class: "page-error" }, t("case.load_failed", { no })),
        err.message ? h("p", { class: "muted server-message" }, err.message) : null,
        h(
          "p",
          { class: "notice-links" },
          h("a", { href: ctx.config.home, class: "button" }, t("forbidden.home")),
          " ",
          err.status === 403
            ? h(
                "a",
                { href: `/login?next=${encodeURIComponent(ctx.config.url)}` },
                t("forbidden.switch"),
              )
            : null,
        ),
      ),
    );
  }

  const view = caseView(box, {
    showMap: true,
    onLoadError: (err, no) => {
      if (!(err instanceof ApiError) || (err.status !== 403 && err.status !== 404)) return false;
      refused = { err, no };
      drawRefusal();
      return true;
    },
  });
  ctx.onLanguage(() => {
    if (refused && !view.detail) drawRefusal();
  });
  await view.load(ctx.params.case_no);
  window.gridgov.caseView = view; // for the browser tests
}
