// One view of a CAMExplorer: toolbar, stage (map, overlay, legend, readout, sliders), class panel
// and scores, compare grid, thumbnails. State lives in the model's traits; maps come from the
// shared MapStore. Every control is built once and updated in place; each trait updates only the
// parts it affects (TRAIT_EFFECTS), and store updates only the map area.
import { asBytes, toFloat32Array } from "../lib/dataview_float32.js";
import { ViewParts } from "../lib/trait_wiring.js";
import { ClassPanel } from "./class_panel.js";
import { CompareView } from "./compare_view.js";
import { CostGate } from "./cost.js";
import { h, ensureStyle, formatPercent } from "./dom.js";
import { mapKey, layerGroup, parseKey } from "./keys.js";
import { COMPUTING, MISSING } from "./map_store.js";
import { PaintLog } from "./paint_log.js";
import { SanityPanel } from "./sanity_panel.js";
import { ScoresPanel } from "./scores_panel.js";
import { bindReadout, buildStage } from "./stage.js";
import { StatusOverlay } from "./status_overlay.js";
import { CSS, STYLE_ID } from "./styles.js";
import { choiceLabel, clickChoice, currentChoice, parseSpec, targetSpec } from "./target_spec.js";
import { ThumbnailStrip } from "./thumbnails.js";
import { buildToolbar, downloadCanvas, fillSelect, methodOption, layerOption, versusOptions } from "./toolbar.js";

/** Above this many images the thumbnail strip is left out (a ModelLens picks images in its scatter). */
const STRIP_MAX_IMAGES = 100;

/** Which parts of the view each synced trait affects. */
export const TRAIT_EFFECTS = {
  layer: ["menus", "classes", "map"],
  method: ["menus", "classes", "map"],
  target: ["menus", "classes", "map"],
  extra_targets: ["menus", "classes", "map"],
  versus: ["menus", "classes", "map"],
  image_index: ["menus", "classes", "thumbnails", "map"],
  opacity: ["sliders", "style"],
  threshold: ["sliders", "legend", "style"],
  colormap: ["menus", "legend", "style"],
  _layers: ["menus"],
  _methods: ["menus", "map"],
  _cost: ["menus", "map"],
  _class_names: ["classes", "caption"],
  _topk: ["classes"],
  _probabilities: ["classes", "caption"],
  _colormaps: ["menus", "legend", "style"],
  _offline: ["menus", "classes", "scores", "map"],
  _images: ["thumbnails", "map"],
  _image_names: ["thumbnails"],
  _image_mimes: ["thumbnails"],
  _sanity: ["sanity"],
  _n_images: ["map"],
};

/** Render the explorer into `el`; returns the cleanup that removes every listener and timer. */
export function renderExplorer({ model, el, store, photos, info }) {
  ensureStyle(STYLE_ID, CSS);
  const get = (name) => model.get(name);
  const setTraits = (values) => {
    for (const [name, value] of Object.entries(values)) model.set(name, value);
    model.save_changes();
  };
  const methods = () => get("_methods") ?? [];
  const methodInfo = (name) => methods().find((m) => m.name === name) ?? { name, label: name, slow: false };
  const classNames = () => get("_class_names") ?? [];
  const imageIndex = () => get("image_index");
  const choice = () => currentChoice(get);
  const spec = () => { const c = choice(); return targetSpec(c.target, c.extra, c.versus); };
  const keyFor = (method) => mapKey(imageIndex(), get("layer"), spec(), method);
  const currentKey = () => keyFor(get("method"));

  let comparing = false;
  let disposed = false;
  let lastImage = null;
  let lastMainRequest = null;
  let lastCompareRequest = null;
  let paintedKey = null;
  let sanityKey = null; // the map key the sanity panel was last shown for
  const compareSlow = new Set(); // keys of costly methods the user asked to compute in the grid
  const gate = new CostGate(() => (store.offline ? null : get("_cost")));

  const toolbar = buildToolbar({ setTraits, toggleCompare: () => { comparing = !comparing; parts.mark(["map"]); }, download });
  const stage = buildStage({ setTraits });
  const selectClasses = ({ target, extra, versus }) => setTraits({ target, extra_targets: extra, versus });
  const classPanel = new ClassPanel({ onSelect: (i, modifier) => selectClasses(clickChoice(choice(), i, modifier && !store.offline)) });
  const sanity = new SanityPanel({
    run: () => store.send({ type: "sanity", id: store.nextId(), ...parseKey(currentKey()) }),
    cancel: (id) => store.send({ type: "sanity-cancel", id }),
  });
  const scores = new ScoresPanel(() => store.requestScores(currentKey()));
  const compare = new CompareView({
    onPick: (method) => {
      comparing = false;
      setTraits({ method });
      parts.mark(["map"]);
    },
    onCompute: (method) => {
      const key = keyFor(method);
      gate.confirm(get("layer"), method); // asked once: the single view starts it at once too
      store.retry(key);
      compareSlow.add(key);
      lastCompareRequest = null;
      parts.mark(["map"]);
    },
  });
  const thumbnails = new ThumbnailStrip(selectImage);
  const panel = h("div", { class: "cam-panel" }, classPanel.el, scores.node);
  const root = h("div", { class: "nbviz-cam" }, toolbar.node, h("div", { class: "cam-body" }, stage.node, compare.el, panel), sanity.node, thumbnails.node);
  el.replaceChildren(root);
  const overlay = new StatusOverlay(stage.overlay, root, {
    retry: (key) => { lastMainRequest = null; store.retry(key); },
    cancel: (key) => store.cancel(key),
  });
  const readout = bindReadout(stage, caption);
  const paintLog = globalThis.NBVIZ_TEST_HOOKS ? new PaintLog(currentKey) : null;
  if (globalThis.NBVIZ_TEST_HOOKS) root.__nbvizCam = paintLog;

  const decoded = new WeakMap(); // probability buffer -> Float32Array, decoded once
  const probabilities = (i) => {
    const buffer = (get("_probabilities") ?? [])[i];
    if (!buffer?.byteLength) return info?.get(i)?.probs ?? null;
    if (!decoded.has(buffer)) decoded.set(buffer, toFloat32Array(buffer));
    return decoded.get(buffer);
  };
  const lut = () => {
    const luts = get("_colormaps") ?? {};
    const value = luts[get("colormap")] ?? Object.values(luts)[0];
    return value ? asBytes(value) : null;
  };
  const style = () => ({ lut: lut(), threshold: get("threshold"), opacity: get("opacity") });

  // ---- parts --------------------------------------------------------------------------------
  function updateMenus() {
    const offline = store.offline;
    const [index, layer, target, method] = [imageIndex(), get("layer"), spec(), get("method")];
    fillSelect(toolbar.layer, (get("_layers") ?? []).map((name) => layerOption(name, layerGroup(name),
      offline && !store.available(mapKey(index, name, target, method)))), layer);
    fillSelect(toolbar.method, methods().map((m) => methodOption(m, offline && !store.available(mapKey(index, layer, target, m.name)),
      gate.shortLabel(layer, m.name))), method);
    toolbar.showMethodBadge(methodInfo(method));
    const chosen = choice();
    fillSelect(toolbar.versus, versusOptions(classNames(), topClasses(index), chosen), chosen.versus ?? "");
    toolbar.versus.disabled = offline;
    toolbar.versus.title = offline ? "Choosing a versus class needs a running kernel" : "Explain why the chosen class rather than this one (score y_class − y_versus)";
    toolbar.showChoice(choiceLabel(classNames(), chosen), chosen.extra.length > 0 || chosen.versus !== null, offline);
    fillSelect(toolbar.colormap, Object.keys(get("_colormaps") ?? {}).map((name) => ({ value: name, label: name })), get("colormap"));
    root.dataset.offline = offline ? "true" : "false";
  }

  function updateClasses() {
    const offline = store.offline;
    const [index, layer, method] = [imageIndex(), get("layer"), get("method")];
    if (index !== lastImage) {
      lastImage = index;
      classPanel.clearSearch();
    }
    classPanel.update({
      names: classNames(),
      probs: probabilities(index),
      topk: topClasses(index),
      target: get("target"),
      extra: get("extra_targets") ?? [],
      versus: get("versus") ?? null,
      multi: !offline,
      version: `${index}|${layer}|${method}`, // what availability depends on in a report
      isAvailable: (i) => !offline || store.available(mapKey(index, layer, targetSpec(i, [], get("versus") === i ? null : get("versus") ?? null), method)),
    });
  }

  /** The map area: photo, main map and its status, scores, caption and the compare grid. */
  function updateMap() {
    const key = currentKey();
    const index = imageIndex();
    const photo = photos.peek(index);
    if (!photo) {
      photos.load(index).then(() => parts.mark(["map"]), (error) => overlay.showMessage("error", `Could not decode image ${index}: ${error.message}`));
    }
    stage.heat.setPhoto(photo ?? null);
    let status = store.status(key);
    const [layer, method] = [get("layer"), get("method")];
    const waiting = status.state === MISSING && gate.needsConfirm(layer, method);
    if (waiting && lastMainRequest !== null && key !== lastMainRequest) {
      lastMainRequest = null;
      store.request("main", []); // the map this lane wanted before is no longer wanted
    }
    if (status.state === MISSING && !waiting && key !== lastMainRequest) {
      lastMainRequest = key;
      store.request("main", [key]);
      status = store.status(key);
    }
    const entry = store.get(key);
    if (entry) {
      stage.heat.setMap(entry);
    } else if (!(status.state === COMPUTING && !methodInfo(get("method")).slow && paintedKey?.split("|")[0] === String(index))) {
      // Only a fast method on the same photo keeps the previous map for the few ms until its own
      // arrives (no flicker); otherwise an old map would pass for the new one.
      stage.heat.setMap(null);
    }
    stage.heat.setStyle(style());
    stage.heat.draw();
    if (entry && photo) notePaint(key);
    if (waiting) {
      overlay.showConfirm(key, describe(key), gate.label(layer, method), () => {
        gate.confirm(layer, method);
        parts.mark(["menus", "map"]);
      });
    } else if (entry?.blank) overlay.showBlank(key, describe(key), entry.blank);
    else overlay.show(status, key, methodInfo(get("method")), describe(key));
    scores.show(store.scores.get(key), store.offline || !entry);
    readout.showCaption();
    updateCompare(index, photo);
    if (key !== sanityKey) updateSanity();
  }

  function updateSanity() {
    sanityKey = currentKey();
    sanity.update({ sanity: get("_sanity"), key: sanityKey, offline: store.offline, style: style() });
  }

  function updateCompare(index, photo) {
    if (comparing) {
      const layer = get("layer");
      const keys = methods().map((m) => ({ m, key: keyFor(m.name) }))
        .filter(({ m, key }) => !gate.isCostly(layer, m.name) || compareSlow.has(key)).map(({ key }) => key);
      const signature = keys.join(",");
      if (signature !== lastCompareRequest) {
        lastCompareRequest = signature;
        store.request("compare", keys);
      }
      compare.update({ methods: methods(), photo, keyFor, store, style: style(), selected: get("method"), cost: costOf });
    } else if (lastCompareRequest !== null) {
      lastCompareRequest = null;
      store.request("compare", []);
    }
    stage.node.hidden = comparing;
    stage.node.style.display = comparing ? "none" : "";
    compare.el.hidden = !comparing;
    toolbar.showComparing(comparing);
  }

  function updateStyle() {
    stage.heat.setStyle(style());
    stage.heat.draw();
    sanity.restyle(style());
    if (comparing) compare.update({ methods: methods(), photo: photos.peek(imageIndex()) ?? null, keyFor, store, style: style(), selected: get("method"), cost: costOf });
  }

  const parts = new ViewParts([
    ["menus", updateMenus],
    ["classes", updateClasses],
    ["thumbnails", () => thumbnails.update({
      images: stripImages(), names: get("_image_names") ?? [], mimes: get("_image_mimes") ?? [], selected: imageIndex(),
    })],
    ["sliders", () => stage.showSliders(get("opacity"), get("threshold"))],
    ["legend", () => stage.showLegend(lut(), get("threshold"))],
    ["map", updateMap],
    ["style", updateStyle],
    ["caption", () => readout.showCaption()],
    ["scores", () => scores.setOffline(store.offline)],
    ["sanity", updateSanity],
  ]);

  // ---- helpers ------------------------------------------------------------------------------
  /** The estimate a compare tile shows before its costly map is asked for ("~90 s"), or "". */
  function costOf(method) {
    return gate.shortLabel(get("layer"), method);
  }

  function notePaint(key) {
    if (paintedKey === key && root.dataset.paintedKey === key) return;
    paintedKey = key;
    root.dataset.paintedKey = key;
    if (paintLog) paintLog.note(key, performance.now());
  }

  function caption() {
    const chosen = choice();
    const probs = probabilities(imageIndex());
    const p = probs ? [chosen.target, ...chosen.extra].reduce((sum, k) => sum + (probs[k] ?? 0), 0) : undefined;
    const map = stage.heat.map;
    const shape = map ? ` · ${map.shape[0]}×${map.shape[1]} map` : "";
    return [h("b", {}, methodInfo(get("method")).label), ` · ${choiceLabel(classNames(), chosen)}`,
      p === undefined ? "" : ` (${formatPercent(p)})`, ` · ${get("layer")}${shape}`];
  }

  function describe(key) {
    const [, layer, target, method] = key.split("|");
    return `${methodInfo(method).label} for “${choiceLabel(classNames(), parseSpec(target))}” at ${layer}`;
  }

  /** The strip's photos: all of them, or none for a large or lazily sent collection. */
  function stripImages() {
    const images = get("_images") ?? [];
    const complete = images.length <= STRIP_MAX_IMAGES && images.every((bytes) => bytes?.byteLength);
    return complete ? images : [];
  }

  /** Image i's most probable classes: from `_topk`, or as a lazy collection's reply gave them. */
  function topClasses(i) {
    const listed = (get("_topk") ?? [])[i];
    return listed?.length ? listed : info?.get(i)?.topk ?? [];
  }

  function selectImage(i) {
    if (i === imageIndex()) return;
    const top = topClasses(i)[0];
    setTraits(top === undefined ? { image_index: i } : { image_index: i, target: top, extra_targets: [], versus: null });
  }

  function download() {
    downloadCanvas(stage.canvas, { className: choiceLabel(classNames(), choice()), method: get("method"), layer: get("layer") }, root);
  }

  // ---- wiring -------------------------------------------------------------------------------
  parts.updateAll();
  parts.bindTraits(model, TRAIT_EFFECTS);
  const unsubscribe = store.subscribe(() => parts.mark(["map"]));
  const unsubscribeInfo = info?.subscribe((i) => { if (i === imageIndex()) parts.mark(["classes", "caption", "map"]); });

  return () => {
    if (disposed) return;
    disposed = true;
    parts.dispose();
    unsubscribe();
    unsubscribeInfo?.();
    overlay.dispose();
    readout.dispose();
    if (lastCompareRequest !== null) store.request("compare", []);
    thumbnails.revoke();
  };
}
