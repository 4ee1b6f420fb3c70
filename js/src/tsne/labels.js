// Labels, colours and point states: the legend (one row per label, built when the labels
// change; each row's eye shows or hides its points), point colours (by label, or by a number
// through a colormap with a colour bar), and the per-point state byte the renderer draws from:
// selected (lasso / legend pick), highlighted (search or the `highlight` trait), hidden (legend).
import { colorbarTicks, valueColors } from "./color_scale.js";
import { element, legend } from "./controls.js";
import { lutGradient } from "../lib/colormap_lut.js";
import { pointColors } from "./palette.js";
import { POINT_STATE } from "./renderer.js";
import { asFloat32, asUint16, asUint8 } from "./streaming.js";

export class LabelsAndSelection {
  /** `view` supplies the model, renderer, chrome and the actions setSelection / requestDraw. */
  constructor(view) {
    this.view = view;
    this.codes = null;
    this.names = [];
    this.totals = [];
    this.selected = new Set();
    this.highlighted = new Set();
    this.hidden = new Set();
    this.ringed = new Set();
    this.legend = null;
  }

  /** Label codes and names from the model: legend rows, per-label totals, then the colours. */
  loadLabels() {
    const { model, chrome, n } = this.view;
    const codes = model.get("label_codes");
    this.codes = codes && codes.byteLength ? asUint16(codes) : null;
    this.names = model.get("label_names") || [];
    this.totals = new Array(this.names.length).fill(0);
    if (this.codes) for (let i = 0; i < n; i += 1) this.totals[this.codes[i]] += 1;
    this.legend = legend(this.names, this.totals, (index, add) => this.pick(index, add), (index) => this.toggleHidden(index));
    const box = chrome.side.legendBox;
    box.replaceChildren();
    if (this.names.length) box.append(element("h4", "", "Labels"), this.legend.node);
    this.loadColors();
  }

  /** Point colours: by `color_values` through the colormap when given, else by label; the colour bar. */
  loadColors() {
    const { model, chrome, renderer, n } = this.view;
    const values = asFloat32(model.get("color_values"));
    const lut = asUint8(model.get("colormap_lut"));
    const byValue = values.length === n && lut.length >= 768;
    const range = model.get("color_range") || [0, 1];
    if (renderer) renderer.setColors(byValue ? valueColors(values, range, lut) : pointColors(this.codes, n, this.names.length));
    chrome.colorbar.show(byValue ? { title: model.get("color_label") || "colour", gradient: lutGradient(lut), ticks: colorbarTicks(range) } : null);
    this.view.requestDraw();
  }

  /** The `selection` trait: its count text, fully selected labels, and the point states. */
  loadSelection() {
    const { model, chrome, n } = this.view;
    const selection = model.get("selection") || [];
    this.selected = new Set(selection);
    chrome.side.showSelection(selection.length
      ? `${selection.length.toLocaleString("en-US")} of ${n.toLocaleString("en-US")} selected`
      : `${n.toLocaleString("en-US")} points · lasso to select`, selection.length > 0);
    if (this.legend && this.codes) {
      // A label is highlighted when the selection holds every one of its points.
      const perLabel = new Array(this.names.length).fill(0);
      for (const i of selection) perLabel[this.codes[i]] += 1;
      const active = new Set();
      perLabel.forEach((count, label) => { if (count && count === this.totals[label]) active.add(label); });
      this.legend.highlight(active);
    }
    this.uploadStates();
  }

  /** The `highlight` trait (search results or set from code). */
  loadHighlight() {
    this.highlighted = new Set(this.view.model.get("highlight") || []);
    this.uploadStates();
  }

  /** The `hidden_labels` trait: legend rows and the point states. */
  loadHidden() {
    this.hidden = new Set(this.view.model.get("hidden_labels") || []);
    if (this.legend) this.legend.setHidden(this.hidden);
    this.uploadStates();
  }

  /** The `ringed` trait: points drawn with a dark ring (e.g. a ModelLens's misclassified images). */
  loadRinged() {
    this.ringed = new Set(this.view.model.get("ringed") || []);
    this.uploadStates();
  }

  /** Whether point i is drawn (its label is not hidden). */
  isVisible(i) {
    return !(this.codes && this.hidden.size && this.hidden.has(this.codes[i]));
  }

  /** One state byte per point (POINT_STATE bits) to the renderer. */
  uploadStates() {
    const { renderer, n } = this.view;
    const states = new Uint8Array(n);
    for (const i of this.selected) if (i >= 0 && i < n) states[i] |= POINT_STATE.selected;
    for (const i of this.highlighted) if (i >= 0 && i < n) states[i] |= POINT_STATE.highlighted;
    for (const i of this.ringed) if (i >= 0 && i < n) states[i] |= POINT_STATE.ringed;
    if (this.codes && this.hidden.size) {
      for (let i = 0; i < n; i += 1) if (this.hidden.has(this.codes[i])) states[i] |= POINT_STATE.hidden;
    }
    if (renderer) renderer.setStates(states, { anySelected: this.selected.size > 0, anyHighlighted: this.highlighted.size > 0, anyRinged: this.ringed.size > 0 });
    this.view.tooltip.invalidate();
    this.view.requestDraw();
  }

  /** Eye button of a legend row: hide the label's points, or show them again. */
  toggleHidden(label) {
    const hidden = new Set(this.hidden);
    if (hidden.has(label)) hidden.delete(label); else hidden.add(label);
    this.view.setTrait("hidden_labels", [...hidden].sort((a, b) => a - b));
  }

  /** Click: select the label's points (again: clear); shift/ctrl/meta-click: add or remove them. */
  pick(label, add) {
    const { model, n } = this.view;
    const members = [];
    for (let i = 0; i < n; i += 1) if (this.codes[i] === label) members.push(i);
    const current = model.get("selection") || [];
    const already = members.length && members.every((i) => this.selected.has(i));
    if (add) {
      const merged = new Set(current);
      for (const i of members) if (already) merged.delete(i); else merged.add(i);
      this.view.setSelection([...merged].sort((a, b) => a - b));
    } else {
      this.view.setSelection(already && current.length === members.length ? [] : members);
    }
  }
}
