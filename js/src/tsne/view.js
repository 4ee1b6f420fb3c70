// One rendered TSNEScatter: owns the view state (camera, morph, live/replay mode, the layout on
// screen) and wires the model to it. Each synced trait updates only the parts it affects (see
// TRAIT_EFFECTS); the chrome is built once (chrome.js) and updated in place. Streamed frames only
// overwrite the position buffer and redraw; the hover index is built once the layout rests.
import { ViewParts } from "../lib/trait_wiring.js";
import { buildChrome } from "./chrome.js";
import { transportState } from "./chrome_state.js";
import { ChromeSync } from "./chrome_sync.js";
import { HOME, layoutBounds, normalization, worldToScreen } from "./geometry.js";
import { drawLayout, drawStreamedFrame, loadSettledLayout, receiveFrame, reportSpanSoon, spanPixels } from "./frames.js";
import { bindPointer } from "./interaction.js";
import { LabelsAndSelection } from "./labels.js";
import { setOrbit } from "./cloud.js";
import { HOME_ORBIT, PROJECTED_NORM, backToFront, project } from "./orbit.js";
import { drawOverlay } from "./overlay.js";
import { ProjectorControls } from "./projector.js";
import { PointRenderer } from "./renderer.js";
import { KeyframeTrack, ReplayPlayer, clampPosition } from "./replay.js";
import { FrameInbox, asFloat32, asUint16 } from "./streaming.js";
import { HoverTooltip } from "./tooltip.js";

const MORPH_MS = 900;
// A saved report starts its replay this long after it appears (ms).
const OFFLINE_REPLAY_DELAY_MS = 400;

/** Which parts of the view each synced trait affects. */
export const TRAIT_EFFECTS = {
  // Points were added: everything sized by N is read again (the traits arrive in one message).
  n_points: ["labels", "selection", "highlight", "hidden", "searchIndex", "pca", "layout", "keyframes", "focus", "keptShare", "draw"],
  status: ["transport", "progress", "badge", "draw"],
  iteration_count: ["progress"],
  activity: ["progress"],
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
  ringed: ["ringed"],
  positions: ["layout"],
  keyframes: ["keyframes"],
  keyframe_iterations: ["keyframes"],
  keyframe_bounds: ["keyframes"],
  label_codes: ["labels", "selection", "hidden", "searchIndex"],
  label_names: ["labels", "selection", "hidden", "searchIndex"],
  pca_positions: ["pca"],
  texts: ["searchIndex", "focus"],
  highlight: ["highlight"],
  search_query: ["query"],
  hidden_labels: ["hidden"],
  color_values: ["colors"],
  color_range: ["colors"],
  color_label: ["colors"],
  colormap_lut: ["colors"],
  focus: ["focus"],
  focus_neighbors: ["focus"],
  focus_distances: ["focus"],
  neighbor_k: ["focus", "keptShare"],
  neighbor_metric: ["focus", "keptShare"],
  kept_share: ["keptShare"],
  kept_sample: ["keptShare"],
};

/** The parts that show the live/replay mode, updated when it changes. */
const MODE_PARTS = new Set(["progress", "kl", "badge", "timeline"]);

const easeInOut = (t) => (t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2);

export class ScatterView {
  constructor(model, el) {
    this.model = model;
    this.inbox = new FrameInbox();
    this.camera = { ...HOME };
    this.orbit = { ...HOME_ORBIT }; // 3-D layouts only
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
    this.viewId = Math.random().toString(36).slice(2);
    this.reportedSpan = spanPixels(this);
    if (!this.offline) model.send({ type: "hello", view: this.viewId, span_px: this.reportedSpan });
    else if (this.track.count > 1) this.replayStartTimer = setTimeout(() => this.playReplay(0), OFFLINE_REPLAY_DELAY_MS);
  }

  get offline() { return Boolean(this.model.get("_offline")); }

  /** Tell the kernel which point the pointer rests on (a ModelLens prepares its map before the click). */
  noteHover(i) {
    if (!this.offline) this.model.send({ type: "hover", index: i });
  }

  get n() { return this.model.get("n_points"); }

  /** Coordinates per point: 2, or 3 for a point cloud seen through the orbit camera. */
  get dims() { return this.model.get("n_dims") === 3 ? 3 : 2; }

  build(el) {
    const maxPerplexity = Math.max(2, Math.min(100, Math.floor((this.n - 1) / 3)));
    this.chrome = buildChrome(el, { title: this.model.get("title"), maxPerplexity, dims: this.dims }, {
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
      search: (query) => this.projector.search(query),
      searchKey: (key, query) => this.projector.searchKey(key, query),
      focus: {
        pick: (i) => this.projector.setFocus(i),
        close: () => this.projector.setFocus(-1),
        setK: (k) => { if (k >= 1 && k < this.n) this.setTrait("neighbor_k", Math.round(k)); },
        setMetric: (metric) => this.setTrait("neighbor_metric", metric),
      },
    });
    const c = this.chrome;
    this.root = c.root;
    this.plot = c.plot;
    this.canvas = c.canvas;
    this.overlay = c.overlay;
    this.tooltip = new HoverTooltip(this, c.tooltip);
    this.labels = new LabelsAndSelection(this);
    this.projector = new ProjectorControls(this);
    this.sync = new ChromeSync(this);
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
      ["colors", () => this.labels.loadColors()],
      ["pca", () => this.loadPca()],
      ["selection", () => this.labels.loadSelection()],
      ["highlight", () => { this.labels.loadHighlight(); this.projector.showCount(); }],
      ["hidden", () => this.labels.loadHidden()],
      ["ringed", () => this.labels.loadRinged()],
      ["searchIndex", () => this.projector.loadIndex()],
      ["query", () => this.projector.loadQuery()],
      ["layout", () => loadSettledLayout(this)],
      ["keyframes", () => this.loadKeyframes()],
      ["view", () => this.animateView(m.get("view"))],
      ["transport", () => c.transport.update(transportState(m.get("status"), this.offline))],
      ["progress", () => this.sync.progress()],
      ["kl", () => this.sync.kl()],
      ["badge", () => this.sync.badge()],
      ["timeline", () => this.sync.timeline()],
      ["perplexity", () => c.side.perplexity.set(m.get("perplexity"))],
      ["exaggeration", () => c.side.exaggeration.set(m.get("exaggeration"))],
      ["learningRate", () => this.sync.learningRate()],
      ["optimizerLock", () => c.side.setOffline(this.offline)],
      ["pointStyle", () => this.sync.pointStyle()],
      // Without WebGL the view says so in the error banner until the kernel reports an error of its own.
      ["banners", () => { c.errorBanner.show(m.get("error") || this.rendererError); c.noticeBanner.show(m.get("notice")); }],
      ["focus", () => this.projector.loadFocus()],
      ["keptShare", () => this.projector.showKeptShare()],
      ["draw", () => this.requestDraw()],
    ];
  }

  // ---- trait -> view ---------------------------------------------------------------------------
  /** The PCA start layout: the renderer's morph target and its normalisation. */
  loadPca() {
    const raw = asFloat32(this.model.get("pca_positions"));
    this.pca3 = this.dims === 3 ? raw : null;
    this.pca = this.pca3 ? project(raw, this.orbit) : raw;
    this.pcaNorm = this.pca3 ? PROJECTED_NORM : normalization(layoutBounds(this.pca));
    if (this.renderer && this.pca.length === this.n * 2) this.renderer.setMorphTarget(this.pca, this.pcaNorm);
    this.tooltip.invalidate();
    this.requestDraw();
  }

  /** The recorded keyframes from their traits, and the timeline that shows them. */
  loadKeyframes() {
    const m = this.model;
    this.track = new KeyframeTrack(asUint16(m.get("keyframes")), m.get("keyframe_iterations") || [],
      m.get("keyframe_bounds") || [], this.n, this.dims);
    this.sync.timeline();
  }

  // ---- view -> model ---------------------------------------------------------------------------
  /** Set a trait from the view and send it to the kernel. */
  setTrait(name, value) {
    this.model.set(name, value);
    this.model.save_changes();
  }

  /** Send a transport command (play, pause, stop, step, restart) to the kernel; back to live first. */
  command(name) {
    if (this.offline) return;
    if (name === "restart") { this.liveKl = []; this.stats.lastIteration = 0; }
    this.goLive();
    this.model.send({ type: "command", name });
  }

  /** Select the points `indices` (sorted point indices; [] clears). */
  setSelection(indices) {
    this.setTrait("selection", indices);
  }

  /** Switch between the t-SNE ("tsne") and PCA ("pca") layouts, with a morph. */
  setView(value) {
    if (value === this.model.get("view")) return;
    this.setTrait("view", value);
    this.animateView(value);
  }

  /** The drag tool: "pan" or "lasso". */
  setInteraction(value) {
    this.interaction = value;
    this.plot.classList.toggle("lasso", value === "lasso");
    this.plot.classList.toggle("pan", value === "pan");
    this.chrome.toolToggle.set(value);
  }

  /** Back to the camera that fits the whole layout (and, in 3-D, the starting orbit). */
  resetCamera() {
    this.camera = { ...HOME };
    if (this.dims === 3) setOrbit(this, { ...HOME_ORBIT });
    this.requestDraw();
  }

  // ---- layouts and replay ----------------------------------------------------------------------
  /** Put an N x 2 layout into the live position buffer (in place) and re-fit its normalisation;
   * an N x 3 layout is projected through the orbit camera first. */
  showLayout(layout) {
    if (this.dims === 3 && (!this.depth || this.depth.length !== layout.length / 3)) this.depth = new Float32Array(layout.length / 3);
    const xy = this.dims === 3 ? project(layout, this.orbit, this.displayed, this.depth) : layout;
    if (this.dims === 3) {
      this.raw3 = layout;
      this.drawOrder = backToFront(this.depth, this.drawOrder);
      if (this.renderer) this.renderer.setDrawOrder(this.drawOrder);
    }
    this.displayed = xy;
    this.displayedNorm = this.dims === 3 ? PROJECTED_NORM : normalization(layoutBounds(xy));
    if (this.renderer) this.renderer.setPositions(xy, this.displayedNorm);
    this.tooltip.invalidate();
    this.projector.layoutChanged();
    this.requestDraw();
  }

  /** "live" or "replay"; the chrome that shows the mode follows. */
  setMode(mode) {
    if (this.mode === mode) return;
    this.mode = mode;
    this.parts.updateNow(MODE_PARTS);
  }

  /** Stop a replay and show the newest streamed (or settled) layout. */
  goLive() {
    this.player.stop();
    if (this.mode === "live") { this.sync.timeline(); return; }
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

  /** Replay button: pause a playing replay, else play from the position shown (or the start). */
  toggleReplay() {
    if (this.player.playing) { this.player.stop(); this.sync.timeline(); return; }
    const from = this.mode === "replay" && this.replayPosition < this.track.count - 1 ? this.replayPosition : 0;
    this.playReplay(from);
  }

  /** Animate the replay from timeline position `from` to the end. */
  playReplay(from) {
    this.player.play(from, this.track.count);
    this.sync.timeline();
  }

  /** Morph towards the layout of `value` ("pca" or "tsne") unless it is already shown. */
  animateView(value) {
    const target = value === "pca" ? 1 : 0;
    this.chrome.viewToggle.set(value);
    this.sync.badge();
    if (this.morph.value === target && !this.morph.running) return;
    this.morph = { value: this.morph.value, from: this.morph.value, to: target, start: performance.now(), running: true };
    this.tooltip.invalidate();
    this.requestDraw();
  }

  /** The layout on screen (for hit tests): PCA when the morph is past halfway, else layout 0. */
  hitLayout() {
    if (this.morph.value > 0.5 && this.pca.length === this.n * 2) return { xy: this.pca, norm: this.pcaNorm, key: "pca" };
    const depth = this.dims === 3 ? this.depth : null;  // nearer points are drawn over farther ones
    return { xy: this.displayed, norm: this.displayedNorm, key: this.displayed, depth };
  }

  /** Whether the layout on screen stays put (hover and the image cache need that). */
  layoutIsStatic() {
    if (this.morph.running) return false;
    if (this.morph.value === 1) return true;
    return this.mode === "replay" || this.model.get("status") !== "running" || this.offline;
  }

  // ---- drawing ---------------------------------------------------------------------------------
  /** Draw in the next animation frame (once, however often it is asked for). */
  requestDraw() {
    if (this.raf || this.disposed) return;
    this.raf = requestAnimationFrame(() => { this.raf = 0; this.drawFrame(); });
  }

  /** One animation frame: take the newest streamed frame, step the morph, draw, ack the frame. */
  drawFrame() {
    const frame = this.inbox.take();
    if (frame) drawStreamedFrame(this, frame);
    if (this.morph.running) {
      const t = Math.min(1, (performance.now() - this.morph.start) / MORPH_MS);
      this.morph.value = this.morph.from + (this.morph.to - this.morph.from) * easeInOut(t);
      if (t >= 1) { this.morph.running = false; this.projector.layoutChanged(); }
      else this.requestDraw();
    }
    drawLayout(this);
    this.drawOverlay();
    reportSpanSoon(this);
    if (frame) {
      this.stats.framesDrawn += 1;
      this.model.send({ type: "ack", seq: frame.seq });
    }
  }

  /** Redraw the lasso and hover ring. */
  drawOverlay() {
    drawOverlay(this);
  }

  /** Point size drawn now (px). */
  pointSize() {
    return this.renderer ? this.renderer.pointSize : 4;
  }

  /** Fit the canvases to the plot's size and device pixel ratio. */
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
    this.sync.dispose();
    this.projector.dispose();
    clearTimeout(this.restTimer);
    clearTimeout(this.spanTimer);
    clearTimeout(this.replayStartTimer);
    this.player.stop();
    this.resizeObserver.disconnect();
    if (this.renderer) this.renderer.dispose();
  }
}
