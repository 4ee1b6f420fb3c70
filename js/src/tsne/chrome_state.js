// What the scatter's chrome shows, as plain values computed from traits and view state: no DOM
// here, so each rule is unit-tested on its own (js/test/tsne_chrome_state.test.js).

export const OFFLINE_REASON = "Needs a running Python kernel (this is a saved report)";

const STATUS_BADGES = {
  running: ["● Running", "#1a7f37"],
  paused: ["❚❚ Paused", "#475467"],
  stopped: ["■ Stopped", "#475467"],
  finished: ["✓ Finished", "#475467"],
  error: ["Error", "#b42318"],
  idle: ["Ready", "#475467"],
};

/** 1234567 -> "1,234,567". */
export function formatIteration(n) {
  return Number(n).toLocaleString("en-US");
}

// A legend of more than this many labels, all of them this short or shorter, takes two columns.
const TWO_COLUMN_LABELS = 6;
const TWO_COLUMN_NAME_CHARS = 3;

/** Legend columns for label `names`: 2 for many short names (the digits' "0".."9"), else 1, so
 * the side panel stays short enough to show every control without scrolling. */
export function legendColumns(names) {
  const short = names.every((name) => String(name).length <= TWO_COLUMN_NAME_CHARS);
  return names.length > TWO_COLUMN_LABELS && short ? 2 : 1;
}

/** Default point size (px) and opacity for N points: smaller and lighter as the plot gets denser. */
export function autoStyle(n) {
  const decades = Math.log10(Math.max(n, 1000) / 1000);
  return { size: Math.max(1.5, 7 - 1.9 * decades), opacity: Math.max(0.3, 0.9 - 0.2 * decades) };
}

/**
 * The transport buttons for a run `status`: play or pause icon, and which buttons are disabled.
 * Offline (a saved report) every button is disabled and says why.
 */
export function transportState(status, offline) {
  const running = status === "running";
  return {
    icon: running ? "pause" : "play",
    playTitle: offline ? OFFLINE_REASON : running ? "Pause" : "Play",
    offline,
    stopDisabled: offline || !(running || status === "paused"),
    stepDisabled: offline || status === "finished",
  };
}

/**
 * The four progress texts: "Iteration i ", "/ total", the bar width (100 i / total, in %, at most
 * 100) and the status line: the kernel's `activity` when it reports one (what a live setting
 * change did, e.g. "recomputing affinities…"), else the exaggeration in force
 * ("early exaggeration ×12" or "exaggeration off (×1)").
 */
export function progressTexts(iteration, total, exaggeration, activity = "") {
  return [
    `Iteration ${formatIteration(iteration)} `,
    `/ ${formatIteration(total)}`,
    `${total ? Math.min(100, (100 * iteration) / total).toFixed(1) : 0}%`,
    activity
      || (exaggeration > 1.0001 ? `early exaggeration ×${exaggeration.toFixed(exaggeration % 1 ? 1 : 0)}` : "exaggeration off (×1)"),
  ];
}

/** The status badge's text and colour: the view (PCA), the replay, a saved report, else the status. */
export function badgeState({ status, offline, view, replayIteration }) {
  if (view === "pca") return { text: "PCA start layout", color: "#475467" };
  if (replayIteration !== null) return { text: `Replay · iteration ${formatIteration(replayIteration)}`, color: "#6941c6" };
  if (offline) return { text: "Saved report", color: "#475467" };
  const [text, color] = STATUS_BADGES[status] ?? [status, "#475467"];
  return { text, color };
}

/**
 * The learning-rate slider: a positive trait is used as set; 0 means "auto", N / exaggeration
 * (openTSNE's rule), shown as "auto · <value>".
 */
export function learningRateDisplay(rate, nPoints, exaggeration) {
  const effective = rate > 0 ? rate : nPoints / Math.max(exaggeration, 1e-9);
  const text = rate > 0 ? effective.toFixed(effective >= 100 ? 0 : 1) : `auto · ${effective.toFixed(0)}`;
  return { value: effective, text, auto: !(rate > 0) };
}

/** KL points to show: the trait's history, then the live points newer than its last iteration. */
export function mergedKlHistory(history, live) {
  const merged = history.slice();
  const last = merged.length ? merged[merged.length - 1][0] : -1;
  for (const point of live) if (point[0] > last) merged.push(point);
  return merged;
}

/** The KL recorded at or before `iteration` ("–" when none): what the replayed keyframe had. */
export function klTextAt(history, iteration = Infinity) {
  let shown = null;
  for (const [it, kl] of history) if (it <= iteration) shown = kl;
  return shown === null ? "–" : shown.toFixed(3);
}

/** The timeline's caption, Live/End button and whether replay is possible. */
export function timelineState({ count, replaying, offline, replayIteration, lastIteration }) {
  const where = offline ? "final layout" : "live";
  return {
    canReplay: count >= 2,
    liveLabel: offline ? "End" : "Live",
    liveDisabled: !replaying,
    text: replaying
      ? `iteration ${formatIteration(replayIteration)} of ${formatIteration(lastIteration)}`
      : count > 1 ? `${count} keyframes · ${where}` : "keyframes appear as the run goes",
  };
}
