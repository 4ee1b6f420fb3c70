// The scatter's chrome, built once per view: every control is created here and afterwards only
// updated in place (text, value, disabled, icon), never replaced, so a click that lands while the
// model changes always reaches the button it started on. `actions` are the view's callbacks.
import { button, element, segmented, setIcon, slider, sparkline } from "./controls.js";
import { OFFLINE_REASON } from "./chrome_state.js";
import { colorbar, focusPanel, keptReadout, searchBox } from "./projector_panel.js";
import { CSS } from "./styles.js";

const HINTS = {
  2: "scroll: zoom · drag: pan · click: neighbours · shift-drag: lasso · double-click: reset",
  3: "scroll: zoom · drag: orbit · click: neighbours · shift-drag: lasso · double-click: reset",
};

/** Build the chrome inside `el`; returns its widgets (see each builder for its update methods). */
export function buildChrome(el, { title, maxPerplexity, dims }, actions) {
  const style = element("style");
  style.textContent = CSS;
  const root = element("div", "nbviz-tsne");
  el.append(style, root);

  const bar = element("div", "bar");
  if (title) bar.appendChild(element("strong", "", title));
  const transport = transportBar(actions);
  const progress = progressBar();
  const kl = klBox();
  const viewToggle = segmented([
    { value: "pca", label: "PCA", title: "Show the PCA start layout" },
    { value: "tsne", label: "t-SNE", title: "Show the t-SNE layout" },
  ], actions.setView);
  bar.append(transport.node, progress.node, kl.node, element("div", "spacer"), viewToggle.node);

  const plotArea = plot(actions, HINTS[dims]);
  const side = sidePanel({ maxPerplexity }, actions);
  const timeline = timelineBar(actions);
  root.append(bar, plotArea.node, side.node, timeline.node);
  return {
    style, root, transport, progress, kl, viewToggle, ...plotArea.parts, side, timeline,
    search: side.search, focus: side.focus, kept: side.kept, colorbar: side.colorbar,
  };
}

function transportBar(actions) {
  const node = element("div", "group");
  const play = button({ iconName: "play", title: "Play", className: "primary", onClick: actions.togglePlay });
  const stop = button({ iconName: "stop", title: "Stop", onClick: () => actions.command("stop") });
  const step = button({ iconName: "step", title: "One iteration", onClick: () => actions.command("step") });
  const restart = button({ iconName: "restart", title: "Restart from the initial layout", onClick: () => actions.command("restart") });
  node.append(play, stop, step, restart);
  const titles = new Map([[stop, "Stop"], [step, "One iteration"], [restart, "Restart from the initial layout"]]);
  const name = (b, text) => { b.title = text; b.setAttribute("aria-label", text); };
  return {
    node, play, stop, step, restart,
    /** Apply a transportState(): icons, titles and disabled states, in place. */
    update(state) {
      setIcon(play, state.icon);
      name(play, state.playTitle);
      play.disabled = state.offline;
      for (const [b, text] of titles) name(b, state.offline ? OFFLINE_REASON : text);
      stop.disabled = state.stopDisabled;
      step.disabled = state.stepDisabled;
      restart.disabled = state.offline;
    },
  };
}

function progressBar() {
  const node = element("div", "progress");
  const iterText = element("div", "iter");
  const iterNumber = document.createTextNode("");
  const iterTotal = element("small");
  iterText.append(iterNumber, iterTotal);
  const track = element("div", "track");
  const fill = element("div");
  track.appendChild(fill);
  const phase = element("div", "phase");
  node.append(iterText, track, phase);
  let shown = [];
  return {
    node,
    /** Show progressTexts(); touches the DOM only where a text changed. */
    show(texts) {
      if (texts[0] !== shown[0]) iterNumber.data = texts[0];
      if (texts[1] !== shown[1]) iterTotal.textContent = texts[1];
      if (texts[2] !== shown[2]) fill.style.width = texts[2];
      if (texts[3] !== shown[3]) phase.textContent = texts[3];
      shown = texts;
    },
  };
}

function klBox() {
  const node = element("div", "kl");
  const spark = sparkline(96, 30);
  const value = element("b", "", "–");
  const label = element("div");
  label.append(element("div", "", "KL divergence"), value);
  node.append(spark.node, label);
  return {
    node,
    show(history, maxIteration, text) {
      spark.set(history, maxIteration);
      if (value.textContent !== text) value.textContent = text;
    },
  };
}

function plot(actions, hint) {
  const node = element("div", "plot pan");
  const canvas = element("canvas");
  const overlay = element("canvas", "overlay");
  const tools = element("div", "tools");
  const toolToggle = segmented([
    { value: "pan", iconName: "pan", title: "Pan and zoom (drag, scroll)" },
    { value: "lasso", iconName: "lasso", title: "Lasso-select points (or shift-drag)" },
  ], actions.setInteraction);
  tools.append(toolToggle.node, button({ iconName: "fit", title: "Reset the view (double-click)", onClick: actions.resetCamera }));
  const badge = element("div", "badge");
  const errorBanner = banner("error", actions.dismiss);
  const noticeBanner = banner("notice", actions.dismiss);
  const tooltip = element("div", "tooltip");
  node.append(canvas, overlay, tools, badge, element("div", "hint", hint), errorBanner.node, noticeBanner.node, tooltip);
  const showBadge = ({ text, color }) => { badge.textContent = text; badge.style.color = color; };
  return { node, parts: { plot: node, canvas, overlay, toolToggle, badge, showBadge, errorBanner, noticeBanner, tooltip } };
}

/** A dismissable message bound to a string trait: dismissing it clears the trait. */
function banner(trait, dismiss) {
  const node = element("div", `banner ${trait}`);
  const text = element("span");
  const close = button({ label: "×", title: "Dismiss", className: "close", onClick: () => {
    node.style.display = "none";
    dismiss(trait);
  } });
  node.append(text, close);
  return {
    node,
    show(message) {
      text.textContent = message || "";
      node.style.display = message ? "block" : "none";
    },
  };
}

function sidePanel({ maxPerplexity }, actions) {
  const node = element("div", "side");
  const search = searchBox({ onInput: actions.search, onKey: actions.searchKey });
  const focus = focusPanel(actions.focus);
  const kept = keptReadout();
  const colors = colorbar();
  const legendBox = element("div");
  const selectionBox = element("div", "selection");
  const selectionText = element("span");
  const clear = button({ label: "Clear", title: "Clear the selection", onClick: () => actions.setSelection([]) });
  selectionBox.append(selectionText, clear);

  const optimizer = element("div");
  optimizer.appendChild(element("h4", "", "Optimizer"));
  const perplexity = slider({
    label: "Perplexity", min: 2, max: maxPerplexity, step: 1, format: (v) => v.toFixed(0),
    onCommit: (v) => actions.setTrait("perplexity", v),
  });
  const exaggeration = slider({
    label: "Exaggeration", min: 1, max: 40, step: 0.5, format: (v) => `×${v.toFixed(1)}`,
    onCommit: (v) => actions.setTrait("exaggeration", v),
  });
  const learningRate = slider({
    label: "Learning rate", min: 0, max: 4.5, step: 0.05,
    format: (v) => v.toFixed(v >= 100 ? 0 : 1),
    toSlider: (v) => Math.log10(Math.max(v, 1)), fromSlider: (p) => 10 ** p,
    onCommit: (v) => actions.setTrait("learning_rate", Math.round(v * 10) / 10),
  });
  const autoRate = button({ label: "auto", title: "Learning rate N / exaggeration", onClick: () => actions.setTrait("learning_rate", 0) });
  autoRate.style.height = "22px";
  autoRate.style.fontSize = "11px";
  learningRate.node.querySelector("label").appendChild(autoRate);
  optimizer.append(perplexity.node, exaggeration.node, learningRate.node);

  const display = element("div");
  display.appendChild(element("h4", "", "Points"));
  const size = slider({
    label: "Size", min: 0.5, max: 16, step: 0.5, format: (v) => `${v.toFixed(1)} px`,
    onInput: actions.previewPointSize, onCommit: (v) => actions.setTrait("point_size", v),
  });
  const opacity = slider({
    label: "Opacity", min: 0.05, max: 1, step: 0.05, format: (v) => `${Math.round(v * 100)}%`,
    onInput: actions.previewOpacity, onCommit: (v) => actions.setTrait("opacity", v),
  });
  display.append(size.node, opacity.node);
  node.append(search.node, focus.node, kept.node, colors.node, legendBox, selectionBox, optimizer, display);
  return {
    node, legendBox, search, focus, kept, colorbar: colors, perplexity, exaggeration, learningRate, autoRate, size, opacity,
    showSelection(text, any) {
      selectionText.textContent = text;
      clear.style.display = any ? "" : "none";
    },
    /** Offline, the optimizer sliders are disabled and say why. */
    setOffline(offline) {
      for (const s of [perplexity, exaggeration, learningRate]) s.disable(offline, OFFLINE_REASON);
    },
  };
}

function timelineBar(actions) {
  const node = element("div", "timeline");
  const replay = button({ iconName: "play", title: "Replay the recorded keyframes", onClick: actions.toggleReplay });
  const input = element("input");
  input.type = "range";
  input.min = "0";
  input.max = "0";
  input.step = "0.001";
  input.setAttribute("aria-label", "Timeline of recorded keyframes");
  input.addEventListener("input", () => actions.scrub(Number(input.value)));
  const text = element("span", "at");
  const live = button({ label: "Live", title: "Back to the current layout", onClick: actions.goLive });
  node.append(replay, input, text, live);
  return {
    node, input,
    /** Apply a timelineState(); `position` is the replay position, or null when live. */
    update(state, { count, playing, position }) {
      input.disabled = !state.canReplay;
      replay.disabled = !state.canReplay;
      setIcon(replay, playing ? "pause" : "play");
      live.disabled = state.liveDisabled;
      if (live.lastChild.data !== state.liveLabel) live.lastChild.data = state.liveLabel;
      input.max = String(Math.max(0, count - 1));
      input.value = String(position === null ? input.max : position);
      text.textContent = state.text;
    },
  };
}
