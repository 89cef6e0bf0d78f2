// badges.js — small labelled markers: deadline lights (绿/黄灯/红灯), case states, channels.
//
//   lightBadge("yellow")            → <span class="badge light light-yellow">黄灯</span>
//   worstLight({handle: "yellow"})  → "yellow"   (red > yellow > green > none)
//   stateBadge("reported")          → <span class="badge state state-reported">上报</span>
//   deadlineBadge(deadline)         → light + "截止 12/03 14:05" for one running step
// Colours live in shell.css (.light-*, .state-*); text always comes from the translations.

import { h } from "./dom.js";
import { label, t } from "./i18n.js";
import { formatDateTime } from "./time.js";

const RANK = { green: 1, yellow: 2, red: 3 };

/** The worst of a case's lights ({step: light} or a list); null when none is running. */
export function worstLight(lights) {
  const values = Array.isArray(lights) ? lights : Object.values(lights || {});
  let worst = null;
  for (const light of values) {
    if (light && (RANK[light] || 0) > (RANK[worst] || 0)) worst = light;
  }
  return worst;
}

export function lightBadge(light, { empty = false } = {}) {
  if (!light && !empty) return null;
  const name = light || "none";
  return h(
    "span",
    { class: `badge light light-${name}`, dataset: { light: name } },
    label("light", name),
  );
}

export function stateBadge(state) {
  return h(
    "span",
    { class: `badge state state-${state}`, dataset: { state } },
    label("state", state),
  );
}

export function channelBadge(channel) {
  return h("span", { class: "badge channel", dataset: { channel } }, label("channel", channel));
}

export function urgencyBadge(urgency) {
  if (!urgency || urgency === "normal") return null;
  return h(
    "span",
    { class: `badge urgency urgency-${urgency}`, dataset: { urgency } },
    label("urgency", urgency),
  );
}

/** One step deadline from the case detail: step name, light and due time. */
export function deadlineBadge(deadline) {
  const running = !deadline.stopped_at;
  return h(
    "span",
    { class: `deadline ${running ? "running" : "stopped"}`, dataset: { step: deadline.step } },
    h("span", { class: "deadline-step" }, label("step", deadline.step)),
    running ? lightBadge(deadline.light) : null,
    deadline.due_at
      ? h(
          "span",
          { class: "deadline-due" },
          t("time.due", { time: formatDateTime(deadline.due_at) }),
        )
      : null,
  );
}
