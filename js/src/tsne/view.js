// One rendered TSNEScatter: owns the view state (camera, morph, live/replay mode, the layout on
// screen) and wires the model to it. Each synced trait updates only the parts it affects (see
// TRAIT_EFFECTS); the chrome is built once (chrome.js) and updated in place. Streamed frames only
// overwrite the position buffer and redraw; the hover index is built once the layout rests.
import { ViewParts } from "../lib/trait_wiring.js";
import { buildChrome } from "./chrome.js";
import {
  autoStyle, badgeState, klTextAt, learningRateDisplay, mergedKlHistory, progressTexts, timelineState, transportState,
} from "./chrome_state.js";
import { HOME, layoutBounds, normalization, worldToScreen } from "./geometry.js";
import { drawLayout, drawStreamedFrame, loadSettledLayout, receiveFrame } from "./frames.js";
import { bindPointer } from "./interaction.js";
import { LabelsAndSelection } from "./labels.js";
import { drawOverlay } from "./overlay.js";
import { PointRenderer } from "./renderer.js";
import { KeyframeTrack, ReplayPlayer, clampPosition } from "./replay.js";
import { FrameInbox, asFloat32, asUint16 } from "./streaming.js";
import { HoverTooltip } from "./tooltip.js";

const MORPH_MS = 900;
// A saved report starts its replay this long after it appears (ms).
const OFFLINE_REPLAY_DELAY_MS = 400;
// While streaming, the progress texts and bar change at most this often: a counter redrawn 60
// times a second cannot be read, and each change costs a style, layout and paint pass.
const PROGRESS_INTERVAL_MS = 100;

/** Which parts of the view each synced trait affects. */
export const TRAIT_EFFECTS = {
  status: ["transport", "progress", "badge", "draw"],
  iteration_count: ["progress"],
  n_iter: ["progress", "kl"],
  kl_history: ["kl"],
  error: ["banners"],
  notice: ["banners"],
  perplexity: ["perplexity"],
  exaggeration: ["exaggeration", "learningRate", "progress"],
  learning_rate: ["learningRate"],
  point_size: ["pointStyle"],
  opacity: ["pointStyle"],
  _offline: ["transport", "optimizerLock", "learningRate", "badge", "timeline"],
  view: ["view"],
  selection: ["selection"],
  positions: ["layout"],
  keyframes: ["keyframes"],
  keyframe_iterations: ["keyframes"],
  keyframe_bounds: ["keyframes"],
  label_codes: ["labels", "selection"],
  label_names: ["labels", "selection"],
  pca_positions: ["pca"],
};

/** The parts that show the live/replay mode, updated when it changes. */
const MODE_PARTS = new Set(["progress", "kl", "badge", "timeline"]);

const easeInOut = (t) => (t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2);

export class ScatterView {
  constructor(model, el) {
    this.model = model;
    this.inbox = new FrameInbox();
    this.camera = { ...HOME };
    this.mode = "live"; // "live" shows the stream / settled layout; "replay" shows keyframes
    this.replayPosition = 0;
    this.morph = { value: model.get("view") === "pca" ? 1 : 0, from: 0, to: 0, start: 0, running: false };
    this.stats = { framesReceived: 0, framesDrawn: 0, draws: 0, lastIteration: 0, drawTimes: [] };
    this.liveKl = [];
    this.interaction = "pan";
    this.raf = 0;
    this.pca = new Float32Array(0);
    this.build(el);
    this.parts = new ViewParts(this.partUpdaters());
    this.parts.updateAll();
    this.parts.bindTraits(model, TRAIT_EFFECTS);
    this.onMessage = (message, buffers) => receiveFrame(this, message, buffers);
    model.on("msg:custom", this.onMessage);
    if (!this.offline) model.send({ type: "hello" });
    else if (this.track.count > 1) this.replayStartTimer = setTimeout(() => this.playReplay(0), OFFLINE_REPLAY_DELAY_MS);
  }

  get offline() { return Boolean(this.model.get("_offline")); }

  get n() { return this.model.get("n_points"); }

  build(el) {
    const maxPerplexity = Math.max(2, Math.min(100, Math.floor((this.n - 1) / 3)));
    this.chrome = buildChrome(el, { title: this.model.get("title"), maxPerplexity }, {
      togglePlay: () => this.command(this.model.get("status") === "running" ? "pause" : "play"),
      command: (name) => this.command(name),
      setView: (value) => this.setView(value),
      setInteraction: (value) => this.setInteraction(value),
      resetCamera: () => this.resetCamera(),
      dismiss: (trait) => this.setTrait(trait, ""),
      setSelection: (indices) => this.setSelection(indices),
      setTrait: (name, value) => this.setTrait(name, value),
      previewPointSize: (v) => { if (this.renderer) this.renderer.pointSize = v; this.requestDraw(); },
      previewOpacity: (v) => { if (this.renderer) this.renderer.opacity = v; this.requestDraw(); },
      toggleReplay: () => this.toggleReplay(),
      scrub: (position) => { this.player.stop(); this.showReplay(position); },
      goLive: () => this.goLive(),
    });
    const c = this.chrome;
    this.root = c.root;
    this.plot = c.plot;
    this.canvas = c.canvas;
    this.overlay = c.overlay;
    this.tooltip = new HoverTooltip(this, c.tooltip);
    this.labels = new LabelsAndSelection(this);
    this.player = new ReplayPlayer({ onPosition: (p) => this.showReplay(p), onEnd: () => this.goLive() });
    try {
      this.renderer = new PointRenderer(this.canvas);
    } catch (error) {
      this.renderer = null;
      this.rendererError = String(error.message || error);
    }
    this.unbindPointer = bindPointer(this);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.plot);
    this.resize();
  }

  /** [part, updater] in the order a full update runs them (data before what shows it). */
  partUpdaters() {
    const m = this.model;
    const c = this.chrome;
    return [
      ["labels", () => this.labels.loadLabels()],
      ["pca", () => this.loadPca()],
      ["selection", () => this.labels.loadSelection()],
      ["layout", () => loadSettledLayout(this)],
      ["keyframes", () => this.loadKeyframes()],
      ["view", () => this.animateView(m.get("view"))],
      ["transport", () => c.transport.update(transportState(m.get("status"), this.offline))],
      ["progress", () => this.updateProgress()],
      ["kl", () => this.updateKl()],
      ["badge", () => this.updateBadge()],
      ["timeline", () => this.updateTimeline()],
      ["perplexity", () => c.side.perplexity.set(m.get("perplexity"))],
      ["exaggeration", () => c.side.exaggeration.set(m.get("exaggeration"))],
      ["learningRate", () => this.updateLearningRate()],
      ["optimizerLock", () => c.side.setOffline(this.offline)],
      ["pointStyle", () => this.updatePointStyle()],
      // Without WebGL the view says so in the error banner until the kernel reports an error of its own.
      ["banners", () => { c.errorBanner.show(m.get("error") || this.rendererError); c.noticeBanner.show(m.get("notice")); }],
      ["draw", () => this.requestDraw()],
    ];
  }

  // ---- trait -> view ---------------------------------------------------------------------------
  loadPca() {
    this.pca = asFloat32(this.model.get("pca_positions"));
    this.pcaNorm = normalization(layoutBounds(this.pca));
    if (this.renderer && this.pca.length === this.n * 2) this.renderer.setMorphTarget(this.pca, this.pcaNorm);
    this.tooltip.invalidate();
    this.requestDraw();
  }

  loadKeyframes() {
    const m = this.model;
    this.track = new KeyframeTrack(asUint16(m.get("keyframes")), m.get("keyframe_iterations") || [],
      m.get("keyframe_bounds") || [], this.n);
    this.updateTimeline();
  }

  updateProgress() {
    const replaying = this.mode === "replay";
    const iteration = replaying ? this.track.iterationAt(this.replayPosition) : this.liveIteration();
    const texts = progressTexts(iteration, this.model.get("n_iter"), this.currentExaggeration ?? this.model.get("exaggeration"));
    if (replaying) texts[3] = "recorded keyframe";
    this.chrome.progress.show(texts);
  }

  updateKl() {
    const history = mergedKlHistory(this.model.get("kl_history") || [], this.liveKl);
    // While replaying, the KL recorded at (or just before) the keyframe shown.
    const upTo = this.mode === "replay" ? this.track.iterationAt(this.replayPosition) : Infinity;
    this.chrome.kl.show(history, this.model.get("n_iter"), klTextAt(history, upTo));
  }

  updateBadge() {
    this.chrome.showBadge(badgeState({
      status: this.model.get("status"), offline: this.offline, view: this.model.get("view"),
      replayIteration: this.mode === "replay" ? this.track.iterationAt(this.replayPosition) : null,
    }));
  }

  updateTimeline() {
    const replaying = this.mode === "replay";
    const state = timelineState({
      count: this.track.count, replaying, offline: this.offline,
      replayIteration: this.track.iterationAt(this.replayPosition), lastIteration: this.track.lastIteration(),
    });
    this.chrome.timeline.update(state, {
      count: this.track.count, playing: this.player.playing, position: replaying ? this.replayPosition : null,
    });
  }

  updateLearningRate() {
    const rate = this.model.get("learning_rate");
    const shown = learningRateDisplay(rate, this.n, this.model.get("exaggeration"));
    this.chrome.side.learningRate.set(shown.value, shown.text);
    this.chrome.side.autoRate.style.display = !shown.auto && !this.offline ? "" : "none";
  }

  updatePointStyle() {
    const style = autoStyle(this.n);
    const size = this.model.get("point_size") > 0 ? this.model.get("point_size") : style.size;
    const opacity = this.model.get("opacity") > 0 ? this.model.get("opacity") : style.opacity;
    this.chrome.side.size.set(size);
    this.chrome.side.opacity.set(opacity);
    if (this.renderer) { this.renderer.pointSize = size; this.renderer.opacity = opacity; }
    this.requestDraw();
  }

  /** The iteration on screen when live: the newest frame's while running, else the settled one. */
  liveIteration() {
    const settled = this.model.get("iteration_count");
    if (this.model.get("status") === "running") return this.stats.lastIteration || settled;
    return settled;
  }

  /** updateProgress for the live stream, at most once per PROGRESS_INTERVAL_MS; the newest frame's
   * progress is always shown in the end (a trailing update covers frames that were skipped). */
  updateLiveProgressSoon() {
    if (this.progressTimer) return;
    const wait = PROGRESS_INTERVAL_MS - (performance.now() - (this.progressShownAt || 0));
    const show = () => {
      this.progressTimer = 0;
      this.progressShownAt = performance.now();
      if (this.mode === "live" && !this.disposed) this.updateProgress();
    };
    if (wait <= 0) show();
    else this.progressTimer = setTimeout(show, wait);
  }

  // ---- view -> model ---------------------------------------------------------------------------
  setTrait(name, value) {
    this.model.set(name, value);
    this.model.save_changes();
  }

  command(name) {
    if (this.offline) return;
    if (name === "restart") { this.liveKl = []; this.stats.lastIteration = 0; }
    this.goLive();
    this.model.send({ type: "command", name });
  }

  setSelection(indices) {
    this.setTrait("selection", indices);
  }

  setView(value) {
    if (value === this.model.get("view")) return;
    this.setTrait("view", value);
    this.animateView(value);
  }

  setInteraction(value) {
    this.interaction = value;
    this.plot.classList.toggle("lasso", value === "lasso");
    this.plot.classList.toggle("pan", value === "pan");
    this.chrome.toolToggle.set(value);
  }

  resetCamera() {
    this.camera = { ...HOME };
    this.requestDraw();
  }

  // ---- layouts and replay ----------------------------------------------------------------------
  /** Put an N x 2 layout into the live position buffer (in place) and re-fit its normalisation. */
  showLayout(xy) {
    this.displayed = xy;
    this.displayedNorm = normalization(layoutBounds(xy));
    if (this.renderer) this.renderer.setPositions(xy, this.displayedNorm);
    this.tooltip.invalidate();
    this.requestDraw();
  }

  setMode(mode) {
    if (this.mode === mode) return;
    this.mode = mode;
    this.parts.updateNow(MODE_PARTS);
  }

  goLive() {
    this.player.stop();
    if (this.mode === "live") { this.updateTimeline(); return; }
    const latest = this.latestLive || this.settled;
    if (latest) this.showLayout(latest);
    this.setMode("live");
  }

  /** Show timeline position `position` (fractional: a blend of the two keyframes around it). */
  showReplay(position) {
    if (this.track.count < 1) return;
    this.replayPosition = clampPosition(position, this.track.count);
    this.showLayout(this.track.layoutAt(this.replayPosition));
    if (this.mode === "replay") this.parts.updateNow(MODE_PARTS);
    else this.setMode("replay");
  }

  toggleReplay() {
    if (this.player.playing) { this.player.stop(); this.updateTimeline(); return; }
    const from = this.mode === "replay" && this.replayPosition < this.track.count - 1 ? this.replayPosition : 0;
    this.playReplay(from);
  }

  playReplay(from) {
    this.player.play(from, this.track.count);
    this.updateTimeline();
  }

  animateView(value) {
    const target = value === "pca" ? 1 : 0;
    this.chrome.viewToggle.set(value);
    this.updateBadge();
    if (this.morph.value === target && !this.morph.running) return;
    this.morph = { value: this.morph.value, from: this.morph.value, to: target, start: performance.now(), running: true };
    this.tooltip.invalidate();
    this.requestDraw();
  }

  /** The layout on screen (for hit tests): PCA when the morph is past halfway, else layout 0. */
  hitLayout() {
    if (this.morph.value > 0.5 && this.pca.length === this.n * 2) return { xy: this.pca, norm: this.pcaNorm, key: "pca" };
    return { xy: this.displayed, norm: this.displayedNorm, key: this.displayed };
  }

  layoutIsStatic() {
    if (this.morph.running) return false;
    if (this.morph.value === 1) return true;
    return this.mode === "replay" || this.model.get("status") !== "running" || this.offline;
  }

  // ---- drawing ---------------------------------------------------------------------------------
  requestDraw() {
    if (this.raf || this.disposed) return;
    this.raf = requestAnimationFrame(() => { this.raf = 0; this.drawFrame(); });
  }

  drawFrame() {
    const frame = this.inbox.take();
    if (frame) drawStreamedFrame(this, frame);
    if (this.morph.running) {
      const t = Math.min(1, (performance.now() - this.morph.start) / MORPH_MS);
      this.morph.value = this.morph.from + (this.morph.to - this.morph.from) * easeInOut(t);
      if (t >= 1) this.morph.running = false;
      else this.requestDraw();
    }
    drawLayout(this);
    this.drawOverlay();
    if (frame) {
      this.stats.framesDrawn += 1;
      this.model.send({ type: "ack", seq: frame.seq });
    }
  }

  drawOverlay() {
    drawOverlay(this);
  }

  pointSize() {
    return this.renderer ? this.renderer.pointSize : 4;
  }

  resize() {
    const { width, height } = this.plot.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    this.width = width;
    this.height = height;
    if (this.renderer) this.renderer.resize(width, height, ratio);
    this.overlay.width = Math.max(1, Math.round(width * ratio));
    this.overlay.height = Math.max(1, Math.round(height * ratio));
    this.requestDraw();
  }

  /** Screen position (CSS px inside the plot) where point `i` is drawn now. */
  screenPosition(i) {
    const { xy, norm } = this.hitLayout();
    const wx = (xy[2 * i] - norm.cx) * norm.scale;
    const wy = (xy[2 * i + 1] - norm.cy) * norm.scale;
    return worldToScreen(this.camera, this.width, this.height, wx, wy);
  }

  /** Remove every listener, timer, observer and GL resource this view holds. */
  dispose() {
    this.disposed = true;
    this.parts.dispose();
    this.model.off("msg:custom", this.onMessage);
    this.unbindPointer();
    if (this.raf) cancelAnimationFrame(this.raf);
    clearTimeout(this.progressTimer);
    clearTimeout(this.restTimer);
    clearTimeout(this.replayStartTimer);
    this.player.stop();
    this.resizeObserver.disconnect();
    if (this.renderer) this.renderer.dispose();
  }
}
