// The explorer's toolbar: layer, method and colormap menus, the Compare toggle and Save PNG.
// Built once; the menus' options are rebuilt only when the options themselves change.
import { h, setChildren } from "./dom.js";

// Longer option lists with groups (layer names) are shown in <optgroup>s.
const GROUP_FROM = 12;

/** Build the toolbar; `actions` = { setTraits(values), toggleCompare(), download() }. */
export function buildToolbar(actions) {
  const select = (role, label, trait) => {
    const node = h("select", { "data-role": role, "aria-label": label, onchange: () => actions.setTraits({ [trait]: node.value }) });
    return node;
  };
  const layer = select("layer", "Layer", "layer");
  const method = select("method", "Method", "method");
  const colormap = select("colormap", "Colormap", "colormap");
  const compare = h("button", { "data-role": "compare-toggle", onclick: () => actions.toggleCompare() }, "Compare");
  const download = h("button", { "data-role": "download", title: "Save the current view as a PNG", onclick: () => actions.download() }, "Save PNG");
  const field = (label, control) => h("label", { class: "cam-field" }, h("span", {}, label), control);
  const node = h(
    "div",
    { class: "cam-toolbar" },
    field("Layer", layer), field("Method", method), field("Colormap", colormap),
    h("div", { class: "cam-spacer" }), compare, download,
  );
  return {
    node, layer, method, colormap,
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
    const option = (o) => h("option", { value: o.value, disabled: o.disabled }, o.label);
    if (options.length > GROUP_FROM && options.some((o) => o.group)) {
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
