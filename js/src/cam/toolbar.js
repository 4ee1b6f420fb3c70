// The explorer's toolbar: layer, method, versus-class and colormap menus, the classes explained
// (when several or a versus class are chosen), the Compare toggle and Save PNG.
// Built once; the menus' options are rebuilt only when the options themselves change.
import { h, setChildren } from "./dom.js";

// Longer option lists with groups (layer names) are shown in <optgroup>s.
const GROUP_FROM = 12;
const PAPER = "Adebayo et al., “Sanity Checks for Saliency Maps”, NeurIPS 2018";
const FAILS_TITLE = "Fails the sanity check: measured on the embedded EfficientNet-Lite0, this method's map barely changes "
  + `when the model's learned weights are randomised, so it shows the image more than the model's reasoning (${PAPER}).`;
const FUSE_LABEL = "fuse: 3 deepest grids (max)";

/** Build the toolbar; `actions` = { setTraits(values), toggleCompare(), download() }. */
export function buildToolbar(actions) {
  const select = (role, label, trait) => {
    const node = h("select", { "data-role": role, "aria-label": label, onchange: () => actions.setTraits({ [trait]: node.value }) });
    return node;
  };
  const layer = select("layer", "Layer", "layer");
  const method = select("method", "Method", "method");
  const colormap = select("colormap", "Colormap", "colormap");
  const versus = h("select", {
    "data-role": "versus", "aria-label": "Versus class",
    onchange: () => actions.setTraits({ versus: versus.value === "" ? null : Number(versus.value) }),
  });
  const badge = h("span", { class: "cam-badge cam-fails", "data-role": "method-badge", title: FAILS_TITLE, hidden: true }, "fails sanity check");
  const choice = h("span", { class: "cam-choice-text", "data-role": "target-label" });
  const single = h("button", {
    "data-role": "target-reset", title: "Back to the first class alone",
    onclick: () => actions.setTraits({ extra_targets: [], versus: null }),
  }, "×");
  const choiceField = h("label", { class: "cam-field cam-choice", hidden: true }, h("span", {}, "Explaining"), h("div", { class: "cam-row" }, choice, single));
  const compare = h("button", { "data-role": "compare-toggle", onclick: () => actions.toggleCompare() }, "Compare");
  const download = h("button", { "data-role": "download", title: "Save the current view as a PNG", onclick: () => actions.download() }, "Save PNG");
  const field = (label, control) => h("label", { class: "cam-field" }, h("span", {}, label), control);
  const node = h(
    "div",
    { class: "cam-toolbar" },
    field("Layer", layer), h("label", { class: "cam-field" }, h("span", {}, "Method ", badge), method),
    field("Versus", versus), field("Colormap", colormap), choiceField,
    h("div", { class: "cam-spacer" }), compare, download,
  );
  return {
    node, layer, method, colormap, versus,
    /** The badge next to the method menu: shown for a method whose measured sanity verdict is "fail". */
    showMethodBadge(info) {
      badge.hidden = info?.sanity !== "fail";
    },
    /** The classes explained, shown when they are more than one class alone (offline: no reset). */
    showChoice(text, combined, offline) {
      choiceField.hidden = !combined;
      choice.textContent = text;
      choice.title = text;
      single.hidden = offline;
    },
    /** The Compare button's label and state for the grid being shown or not. */
    showComparing(comparing) {
      compare.classList.toggle("cam-on", comparing);
      compare.textContent = comparing ? "Single view" : "Compare";
      compare.title = comparing ? "Back to the single map" : "Every method side by side for this layer and class";
    },
  };
}

/**
 * Set a <select>'s options (rebuilt only when they changed) and its value. Options with a `group`
 * go into <optgroup>s when there are more than GROUP_FROM of them (long layer lists).
 */
export function fillSelect(select, options, value) {
  const signature = JSON.stringify(options);
  if (select.dataset.options !== signature) {
    select.dataset.options = signature;
    const option = (o) => h("option", { value: o.value, disabled: o.disabled, title: o.title }, o.label);
    if (options.length > GROUP_FROM && options.some((o) => o.group)) {
      const groups = new Map();
      for (const o of options) {
        if (!groups.has(o.group)) groups.set(o.group, []);
        groups.get(o.group).push(o);
      }
      setChildren(select, [...groups].map(([label, items]) => (label ? h("optgroup", { label }, items.map(option)) : items.map(option))));
    } else {
      setChildren(select, options.map(option));
    }
  }
  if (select.value !== String(value)) select.value = String(value);
}

/**
 * The method menu's option for `m` (a `_methods` entry): a costly map shows its estimate (`cost`,
 * e.g. "~90 s"; "" for none) and a method whose measured sanity verdict is "fail" a ⚠.
 */
export function methodOption(m, disabled, cost = "") {
  const label = `${m.label}${cost ? ` (${cost})` : ""}${m.sanity === "fail" ? " ⚠" : ""}`;
  return {
    value: m.name, label, disabled,
    title: m.sanity === "fail" ? FAILS_TITLE : undefined,
  };
}

/** The layer menu's option for a layer name; "fuse" reads as what it does. */
export function layerOption(name, group, disabled) {
  return name === "fuse" ? { value: name, label: FUSE_LABEL, group: "fused", disabled } : { value: name, label: name, group, disabled };
}

/**
 * The versus menu: none, the top predictions, then every class by index; the chosen classes are
 * left out (a class cannot be explained against itself).
 */
export function versusOptions(names, topk, { target, extra, versus }) {
  const chosen = new Set([target, ...extra]);
  const option = (i, group) => ({ value: String(i), label: names[i] ?? `class ${i}`, group });
  const top = topk.filter((i) => !chosen.has(i)).map((i) => option(i, "Top predictions"));
  const all = names.map((_, i) => i).filter((i) => !chosen.has(i)).map((i) => option(i, "All classes"));
  if (versus !== null && versus !== undefined && !names[versus]) all.push(option(versus, "All classes"));
  return [{ value: "", label: "— none —", group: "" }, ...top, ...all];
}

/** Save `canvas` as a PNG named after the class, method and layer shown. */
export function downloadCanvas(canvas, { className, method, layer }, container) {
  const safe = (text) => String(text).replace(/[^a-z0-9]+/gi, "_").replace(/^_|_$/g, "");
  const name = `cam_${safe(className)}_${safe(method)}_${safe(layer)}.png`;
  canvas.toBlob((blob) => {
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: name, style: { display: "none" } });
    container.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }, "image/png");
}
