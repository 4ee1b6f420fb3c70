// Brings the chrome in line with the model and the view's state, one piece at a time: each
// method is the updater of one view part (see TRAIT_EFFECTS in view.js) and touches only its piece.
import {
  autoStyle, badgeState, klTextAt, learningRateDisplay, mergedKlHistory, progressTexts, timelineState,
} from "./chrome_state.js";

// While streaming, the progress texts and bar change at most this often: a counter redrawn 60
// times a second cannot be read, and each change costs a style, layout and paint pass.
const PROGRESS_INTERVAL_MS = 100;

export class ChromeSync {
  /** `view` supplies the model, the chrome and the live/replay state. */
  constructor(view) {
    this.view = view;
    this.timer = 0;
    this.shownAt = 0;
  }

  /** The iteration shown in the replay, or null when live. */
  replayIteration() {
    const { mode, track, replayPosition } = this.view;
    return mode === "replay" ? track.iterationAt(replayPosition) : null;
  }

  /** Iteration counter, progress bar and the status line (or "recorded keyframe"). */
  progress() {
    const { model, chrome, currentExaggeration } = this.view;
    const replayed = this.replayIteration();
    const iteration = replayed ?? this.liveIteration();
    const texts = progressTexts(
      iteration, model.get("n_iter"), currentExaggeration ?? model.get("exaggeration"), model.get("activity") ?? "",
    );
    if (replayed !== null) texts[3] = "recorded keyframe";
    chrome.progress.show(texts);
  }

  /** The iteration on screen when live: the newest frame's while running, else the settled one. */
  liveIteration() {
    const { model, stats } = this.view;
    const settled = model.get("iteration_count");
    return model.get("status") === "running" ? stats.lastIteration || settled : settled;
  }

  /** progress() for the live stream, at most once per PROGRESS_INTERVAL_MS; the newest frame's
   * progress is always shown in the end (a trailing update covers frames that were skipped). */
  liveProgressSoon() {
    if (this.timer) return;
    const wait = PROGRESS_INTERVAL_MS - (performance.now() - this.shownAt);
    const show = () => {
      this.timer = 0;
      this.shownAt = performance.now();
      if (this.view.mode === "live" && !this.view.disposed) this.progress();
    };
    if (wait <= 0) show();
    else this.timer = setTimeout(show, wait);
  }

  /** KL sparkline and value; while replaying, the KL recorded at or before the keyframe shown. */
  kl() {
    const { model, chrome, liveKl } = this.view;
    const history = mergedKlHistory(model.get("kl_history") || [], liveKl);
    chrome.kl.show(history, model.get("n_iter"), klTextAt(history, this.replayIteration() ?? Infinity));
  }

  /** The status badge over the plot. */
  badge() {
    const { model, chrome, offline } = this.view;
    chrome.showBadge(badgeState({
      status: model.get("status"), offline, view: model.get("view"), replayIteration: this.replayIteration(),
    }));
  }

  /** The timeline bar: slider range and position, replay button, caption, Live/End button. */
  timeline() {
    const { chrome, track, offline, player, mode, replayPosition } = this.view;
    const replaying = mode === "replay";
    const state = timelineState({
      count: track.count, replaying, offline,
      replayIteration: track.iterationAt(replayPosition), lastIteration: track.lastIteration(),
    });
    chrome.timeline.update(state, { count: track.count, playing: player.playing, position: replaying ? replayPosition : null });
  }

  /** The learning-rate slider (a set rate, or "auto" = N / exaggeration) and its auto button. */
  learningRate() {
    const { model, chrome, n, offline } = this.view;
    const shown = learningRateDisplay(model.get("learning_rate"), n, model.get("exaggeration"));
    chrome.side.learningRate.set(shown.value, shown.text);
    chrome.side.autoRate.style.display = !shown.auto && !offline ? "" : "none";
  }

  /** Point size and opacity: the trait when positive, else autoStyle(N); sliders and renderer. */
  pointStyle() {
    const { model, chrome, n, renderer } = this.view;
    const style = autoStyle(n);
    const size = model.get("point_size") > 0 ? model.get("point_size") : style.size;
    const opacity = model.get("opacity") > 0 ? model.get("opacity") : style.opacity;
    chrome.side.size.set(size);
    chrome.side.opacity.set(opacity);
    if (renderer) { renderer.pointSize = size; renderer.opacity = opacity; }
    this.view.requestDraw();
  }

  /** Cancel a pending progress update. */
  dispose() {
    clearTimeout(this.timer);
    this.timer = 0;
  }
}
