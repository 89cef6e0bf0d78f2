// case.js — /case/{case_no}: the shared case detail on a page of its own (lib/case_view.js).

import { caseView } from "../lib/case_view.js";
import { h } from "../lib/dom.js";

export async function mount(ctx) {
  const box = h("div", { class: "case-page" });
  ctx.main.replaceChildren(box);
  const view = caseView(box, { showMap: true });
  await view.load(ctx.params.case_no);
  window.gridgov.caseView = view; // for the browser tests
}
