// outbox_bar.js — the bar on top of the supervisor's phone app: online / offline, how many
// items wait in the outbox (待发送 N 条), the 重新发送 button and the list of waiting and
// refused items (retry or discard each). app.outbox is read when drawing (pages/mobile.js).

import { h } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { showError, toast } from "../../lib/notice.js";
import { formatDateTime } from "../../lib/time.js";

const kindKey = { report: "mobile.outbox.kind.report", action: "mobile.outbox.kind.action", positions: "mobile.outbox.kind.positions", patrol_stop: "mobile.outbox.kind.patrol_stop" };

/** The bar; returns {root, draw()}. */
export function outboxBar(app) {
  const netState = h("span", { class: "m-net", dataset: { online: String(navigator.onLine !== false) } });
  const outboxCount = h("span", { class: "m-outbox-count", dataset: { outboxCount: "0" } });
  const resendButton = h(
    "button",
    { type: "button", class: "secondary m-resend", "data-i18n": "mobile.outbox.resend" },
    t("mobile.outbox.resend"),
  );
  const outboxList = h("ul", { class: "m-outbox-list" });
  const outboxDetails = h(
    "details",
    { class: "m-outbox-details" },
    h("summary", { "data-i18n": "mobile.outbox.details" }, t("mobile.outbox.details")),
    outboxList,
  );
  const outboxBar = h(
    "section",
    { class: "m-outbox", "aria-live": "polite", dataset: { count: "0", failed: "0" } },
    h("div", { class: "m-outbox-row" }, netState, outboxCount, resendButton),
    outboxDetails,
  );

  function draw() {
    const pending = app.outbox ? app.outbox.pending() : [];
    const failed = app.outbox ? app.outbox.failed() : [];
    const online = navigator.onLine !== false;
    netState.dataset.online = String(online);
    netState.textContent = online ? t("mobile.net.online") : t("mobile.net.offline");
    outboxBar.dataset.count = String(pending.length);
    outboxBar.dataset.failed = String(failed.length);
    outboxCount.dataset.outboxCount = String(pending.length);
    outboxCount.textContent = pending.length
      ? t("mobile.outbox.pending", { n: pending.length })
      : t("mobile.outbox.empty");
    if (failed.length) outboxCount.append(" · ", h("span", { class: "m-outbox-failed" }, t("mobile.outbox.failed", { n: failed.length })));
    resendButton.hidden = !pending.length && !failed.length;
    outboxDetails.hidden = !pending.length && !failed.length;
    outboxBar.classList.toggle("has-items", Boolean(pending.length || failed.length));
    outboxBar.classList.toggle("offline", !online);
    outboxList.replaceChildren(
      ...(app.outbox ? app.outbox.items : []).map((item) =>
        h(
          "li",
          { class: `m-outbox-item ${item.state}`, dataset: { key: item.key, kind: item.kind, state: item.state } },
          h("span", { class: "m-outbox-kind" }, t(kindKey[item.kind] || item.kind)),
          " ",
          h("span", { class: "m-outbox-label" }, item.label || ""),
          " ",
          h("time", { class: "muted" }, formatDateTime(new Date(item.created).toISOString())),
          item.error
            ? h(
                "p",
                { class: item.state === "failed" ? "m-outbox-error" : "muted m-outbox-note" },
                item.state === "failed" ? h("strong", {}, item.error.headline, " ") : t("mobile.outbox.last_error"),
                h("span", { class: "server-message" }, item.error.message),
              )
            : null,
          item.state === "failed"
            ? h(
                "div",
                { class: "m-outbox-actions" },
                h("button", { type: "button", class: "link-button", onclick: () => app.outbox.retry(item.key).then(() => app.drawOutbox()), "data-i18n": "mobile.outbox.retry" }, t("mobile.outbox.retry")),
                h(
                  "button",
                  {
                    type: "button",
                    class: "link-button danger",
                    "data-i18n": "mobile.outbox.discard",
                    onclick: () => {
                      if (window.confirm(t("mobile.outbox.discard_confirm"))) app.outbox.discard(item.key);
                    },
                  },
                  t("mobile.outbox.discard"),
                ),
              )
            : null,
        ),
      ),
    );
  }

  resendButton.addEventListener("click", async () => {
    resendButton.disabled = true;
    try {
      for (const item of app.outbox.failed()) await app.outbox.retry(item.key);
      await app.outbox.flush();
    } catch (err) {
      showError(err);
    } finally {
      resendButton.disabled = false;
    }
    const left = app.outbox.pending().length;
    if (left) toast(t("mobile.outbox.still_pending", { n: left }), { kind: "info" });
  });

  return { root: outboxBar, draw };
}
