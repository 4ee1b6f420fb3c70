// One view of a CAMExplorer: toolbar, canvas with overlay and status, class panel, compare grid,
// thumbnails. State lives in the model's traits; maps come from the shared MapStore.
import { asBytes } from "../lib/dataview_float32.js";
import { lutGradient } from "../lib/colormap_lut.js";
import { toFloat32Array } from "../lib/dataview_float32.js";
import { h, setChildren, ensureStyle, formatPercent } from "./dom.js";
import { CSS, STYLE_ID } from "./styles.js";
import { HeatmapCanvas } from "./heatmap_canvas.js";
import { ClassPanel } from "./class_panel.js";
import { CompareView } from "./compare_view.js";
import { mapKey, layerGroup } from "./keys.js";
import { READY, COMPUTING, FAILED, CANCELLED, UNAVAILABLE, MISSING } from "./map_store.js";

const MAIN_WIDTH = 360;
const SPINNER_DELAY_MS = 200;

export function renderExplorer({ model, el, store, photos }) {
  ensureStyle(STYLE_ID, CSS);
  const get = (name) => model.get(name);
  const setTraits = (values) => {
    for (const [name, value] of Object.entries(values)) model.set(name, value);
    model.save_changes();
  };

  // ---- controls -------------------------------------------------------------------------------
  const layerSelect = h("select", { "data-role": "layer", "aria-label": "Layer", onchange: () => setTraits({ layer: layerSelect.value }) });
  const methodSelect = h("select", { "data-role": "method", "aria-label": "Method", onchange: () => setTraits({ method: methodSelect.value }) });
  const cmapSelect = h("select", { "data-role": "colormap", "aria-label": "Colormap", onchange: () => setTraits({ colormap: cmapSelect.value }) });
  const compareButton = h("button", { "data-role": "compare-toggle", onclick: () => toggleCompare() }, "Compare");
  const downloadButton = h("button", { "data-role": "download", title: "Save the current view as a PNG", onclick: () => download() }, "Save PNG");
  const field = (label, control) => h("label", { class: "cam-field" }, h("span", {}, label), control);
  const toolbar = h(
    "div",
    { class: "cam-toolbar" },
    field("Layer", layerSelect),
    field("Method", methodSelect),
    field("Colormap", cmapSelect),
    h("div", { class: "cam-spacer" }),
    compareButton,
    downloadButton,
  );

  // ---- stage: canvas, overlay, legend, readout, sliders ----------------------------------------
  const canvas = h("canvas", { class: "cam-main", "data-role": "canvas" });
  const heat = new HeatmapCanvas(canvas, MAIN_WIDTH);
  const overlay = h("div", { class: "cam-overlay", "data-role": "status", hidden: true });
  const canvasWrap = h("div", { class: "cam-canvas-wrap" }, canvas, overlay);
  const colorbar = h("div", { class: "cam-colorbar", "data-role": "colorbar" }, h("i"));
  const legend = h("div", { class: "cam-legend" }, h("span", {}, "0"), colorbar, h("span", {}, "1"));
  const readout = h("div", { class: "cam-readout", "data-role": "readout", title: "Hover the image to read the map value under the cursor" });
  const opacityInput = h("input", { type: "range", min: "0", max: "1", step: "0.01", "data-role": "opacity", "aria-label": "Opacity" });
  const thresholdInput = h("input", { type: "range", min: "0", max: "1", step: "0.01", "data-role": "threshold", "aria-label": "Threshold" });
  const opacityOut = h("output");
  const thresholdOut = h("output");
  opacityInput.addEventListener("input", () => setTraits({ opacity: Number(opacityInput.value) }));
  thresholdInput.addEventListener("input", () => setTraits({ threshold: Number(thresholdInput.value) }));
  const sliders = h("div", { class: "cam-sliders" }, "Opacity", opacityInput, opacityOut, "Threshold", thresholdInput, thresholdOut);
  const stage = h("div", { class: "cam-stage", style: { width: `${MAIN_WIDTH}px` } }, canvasWrap, legend, readout, sliders);

  // ---- side panel: classes and scores ----------------------------------------------------------
  const classPanel = new ClassPanel({ onSelect: (i) => setTraits({ target: i }) });
  const scoresButton = h("button", { "data-role": "scores", onclick: () => store.requestScores(currentKey()) }, "Deletion / insertion scores");
  const scoresText = h("div", { "data-role": "scores-text" });
  const scores = h("div", { class: "cam-scores" }, scoresButton, scoresText);
  const panel = h("div", { class: "cam-panel" }, classPanel.el, scores);

  const compare = new CompareView({
    onPick: (method) => {
      comparing = false;
      setTraits({ method });
    },
    onCompute: (method) => {
      const key = mapKey(imageIndex(), get("layer"), get("target"), method);
      store.retry(key);
      compareSlow.add(key);
      lastCompareRequest = null;
      schedule();
    },
  });
  const body = h("div", { class: "cam-body" }, stage, compare.el, panel);
  const thumbs = h("div", { class: "cam-thumbs", "data-role": "thumbnails", hidden: true });
  const root = h("div", { class: "nbviz-cam" }, toolbar, body, thumbs);
  el.replaceChildren(root);

  // ---- view state -----------------------------------------------------------------------------
  let comparing = false;
  let lastImage = null;
  const compareSlow = new Set(); // keys of slow methods the user asked to compute in the grid
  let disposed = false;
  let scheduled = false;
  let lastMainRequest = null;
  let lastCompareRequest = null;
  let paintedKey = null;
  let spinnerTimer = null;
  let computing = null; // the panel computingPanel() built last
  let thumbUrls = [];
  const paintWaiters = [];
  // Test and measurement hook: paint times (performance.now()) of each key drawn on the main canvas.
  const hook = {
    paints: [],
    waitForPaint(key) {
      if (paintedKey === key) return Promise.resolve(performance.now());
      return new Promise((resolve) => paintWaiters.push({ key, resolve }));
    },
    currentKey: () => currentKey(),
  };
  root.__nbvizCam = hook;

  const methods = () => get("_methods") ?? [];
  const methodInfo = (name) => methods().find((m) => m.name === name) ?? { name, label: name, slow: false };
  const classNames = () => get("_class_names") ?? [];
  const imageIndex = () => get("image_index");
  const currentKey = () => mapKey(imageIndex(), get("layer"), get("target"), get("method"));
  const decoded = new WeakMap(); // probability buffer -> Float32Array, decoded once
  const probabilities = (i) => {
    const buffer = (get("_probabilities") ?? [])[i];
    if (!buffer) return null;
    if (!decoded.has(buffer)) decoded.set(buffer, toFloat32Array(buffer));
    return decoded.get(buffer);
  };
  const lut = () => {
    const luts = get("_colormaps") ?? {};
    const value = luts[get("colormap")] ?? Object.values(luts)[0];
    return value ? asBytes(value) : null;
  };
  const style = () => ({ lut: lut(), threshold: get("threshold"), opacity: get("opacity") });

  function schedule() {
    if (scheduled || disposed) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      if (!disposed) refresh();
    });
  }

  // ---- rendering ------------------------------------------------------------------------------
  function refresh() {
    const key = currentKey();
    const index = imageIndex();
    syncControls();
    const photo = photos.peek(index);
    if (!photo) photos.load(index).then(schedule, (error) => showMessage("error", `Could not decode image ${index}: ${error.message}`));
    heat.setPhoto(photo ?? null);

    let status = store.status(key);
    if (status.state === MISSING && key !== lastMainRequest) {
      lastMainRequest = key;
      store.request("main", [key]);
      status = store.status(key);
    }
    const entry = store.get(key);
    if (entry) {
      heat.setMap(entry);
    } else if (!(status.state === COMPUTING && !methodInfo(get("method")).slow && paintedKey?.split("|")[0] === String(index))) {
      // Only a fast method on the same photo keeps the previous map for the few ms until its own
      // arrives (no flicker); otherwise an old map would pass for the new one.
      heat.setMap(null);
    }
    heat.setStyle(style());
    heat.draw();
    if (entry && photo) notePaint(key);
    scoresButton.disabled = store.offline || !entry;
    showStatus(status, key);
    renderLegend();
    renderScores(key);
    if (!hovering) renderCaption();
    if (comparing) {
      const keys = methods()
        .map((m) => ({ m, key: mapKey(index, get("layer"), get("target"), m.name) }))
        .filter(({ m, key }) => !m.slow || compareSlow.has(key))
        .map(({ key }) => key);
      const signature = keys.join(",");
      if (signature !== lastCompareRequest) {
        lastCompareRequest = signature;
        store.request("compare", keys);
      }
      compare.update({
        methods: methods(),
        photo,
        keyFor: (m) => mapKey(index, get("layer"), get("target"), m),
        store,
        style: style(),
        selected: get("method"),
      });
    } else if (lastCompareRequest !== null) {
      lastCompareRequest = null;
      store.request("compare", []);
    }
    stage.hidden = comparing;
    stage.style.display = comparing ? "none" : "";
    compare.el.hidden = !comparing;
    compareButton.classList.toggle("cam-on", comparing);
    compareButton.textContent = comparing ? "Single view" : "Compare";
    compareButton.title = comparing ? "Back to the single map" : "Every method side by side for this layer and class";
  }

  function notePaint(key) {
    if (paintedKey === key && root.dataset.paintedKey === key) return;
    paintedKey = key;
    root.dataset.paintedKey = key;
    const time = performance.now();
    hook.paints.push({ key, time });
    if (hook.paints.length > 200) hook.paints.shift();
    for (let i = paintWaiters.length - 1; i >= 0; i -= 1) {
      if (paintWaiters[i].key === key) paintWaiters.splice(i, 1)[0].resolve(time);
    }
  }

  function syncControls() {
    const offline = store.offline;
    const index = imageIndex();
    const layer = get("layer");
    const target = get("target");
    const method = get("method");
    fillSelect(layerSelect, (get("_layers") ?? []).map((name) => ({
      value: name,
      label: name,
      group: layerGroup(name),
      disabled: offline && !store.available(mapKey(index, name, target, method)),
    })), layer);
    fillSelect(methodSelect, methods().map((m) => ({
      value: m.name,
      label: m.slow ? `${m.label} (slow)` : m.label,
      disabled: offline && !store.available(mapKey(index, layer, target, m.name)),
    })), method);
    fillSelect(cmapSelect, Object.keys(get("_colormaps") ?? {}).map((name) => ({ value: name, label: name })), get("colormap"));
    opacityInput.value = String(get("opacity"));
    thresholdInput.value = String(get("threshold"));
    opacityOut.textContent = Number(get("opacity")).toFixed(2);
    thresholdOut.textContent = Number(get("threshold")).toFixed(2);
    if (index !== lastImage) {
      lastImage = index;
      classPanel.clearSearch();
    }
    classPanel.update({
      names: classNames(),
      probs: probabilities(index),
      topk: (get("_topk") ?? [])[index] ?? [],
      target,
      version: `${index}|${layer}|${method}`, // what availability depends on in a report
      isAvailable: (i) => !offline || store.available(mapKey(index, layer, i, method)),
    });
    renderThumbs(index);
    scoresButton.title = offline ? "Scores need a running kernel" : "How fast the class score falls (deletion) or rises (insertion) as the most salient pixels are removed or revealed";
    root.dataset.offline = offline ? "true" : "false";
  }

  function renderLegend() {
    const table = lut();
    if (table) colorbar.style.background = lutGradient(table);
    colorbar.firstChild.style.left = `calc(${(100 * get("threshold")).toFixed(1)}% - 1px)`;
    colorbar.firstChild.hidden = !(get("threshold") > 0);
  }

  function renderThumbs(index) {
    const images = get("_images") ?? [];
    thumbs.hidden = images.length < 2;
    if (images.length < 2) return;
    if (thumbs.childElementCount !== images.length) {
      thumbUrls.forEach((url) => URL.revokeObjectURL(url));
      const names = get("_image_names") ?? [];
      thumbUrls = images.map((bytes, i) => URL.createObjectURL(new Blob([asBytes(bytes)], { type: (get("_image_mimes") ?? [])[i] ?? "image/png" })));
      setChildren(thumbs, thumbUrls.map((url, i) => h(
        "button",
        { class: "cam-thumb", "data-image": String(i), title: names[i] ?? `Image ${i}`, onclick: () => selectImage(i) },
        h("img", { src: url, alt: names[i] ?? `Image ${i}` }),
      )));
    }
    [...thumbs.children].forEach((button, i) => button.classList.toggle("cam-selected", i === index));
  }

  function selectImage(i) {
    if (i === imageIndex()) return;
    const top = (get("_topk") ?? [])[i]?.[0];
    setTraits(top === undefined ? { image_index: i } : { image_index: i, target: top });
  }

  function describe(key) {
    const [, layer, target, method] = key.split("|");
    return `${methodInfo(method).label} for “${classNames()[Number(target)] ?? target}” at ${layer}`;
  }

  function showStatus(status, key) {
    clearTimeout(spinnerTimer);
    root.dataset.status = status.state;
    const info = methodInfo(get("method"));
    switch (status.state) {
      case READY:
        overlay.hidden = true;
        return;
      case COMPUTING: {
        const panel = computingPanel(key, info.slow);
        const { progress } = status;
        panel.bar.classList.toggle("cam-indeterminate", !progress);
        panel.bar.firstChild.style.width = progress ? `${(100 * progress.done) / Math.max(1, progress.total)}%` : "";
        panel.label.textContent = progress ? `${describe(key)}: ${progress.done} / ${progress.total}` : `Computing ${describe(key)}…`;
        // Progress updates change the panel in place: a Cancel button replaced between mouse
        // down and mouse up would swallow the user's click.
        if (!overlay.hidden && overlay.firstChild === panel.nodes[0]) return;
        if (info.slow || progress) {
          showOverlay(false, panel.nodes);
        } else {
          overlay.hidden = true; // fast methods: only show a spinner if the answer is slow to come
          spinnerTimer = setTimeout(() => showOverlay(false, panel.nodes), SPINNER_DELAY_MS);
        }
        return;
      }
      case FAILED:
        showOverlay(true, [
          h("div", {}, h("b", {}, `Could not compute ${describe(key)}.`)),
          h("div", { "data-role": "error-message" }, status.message),
          h("div", { class: "cam-row" }, h("button", { "data-role": "retry", onclick: () => { lastMainRequest = null; store.retry(key); } }, "Try again")),
        ]);
        return;
      case CANCELLED:
        showOverlay(false, [
          h("div", {}, `${describe(key)} was cancelled.`),
          h("div", { class: "cam-row" }, h("button", { "data-role": "retry", onclick: () => { lastMainRequest = null; store.retry(key); } }, "Compute again")),
        ]);
        return;
      case UNAVAILABLE:
        showOverlay(false, [h("div", {}, `${describe(key)} is not saved in this report. Choose an enabled option.`)]);
        return;
      default:
        overlay.hidden = true;
    }
  }

  /** The label, progress bar and (slow methods) Cancel button shown while `key` computes; one per key. */
  function computingPanel(key, slow) {
    if (computing?.key === key && computing.slow === slow) return computing;
    const label = h("div");
    const bar = h("div", { class: "cam-progress", "data-role": "progress" }, h("div"));
    const cancel = slow ? h("button", { "data-role": "cancel", onclick: () => store.cancel(key) }, "Cancel") : null;
    computing = { key, slow, label, bar, nodes: [label, h("div", { class: "cam-row" }, bar, cancel)] };
    return computing;
  }

  function showOverlay(isError, content) {
    overlay.classList.toggle("cam-error", isError);
    setChildren(overlay, content);
    overlay.hidden = false;
  }

  function showMessage(kind, text) {
    root.dataset.status = kind;
    showOverlay(kind === "error", [h("div", {}, text)]);
  }

  function renderScores(key) {
    const result = store.scores.get(key);
    if (!result) {
      scoresText.replaceChildren();
    } else if (result.pending) {
      scoresText.replaceChildren("Computing scores…");
    } else if (result.error) {
      scoresText.replaceChildren(h("span", { style: { color: "var(--cam-error)" } }, result.error));
    } else {
      scoresText.replaceChildren(
        h("div", {}, "Deletion AUC ", h("b", {}, result.deletion.toFixed(3)), " (lower is better)"),
        h("div", {}, "Insertion AUC ", h("b", {}, result.insertion.toFixed(3)), " (higher is better)"),
      );
    }
  }

  function toggleCompare() {
    comparing = !comparing;
    schedule();
  }

  function download() {
    const names = classNames();
    const safe = (text) => String(text).replace(/[^a-z0-9]+/gi, "_").replace(/^_|_$/g, "");
    const name = `cam_${safe(names[get("target")] ?? get("target"))}_${safe(get("method"))}_${safe(get("layer"))}.png`;
    canvas.toBlob((blob) => {
      if (!blob) return;
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: name, style: { display: "none" } });
      root.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    }, "image/png");
  }

  // ---- hover readout --------------------------------------------------------------------------
  let hovering = false;
  function renderCaption() {
    hovering = false;
    const names = classNames();
    const p = probabilities(imageIndex())?.[get("target")];
    const shape = heat.map ? ` · ${heat.map.shape[0]}×${heat.map.shape[1]} map` : "";
    setChildren(readout, h("b", {}, methodInfo(get("method")).label), ` · ${names[get("target")] ?? get("target")}`,
      p === undefined ? "" : ` (${formatPercent(p)})`, ` · ${get("layer")}${shape}`);
  }
  canvas.addEventListener("mousemove", (event) => {
    hovering = true;
    const rect = canvas.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    const value = heat.valueAt(x, y);
    if (value === null || value === undefined) {
      readout.textContent = heat.map ? "" : "No map yet.";
      return;
    }
    const [row, col] = heat.cellAt(x, y);
    const [mh, mw] = heat.map.shape;
    setChildren(readout, "Map value ", h("b", { "data-role": "readout-value" }, value.toFixed(3)), ` · cell (${row}, ${col}) of ${mh}×${mw}`);
  });
  canvas.addEventListener("mouseleave", () => renderCaption());

  // ---- wiring ---------------------------------------------------------------------------------
  const traits = ["layer", "target", "method", "image_index", "opacity", "colormap", "threshold", "_layers", "_methods", "_class_names", "_topk", "_probabilities", "_colormaps", "_offline"];
  for (const name of traits) model.on(`change:${name}`, schedule);
  const unsubscribe = store.subscribe(schedule);
  refresh();

  return () => {
    disposed = true;
    clearTimeout(spinnerTimer);
    for (const name of traits) model.off(`change:${name}`, schedule);
    unsubscribe();
    if (lastCompareRequest !== null) store.request("compare", []);
    thumbUrls.forEach((url) => URL.revokeObjectURL(url));
  };
}

/**
 * Set a <select>'s options (rebuilt only when they changed) and its value. Options with a `group`
 * go into <optgroup>s when there are more than a dozen of them (long layer lists).
 */
function fillSelect(select, options, value) {
  const signature = JSON.stringify(options);
  if (select.dataset.options !== signature) {
    select.dataset.options = signature;
    const option = (o) => h("option", { value: o.value, disabled: o.disabled }, o.label);
    if (options.length > 12 && options.some((o) => o.group)) {
      const groups = new Map();
      for (const o of options) {
        if (!groups.has(o.group)) groups.set(o.group, []);
        groups.get(o.group).push(o);
      }
      setChildren(select, [...groups].map(([label, items]) => h("optgroup", { label }, items.map(option))));
    } else {
      setChildren(select, options.map(option));
    }
  }
  if (select.value !== String(value)) select.value = String(value);
}

