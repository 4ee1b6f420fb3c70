// One rendered TSNEScatter: the chrome, the WebGL plot, and the wiring between the model (traits
// and streamed frames) and what is drawn. Streaming frames only overwrite the position buffer and
// redraw; the hover index is built lazily once the layout stops changing.
import {
  button, element, legend, segmented, setIcon, slider, sparkline, swatchColor,
} from "./controls.js";
import {
  HOME, MARGIN, layoutBounds, normalization, panBy, pixelsPerUnit, pointsInPolygon, screenToWorld,
  worldToScreen, zoomAt,
} from "./geometry.js";
import { pointColors } from "./palette.js";
import { PointRenderer } from "./renderer.js";
import { GridIndex } from "./spatial_index.js";
import { FrameInbox, asFloat32, asUint16, asUint8, decodeKeyframe } from "./streaming.js";
import { CSS } from "./styles.js";

const OFFLINE_REASON = "Needs a running Python kernel (this is a saved report)";
const MORPH_MS = 900;
// From this many points a static layout pans and zooms as a cached image, redrawn sharp once the
// camera rests for CAMERA_REST_MS (a full draw of 1M points takes about a second in SwiftShader).
export const IMAGE_CACHE_MIN_POINTS = 150_000;
const CAMERA_REST_MS = 200;
// While streaming, the progress texts and bar change at most this often: a counter redrawn 60
// times a second cannot be read, and each change costs a style, layout and paint pass.
const PROGRESS_INTERVAL_MS = 100;

/** Default point size (px) and opacity for N points: smaller and lighter as the plot gets denser. */
export function autoStyle(n) {
  const decades = Math.log10(Math.max(n, 1000) / 1000);
  return { size: Math.max(1.5, 7 - 1.9 * decades), opacity: Math.max(0.3, 0.9 - 0.2 * decades) };
}

const easeInOut = (t) => (t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2);

function formatIteration(n) { return Number(n).toLocaleString("en-US"); }

export class ScatterView {
  constructor(model, el) {
    this.model = model;
    this.el = el;
    this.listeners = [];
    this.inbox = new FrameInbox();
    this.camera = { ...HOME };
    this.mode = "live"; // "live" shows the stream / settled layout; "replay" shows keyframes
    this.replayPosition = 0;
    this.morph = { value: model.get("view") === "pca" ? 1 : 0, from: 0, to: 0, start: 0 };
    this.stats = { framesReceived: 0, framesDrawn: 0, draws: 0, lastIteration: 0, drawTimes: [] };
    this.liveKl = [];
    this.index = null;
    this.indexKey = null;
    this.hovered = -1;
    this.interaction = "pan";
    this.raf = 0;
    this.build();
    this.loadStatic();
    this.loadLayout();
    this.loadKeyframes();
    this.syncAll();
    this.bindModel();
    if (!this.offline) model.send({ type: "hello" });
    else if (this.keyframeCount() > 1) setTimeout(() => this.playReplay(0), 400);
  }

  get offline() { return Boolean(this.model.get("_offline")); }

  get n() { return this.model.get("n_points"); }

  // ---- construction ----------------------------------------------------------------------------
  build() {
    const style = element("style");
    style.textContent = CSS;
    const root = element("div", "nbviz-tsne");
    this.root = root;
    this.el.append(style, root);

    const bar = element("div", "bar");
    const title = this.model.get("title");
    if (title) bar.appendChild(element("strong", "", title));
    const transport = element("div", "group");
    this.playButton = button({ iconName: "play", title: "Play / pause", className: "primary", onClick: () => this.togglePlay() });
    this.stopButton = button({ iconName: "stop", title: "Stop", onClick: () => this.command("stop") });
    this.stepButton = button({ iconName: "step", title: "One iteration", onClick: () => this.command("step") });
    this.restartButton = button({ iconName: "restart", title: "Restart from the initial layout", onClick: () => this.command("restart") });
    transport.append(this.playButton, this.stopButton, this.stepButton, this.restartButton);

    const progress = element("div", "progress");
    this.iterText = element("div", "iter");
    this.iterNumber = document.createTextNode("");
    this.iterTotal = element("small");
    this.iterText.append(this.iterNumber, this.iterTotal);
    const track = element("div", "track");
    this.trackFill = element("div");
    track.appendChild(this.trackFill);
    this.phaseText = element("div", "phase");
    progress.append(this.iterText, track, this.phaseText);

    const kl = element("div", "kl");
    this.klSpark = sparkline(96, 30);
    this.klText = element("b", "", "–");
    const klLabel = element("div");
    klLabel.append(element("div", "", "KL divergence"), this.klText);
    kl.append(this.klSpark.node, klLabel);

    this.viewToggle = segmented([
      { value: "pca", label: "PCA", title: "Show the PCA start layout" },
      { value: "tsne", label: "t-SNE", title: "Show the t-SNE layout" },
    ], (value) => this.setView(value));
    this.toolToggle = segmented([
      { value: "pan", iconName: "pan", title: "Pan and zoom (drag, scroll)" },
      { value: "lasso", iconName: "lasso", title: "Lasso-select points (or shift-drag)" },
    ], (value) => this.setInteraction(value));
    const fit = button({ iconName: "fit", title: "Reset the view (double-click)", onClick: () => this.resetCamera() });
    bar.append(transport, progress, kl, element("div", "spacer"), this.viewToggle.node);
    const tools = element("div", "tools");
    tools.append(this.toolToggle.node, fit);

    const plot = element("div", "plot pan");
    this.plot = plot;
    this.canvas = element("canvas");
    this.overlay = element("canvas", "overlay");
    this.badge = element("div", "badge");
    this.hint = element("div", "hint", "scroll: zoom · drag: pan · shift-drag: lasso · double-click: reset");
    this.errorBanner = this.banner("error");
    this.noticeBanner = this.banner("notice");
    this.tooltip = element("div", "tooltip");
    this.thumb = element("canvas");
    this.tooltipBody = element("div");
    this.tooltip.append(this.thumb, this.tooltipBody);
    plot.append(this.canvas, this.overlay, tools, this.badge, this.hint, this.errorBanner.node, this.noticeBanner.node, this.tooltip);

    const side = element("div", "side");
    this.legendBox = element("div");
    const selectionBox = element("div", "selection");
    this.selectionText = element("span");
    this.clearButton = button({ label: "Clear", title: "Clear the selection", onClick: () => this.setSelection([]) });
    selectionBox.append(this.selectionText, this.clearButton);
    const optimizer = element("div");
    optimizer.appendChild(element("h4", "", "Optimizer"));
    const maxPerplexity = Math.max(2, Math.min(100, Math.floor((this.n - 1) / 3)));
    this.perplexitySlider = slider({
      label: "Perplexity", min: 2, max: maxPerplexity, step: 1, format: (v) => v.toFixed(0),
      onCommit: (v) => this.setTrait("perplexity", v),
    });
    this.exaggerationSlider = slider({
      label: "Exaggeration", min: 1, max: 40, step: 0.5, format: (v) => `×${v.toFixed(1)}`,
      onCommit: (v) => this.setTrait("exaggeration", v),
    });
    this.learningRateSlider = slider({
      label: "Learning rate", min: 0, max: 4.5, step: 0.05,
      format: (v) => v.toFixed(v >= 100 ? 0 : 1),
      toSlider: (v) => Math.log10(Math.max(v, 1)), fromSlider: (p) => 10 ** p,
      onCommit: (v) => this.setTrait("learning_rate", Math.round(v * 10) / 10),
    });
    this.autoRateButton = button({ label: "auto", title: "Learning rate N / exaggeration", onClick: () => this.setTrait("learning_rate", 0) });
    this.autoRateButton.style.height = "22px";
    this.autoRateButton.style.fontSize = "11px";
    this.learningRateSlider.node.querySelector("label").appendChild(this.autoRateButton);
    optimizer.append(this.perplexitySlider.node, this.exaggerationSlider.node, this.learningRateSlider.node);
    const display = element("div");
    display.appendChild(element("h4", "", "Points"));
    this.sizeSlider = slider({
      label: "Size", min: 0.5, max: 16, step: 0.5, format: (v) => `${v.toFixed(1)} px`,
      onInput: (v) => { this.renderer.pointSize = v; this.requestDraw(); },
      onCommit: (v) => this.setTrait("point_size", v),
    });
    this.opacitySlider = slider({
      label: "Opacity", min: 0.05, max: 1, step: 0.05, format: (v) => `${Math.round(v * 100)}%`,
      onInput: (v) => { this.renderer.opacity = v; this.requestDraw(); },
      onCommit: (v) => this.setTrait("opacity", v),
    });
    display.append(this.sizeSlider.node, this.opacitySlider.node);
    side.append(this.legendBox, selectionBox, optimizer, display);

    const timeline = element("div", "timeline");
    this.replayButton = button({ iconName: "play", title: "Replay the recorded keyframes", onClick: () => this.toggleReplay() });
    this.timelineInput = element("input");
    this.timelineInput.type = "range";
    this.timelineInput.min = "0";
    this.timelineInput.step = "0.001";
    this.timelineInput.setAttribute("aria-label", "Timeline of recorded keyframes");
    this.timelineInput.addEventListener("input", () => {
      this.stopReplayAnimation();
      this.showReplay(Number(this.timelineInput.value));
    });
    this.timelineText = element("span", "at");
    this.liveButton = button({ label: "Live", title: "Back to the current layout", onClick: () => this.goLive() });
    timeline.append(this.replayButton, this.timelineInput, this.timelineText, this.liveButton);

    root.append(bar, plot, side, timeline);

    try {
      this.renderer = new PointRenderer(this.canvas);
    } catch (error) {
      this.renderer = null;
      this.errorBanner.show(String(error.message || error), false);
    }
    this.bindPointer();
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(plot);
    this.resize();
  }

  banner(kind) {
    const node = element("div", `banner ${kind}`);
    const text = element("span");
    const close = button({ label: "×", title: "Dismiss", className: "close", onClick: () => {
      node.style.display = "none";
      if (node.dataset.trait) this.setTrait(node.dataset.trait, "");
    } });
    node.append(text, close);
    return {
      node,
      show(message, trait) {
        text.textContent = message;
        node.dataset.trait = trait || "";
        node.style.display = message ? "block" : "none";
      },
    };
  }

  // ---- model -> view ---------------------------------------------------------------------------
  bindModel() {
    const on = (name, callback) => {
      this.model.on(name, callback);
      this.listeners.push([name, callback]);
    };
    on("msg:custom", (message, buffers) => this.receive(message, buffers));
    on("change:positions", () => this.loadLayout());
    on("change:keyframes", () => this.loadKeyframes());
    on("change:keyframe_iterations", () => this.loadKeyframes());
    on("change:selection", () => this.loadSelection());
    on("change:view", () => this.animateView(this.model.get("view")));
    on("change:label_codes", () => this.loadStatic());
    on("change:pca_positions", () => this.loadStatic());
    for (const name of ["status", "iteration_count", "kl_history", "error", "notice", "perplexity",
      "exaggeration", "learning_rate", "point_size", "opacity", "_offline"]) {
      on(`change:${name}`, () => this.syncAll());
    }
  }

  receive(message, buffers) {
    if (!message || message.type !== "frame" || !buffers || !buffers.length) return;
    this.stats.framesReceived += 1;
    if (!this.inbox.put({ ...message, xy: asFloat32(buffers[0]) })) {
      this.model.send({ type: "ack", seq: message.seq }); // stale: release it at once
      return;
    }
    this.requestDraw();
  }

  loadStatic() {
    const n = this.n;
    const codesView = this.model.get("label_codes");
    this.codes = codesView && codesView.byteLength ? asUint16(codesView) : null;
    this.labelNames = this.model.get("label_names") || [];
    const counts = new Array(this.labelNames.length).fill(0);
    if (this.codes) for (let i = 0; i < n; i += 1) counts[this.codes[i]] += 1;
    this.legendWidget = legend(this.labelNames, counts, (index, add) => this.pickCategory(index, add));
    this.legendBox.replaceChildren();
    if (this.labelNames.length) {
      this.legendBox.append(element("h4", "", "Labels"), this.legendWidget.node);
    }
    this.pca = asFloat32(this.model.get("pca_positions"));
    this.pcaNorm = normalization(layoutBounds(this.pca));
    this.texts = this.model.get("texts") || [];
    this.thumbnails = asUint8(this.model.get("thumbnails"));
    this.thumbnailShape = this.model.get("thumbnail_shape") || [0, 0];
    if (this.renderer) {
      this.renderer.setColors(pointColors(this.codes, n, this.labelNames.length));
      if (this.pca.length === n * 2) this.renderer.setMorphTarget(this.pca, this.pcaNorm);
    }
    this.loadSelection();
  }

  /** The settled layout from the `positions` trait (shown when live). */
  loadLayout() {
    const xy = asFloat32(this.model.get("positions"));
    if (xy.length !== this.n * 2) return;
    this.settled = xy;
    this.latestLive = null;
    // Frames sent before this layout settled are older than it: drop any still on their way.
    this.inbox.lastSeq = Math.max(this.inbox.lastSeq, this.model.get("positions_seq"));
    const pending = this.inbox.pending;
    if (pending && pending.seq <= this.model.get("positions_seq")) {
      this.inbox.take();
      this.model.send({ type: "ack", seq: pending.seq });
    }
    if (this.mode === "live") this.showLayout(xy);
  }

  loadKeyframes() {
    this.keyframeCodes = asUint16(this.model.get("keyframes"));
    this.keyframeIterations = this.model.get("keyframe_iterations") || [];
    this.keyframeBounds = this.model.get("keyframe_bounds") || [];
    this.decoded = new Map();
    const count = this.keyframeCount();
    this.timelineInput.max = String(Math.max(0, count - 1));
    if (this.mode === "live") this.timelineInput.value = this.timelineInput.max;
    this.syncTimeline();
  }

  keyframeCount() {
    const n = this.n;
    if (!this.keyframeCodes || !n) return 0;
    return Math.min(this.keyframeIterations.length, Math.floor(this.keyframeCodes.length / (2 * n)));
  }

  loadSelection() {
    const n = this.n;
    const selection = this.model.get("selection") || [];
    this.selected = new Set(selection);
    const states = new Uint8Array(n);
    for (const i of selection) if (i >= 0 && i < n) states[i] = 1;
    if (this.renderer) this.renderer.setSelection(states, selection.length > 0);
    this.selectionText.textContent = selection.length
      ? `${selection.length.toLocaleString("en-US")} of ${n.toLocaleString("en-US")} selected`
      : `${n.toLocaleString("en-US")} points · lasso to select`;
    this.clearButton.style.display = selection.length ? "" : "none";
    if (this.legendWidget && this.codes) {
      const active = new Set();
      if (selection.length) {
        const perLabel = new Array(this.labelNames.length).fill(0);
        for (const i of selection) perLabel[this.codes[i]] += 1;
        const totals = new Array(this.labelNames.length).fill(0);
        for (let i = 0; i < n; i += 1) totals[this.codes[i]] += 1;
        perLabel.forEach((count, label) => { if (count && count === totals[label]) active.add(label); });
      }
      this.legendWidget.highlight(active);
    }
    this.requestDraw();
  }

  /** Update every piece of chrome that mirrors a trait. */
  syncAll() {
    const m = this.model;
    const status = m.get("status");
    const offline = this.offline;
    const running = status === "running";
    setIcon(this.playButton, running ? "pause" : "play");
    const names = [[this.playButton, running ? "Pause" : "Play"], [this.stopButton, "Stop"],
      [this.stepButton, "One iteration"], [this.restartButton, "Restart from the initial layout"]];
    for (const [b, name] of names) {
      b.disabled = offline;
      b.title = offline ? OFFLINE_REASON : name;
      b.setAttribute("aria-label", b.title);
    }
    if (!offline) {
      this.stopButton.disabled = !(running || status === "paused");
      this.stepButton.disabled = status === "finished";
    }
    const replaying = this.mode === "replay";
    this.showProgress(replaying ? this.replayIteration() : this.liveIteration(), this.currentExaggeration);
    if (replaying) this.phaseText.textContent = "recorded keyframe";
    const history = this.klHistory();
    this.klSpark.set(history, m.get("n_iter"));
    // While replaying, the KL recorded at (or just before) the keyframe shown.
    const upTo = replaying ? history.filter(([it]) => it <= this.replayIteration()) : history;
    this.klText.textContent = upTo.length ? upTo[upTo.length - 1][1].toFixed(3) : "–";
    const exaggeration = m.get("exaggeration");
    this.perplexitySlider.set(m.get("perplexity"));
    this.exaggerationSlider.set(exaggeration);
    const rate = m.get("learning_rate");
    const effective = rate > 0 ? rate : this.n / Math.max(exaggeration, 1e-9);
    this.learningRateSlider.set(effective, rate > 0 ? effective.toFixed(effective >= 100 ? 0 : 1) : `auto · ${effective.toFixed(0)}`);
    this.autoRateButton.style.display = rate > 0 && !offline ? "" : "none";
    for (const s of [this.perplexitySlider, this.exaggerationSlider, this.learningRateSlider]) s.disable(offline, OFFLINE_REASON);
    const style = autoStyle(this.n);
    const size = m.get("point_size") > 0 ? m.get("point_size") : style.size;
    const opacity = m.get("opacity") > 0 ? m.get("opacity") : style.opacity;
    this.sizeSlider.set(size);
    this.opacitySlider.set(opacity);
    if (this.renderer) { this.renderer.pointSize = size; this.renderer.opacity = opacity; }
    this.viewToggle.set(m.get("view"));
    this.toolToggle.set(this.interaction);
    this.errorBanner.show(m.get("error"), "error");
    this.noticeBanner.show(m.get("notice"), "notice");
    this.syncBadge();
    this.syncTimeline();
    this.requestDraw();
  }

  /** The iteration on screen when live: the newest frame's while running, else the settled one. */
  liveIteration() {
    const settled = this.model.get("iteration_count");
    if (this.model.get("status") === "running") return this.stats.lastIteration || settled;
    return settled;
  }

  klHistory() {
    const history = (this.model.get("kl_history") || []).slice();
    const last = history.length ? history[history.length - 1][0] : -1;
    for (const point of this.liveKl) if (point[0] > last) history.push(point);
    return history;
  }

  /** showProgress for the live stream, at most once per PROGRESS_INTERVAL_MS; the newest frame's
   * progress is always shown in the end (a trailing update covers frames that were skipped). */
  showLiveProgressSoon() {
    if (this.progressTimer) return;
    const wait = PROGRESS_INTERVAL_MS - (performance.now() - (this.progressShownAt || 0));
    const show = () => {
      this.progressTimer = 0;
      this.progressShownAt = performance.now();
      if (this.mode === "live" && !this.disposed) this.showProgress(this.liveIteration(), this.currentExaggeration);
    };
    if (wait <= 0) show();
    else this.progressTimer = setTimeout(show, wait);
  }

  /** Iteration counter, progress bar and phase; touches the DOM only where the text changed. */
  showProgress(iteration, exaggeration) {
    const total = this.model.get("n_iter");
    const ex = exaggeration ?? this.model.get("exaggeration");
    const texts = [
      `Iteration ${formatIteration(iteration)} `,
      `/ ${formatIteration(total)}`,
      `${total ? Math.min(100, (100 * iteration) / total).toFixed(1) : 0}%`,
      ex > 1.0001 ? `early exaggeration ×${ex.toFixed(ex % 1 ? 1 : 0)}` : "exaggeration off (×1)",
    ];
    const shown = this.mode === "replay" ? [] : this.progressShown || [];
    if (texts[0] !== shown[0]) this.iterNumber.data = texts[0];
    if (texts[1] !== shown[1]) this.iterTotal.textContent = texts[1];
    if (texts[2] !== shown[2]) this.trackFill.style.width = texts[2];
    if (texts[3] !== shown[3]) this.phaseText.textContent = texts[3];
    this.progressShown = texts;
  }

  syncBadge() {
    const status = this.model.get("status");
    let text = { running: "● Running", paused: "❚❚ Paused", stopped: "■ Stopped", finished: "✓ Finished",
      error: "Error", idle: "Ready" }[status] || status;
    let color = { running: "#1a7f37", error: "#b42318" }[status] || "#475467";
    if (this.offline) { text = "Saved report"; color = "#475467"; }
    if (this.mode === "replay") { text = `Replay · iteration ${formatIteration(this.replayIteration())}`; color = "#6941c6"; }
    if (this.model.get("view") === "pca") { text = "PCA start layout"; color = "#475467"; }
    this.badge.textContent = text;
    this.badge.style.color = color;
  }

  syncTimeline() {
    const count = this.keyframeCount();
    this.timelineInput.disabled = count < 2;
    this.replayButton.disabled = count < 2;
    setIcon(this.replayButton, this.replayTimer ? "pause" : "play");
    this.liveButton.disabled = this.mode === "live";
    this.liveButton.textContent = this.offline ? "End" : "Live";
    if (this.mode === "live") {
      this.timelineInput.value = this.timelineInput.max;
      const where = this.offline ? "final layout" : "live";
      this.timelineText.textContent = count > 1 ? `${count} keyframes · ${where}` : "keyframes appear as the run goes";
    } else {
      this.timelineText.textContent = `iteration ${formatIteration(this.replayIteration())} of ${formatIteration(this.keyframeIterations[count - 1] || 0)}`;
    }
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

  togglePlay() {
    this.command(this.model.get("status") === "running" ? "pause" : "play");
  }

  setSelection(indices) {
    this.setTrait("selection", indices);
  }

  pickCategory(label, add) {
    const members = [];
    for (let i = 0; i < this.n; i += 1) if (this.codes[i] === label) members.push(i);
    const current = this.model.get("selection") || [];
    const already = members.length && members.every((i) => this.selected.has(i));
    if (add) {
      const merged = new Set(current);
      for (const i of members) if (already) merged.delete(i); else merged.add(i);
      this.setSelection([...merged].sort((a, b) => a - b));
    } else {
      this.setSelection(already && current.length === members.length ? [] : members);
    }
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
    this.toolToggle.set(value);
  }

  resetCamera() {
    this.camera = { ...HOME };
    this.requestDraw();
  }

  // ---- layouts ---------------------------------------------------------------------------------
  /** Put an N x 2 layout into the live position buffer (in place) and re-fit its normalisation. */
  showLayout(xy) {
    this.displayed = xy;
    this.displayedNorm = normalization(layoutBounds(xy));
    if (this.renderer) this.renderer.setPositions(xy, this.displayedNorm);
    this.index = null;
    this.requestDraw();
  }

  goLive() {
    this.stopReplayAnimation();
    if (this.mode === "live") return;
    this.mode = "live";
    this.progressShown = null; // the replay overwrote the progress texts
    const latest = this.latestLive || this.settled;
    if (latest) this.showLayout(latest);
    this.syncAll();
  }

  replayIteration() {
    const its = this.keyframeIterations;
    if (!its.length) return 0;
    const k = Math.min(its.length - 1, Math.max(0, this.replayPosition));
    const lo = Math.floor(k);
    const hi = Math.min(its.length - 1, lo + 1);
    return Math.round(its[lo] + (its[hi] - its[lo]) * (k - lo));
  }

  decodedKeyframe(k) {
    let xy = this.decoded.get(k);
    if (!xy) {
      xy = decodeKeyframe(this.keyframeCodes, this.n, k, this.keyframeBounds[k]);
      if (this.decoded.size > 8) this.decoded.delete(this.decoded.keys().next().value);
      this.decoded.set(k, xy);
    }
    return xy;
  }

  /** Show keyframe position `position` (fractional: blend of the two neighbouring keyframes). */
  showReplay(position) {
    const count = this.keyframeCount();
    if (count < 1) return;
    this.mode = "replay";
    this.replayPosition = Math.min(count - 1, Math.max(0, position));
    const lo = Math.floor(this.replayPosition);
    const hi = Math.min(count - 1, lo + 1);
    const t = this.replayPosition - lo;
    const a = this.decodedKeyframe(lo);
    let xy = a;
    if (t > 1e-3 && hi !== lo) {
      const b = this.decodedKeyframe(hi);
      if (!this.blend || this.blend.length !== a.length) this.blend = new Float32Array(a.length);
      for (let i = 0; i < a.length; i += 1) this.blend[i] = a[i] + (b[i] - a[i]) * t;
      xy = this.blend;
    }
    this.timelineInput.value = String(this.replayPosition);
    this.showLayout(xy);
    if (xy === this.blend) this.displayed = xy.slice(); // the blend buffer is reused next frame
    this.syncAll();
  }

  toggleReplay() {
    if (this.replayTimer) { this.stopReplayAnimation(); this.syncTimeline(); return; }
    const count = this.keyframeCount();
    const from = this.mode === "replay" && this.replayPosition < count - 1 ? this.replayPosition : 0;
    this.playReplay(from);
  }

  /** Animate through the keyframes at a pace that takes 2-8 s for the whole run. */
  playReplay(from) {
    const count = this.keyframeCount();
    if (count < 2) return;
    const perKeyframe = Math.min(8000, Math.max(2000, count * 60)) / (count - 1);
    const startTime = performance.now() - from * perKeyframe;
    const tick = () => {
      const position = (performance.now() - startTime) / perKeyframe;
      this.showReplay(Math.min(position, count - 1));
      if (position >= count - 1) {
        this.replayTimer = 0;
        this.goLive();
        return;
      }
      this.replayTimer = requestAnimationFrame(tick);
    };
    this.replayTimer = requestAnimationFrame(tick);
    this.syncTimeline();
  }

  stopReplayAnimation() {
    if (this.replayTimer) cancelAnimationFrame(this.replayTimer);
    this.replayTimer = 0;
  }

  animateView(value) {
    const target = value === "pca" ? 1 : 0;
    if (this.morph.value === target && !this.morph.running) { this.syncAll(); return; }
    this.morph = { value: this.morph.value, from: this.morph.value, to: target, start: performance.now(), running: true };
    this.index = null;
    this.syncAll();
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
    if (frame) {
      this.latestLive = frame.xy;
      this.stats.lastIteration = frame.iteration;
      this.currentExaggeration = frame.exaggeration;
      if (frame.kl !== null && frame.kl !== undefined) {
        this.liveKl.push([frame.iteration, frame.kl]);
        if (this.liveKl.length > 2000) this.liveKl.splice(0, 1000);
      }
      if (this.mode === "live") this.showLayout(frame.xy);
    }
    if (this.morph.running) {
      const t = Math.min(1, (performance.now() - this.morph.start) / MORPH_MS);
      this.morph.value = this.morph.from + (this.morph.to - this.morph.from) * easeInOut(t);
      if (t >= 1) this.morph.running = false;
      else this.requestDraw();
    }
    if (this.renderer && this.displayed) {
      const start = performance.now();
      this.renderer.mix = this.morph.value;
      if (this.n >= IMAGE_CACHE_MIN_POINTS && this.layoutIsStatic()) this.drawViaCache();
      else this.renderer.draw(this.camera, MARGIN);
      this.stats.draws += 1;
      this.stats.lastDrawMs = performance.now() - start;
    }
    this.drawOverlay();
    if (frame) {
      this.stats.framesDrawn += 1;
      this.model.send({ type: "ack", seq: frame.seq });
      if (this.mode === "live") {
        this.showLiveProgressSoon();
        if (frame.kl !== null && frame.kl !== undefined) {
          const history = this.klHistory();
          this.klSpark.set(history, this.model.get("n_iter"));
          this.klText.textContent = history[history.length - 1][1].toFixed(3);
        }
      }
    }
  }

  /** Static large layout: move the cached image while the camera moves, redraw once it rests. */
  drawViaCache() {
    const r = this.renderer;
    const moving = performance.now() - (this.lastCameraMove || 0) < CAMERA_REST_MS;
    const c = r.cache && r.cache.camera;
    const sameCamera = c && c.k === this.camera.k && c.tx === this.camera.tx && c.ty === this.camera.ty;
    if (!r.cacheValid() || (!moving && !sameCamera)) {
      r.renderCache(this.camera, MARGIN);
      this.stats.cacheRenders = (this.stats.cacheRenders || 0) + 1;
    }
    r.drawCached(this.camera, MARGIN);
    if (moving) {
      clearTimeout(this.restTimer);
      this.restTimer = setTimeout(() => this.requestDraw(), CAMERA_REST_MS + 20);
    }
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

  drawOverlay() {
    const busy = (this.lasso && this.lasso.length > 1) || (this.hovered >= 0 && this.displayed);
    if (!busy && !this.overlayDirty) return; // nothing drawn and nothing to draw: leave it alone
    this.overlayDirty = busy;
    const ctx = this.overlay.getContext("2d");
    const ratio = window.devicePixelRatio || 1;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    if (this.lasso && this.lasso.length > 1) {
      ctx.beginPath();
      ctx.moveTo(...this.lasso[0]);
      for (const p of this.lasso) ctx.lineTo(...p);
      ctx.closePath();
      ctx.fillStyle = "rgba(47, 111, 222, 0.08)";
      ctx.strokeStyle = "#2f6fde";
      ctx.lineWidth = 1.5;
      ctx.setLineDash([5, 4]);
      ctx.fill();
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (this.hovered >= 0 && this.displayed) {
      const [x, y] = this.screenPosition(this.hovered);
      const radius = Math.max(5, (this.renderer ? this.renderer.pointSize : 4) / 2 + 4);
      ctx.beginPath();
      ctx.arc(x, y, radius, 0, Math.PI * 2);
      ctx.strokeStyle = "#111827";
      ctx.lineWidth = 2;
      ctx.stroke();
    }
  }

  // ---- pointer interaction ---------------------------------------------------------------------
  bindPointer() {
    const plot = this.plot;
    const local = (event) => {
      const rect = plot.getBoundingClientRect();
      return [event.clientX - rect.left, event.clientY - rect.top];
    };
    plot.addEventListener("wheel", (event) => {
      event.preventDefault();
      const [sx, sy] = local(event);
      const factor = Math.exp(-event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.0015));
      this.camera = zoomAt(this.camera, this.width, this.height, sx, sy, factor);
      this.lastCameraMove = performance.now();
      this.hideTooltip();
      this.requestDraw();
    }, { passive: false });
    plot.addEventListener("dblclick", (event) => { if (event.target === this.canvas) this.resetCamera(); });
    plot.addEventListener("pointerdown", (event) => {
      // Only presses on the plot itself: the floating tools and banners handle their own clicks.
      if (event.button !== 0 || (event.target !== this.canvas && event.target !== plot)) return;
      try { plot.setPointerCapture(event.pointerId); } catch (error) { /* synthetic pointer: no capture */ }
      const start = local(event);
      const lasso = this.interaction === "lasso" || event.shiftKey;
      this.drag = { last: start, lasso, moved: false };
      if (lasso) this.lasso = [start];
      else plot.classList.add("dragging");
      this.hideTooltip();
    });
    plot.addEventListener("pointermove", (event) => {
      const point = local(event);
      if (!this.drag) { this.hover(point); return; }
      const [dx, dy] = [point[0] - this.drag.last[0], point[1] - this.drag.last[1]];
      if (Math.abs(dx) + Math.abs(dy) > 0) this.drag.moved = true;
      if (this.drag.lasso) {
        this.lasso.push(point);
        this.drawOverlay();
      } else {
        this.camera = panBy(this.camera, this.width, this.height, dx, dy);
        this.lastCameraMove = performance.now();
        this.requestDraw();
      }
      this.drag.last = point;
    });
    const end = (event) => {
      if (!this.drag) return;
      const { lasso, moved } = this.drag;
      this.drag = null;
      plot.classList.remove("dragging");
      if (lasso) {
        const polygon = (this.lasso || []).map(([sx, sy]) => screenToWorld(this.camera, this.width, this.height, sx, sy));
        this.lasso = null;
        if (polygon.length >= 3 && moved) {
          const { xy, norm } = this.hitLayout();
          this.setSelection(pointsInPolygon(xy, norm, polygon));
        } else {
          this.setSelection([]);
        }
        this.drawOverlay();
      }
      if (event && event.pointerId !== undefined && plot.hasPointerCapture(event.pointerId)) {
        plot.releasePointerCapture(event.pointerId);
      }
    };
    plot.addEventListener("pointerup", end);
    plot.addEventListener("pointercancel", end);
    plot.addEventListener("pointerleave", () => { if (!this.drag) this.hideTooltip(); });
  }

  hover([sx, sy]) {
    if (!this.displayed || !this.layoutIsStatic()) { this.hideTooltip(); return; }
    const layout = this.hitLayout();
    if (!this.index || this.indexKey !== layout.key) {
      this.index = new GridIndex(layout.xy, layout.norm);
      this.indexKey = layout.key;
    }
    const [wx, wy] = screenToWorld(this.camera, this.width, this.height, sx, sy);
    const ppu = pixelsPerUnit(this.camera, this.width, this.height);
    const radiusPx = Math.max(6, (this.renderer ? this.renderer.pointSize : 4) / 2 + 3);
    const i = this.index.nearest(wx, wy, radiusPx / ppu);
    if (i < 0) { this.hideTooltip(); return; }
    if (i !== this.hovered) { this.hovered = i; this.fillTooltip(i); this.drawOverlay(); }
    const tip = this.tooltip;
    tip.style.display = "flex";
    const left = sx + 14 + tip.offsetWidth > this.width ? sx - 14 - tip.offsetWidth : sx + 14;
    const top = sy + 14 + tip.offsetHeight > this.height ? sy - 14 - tip.offsetHeight : sy + 14;
    tip.style.left = `${Math.max(4, left)}px`;
    tip.style.top = `${Math.max(4, top)}px`;
  }

  fillTooltip(i) {
    const [h, w] = this.thumbnailShape;
    const hasThumb = h > 0 && w > 0 && this.thumbnails.length >= (i + 1) * h * w * 4;
    this.thumb.style.display = hasThumb ? "" : "none";
    if (hasThumb) {
      this.thumb.width = w;
      this.thumb.height = h;
      const pixels = new Uint8ClampedArray(this.thumbnails.buffer, this.thumbnails.byteOffset + i * h * w * 4, h * w * 4);
      this.thumb.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(pixels), w, h), 0, 0);
      this.thumb.style.width = `${Math.round((64 * w) / Math.max(h, w))}px`;
      this.thumb.style.height = `${Math.round((64 * h) / Math.max(h, w))}px`;
    }
    const body = this.tooltipBody;
    body.replaceChildren();
    const text = this.texts[i];
    if (text) body.appendChild(element("div", "text", text));
    const meta = element("div", "meta");
    if (this.codes) {
      const swatch = element("span", "swatch");
      swatch.style.background = swatchColor(this.codes[i], this.labelNames.length);
      meta.append(swatch, element("span", "", this.labelNames[this.codes[i]]), element("span", "", "·"));
    }
    meta.appendChild(element("span", "", `point ${i}`));
    body.appendChild(meta);
    this.tooltip.dataset.index = String(i);
  }

  hideTooltip() {
    this.tooltip.style.display = "none";
    if (this.hovered >= 0) { this.hovered = -1; this.drawOverlay(); }
  }

  dispose() {
    this.disposed = true;
    for (const [name, callback] of this.listeners) this.model.off(name, callback);
    if (this.raf) cancelAnimationFrame(this.raf);
    clearTimeout(this.progressTimer);
    this.stopReplayAnimation();
    clearTimeout(this.restTimer);
    this.resizeObserver.disconnect();
    if (this.renderer) this.renderer.dispose();
  }
}
