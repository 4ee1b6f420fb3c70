// Labels and the selection: the legend (one row per label, built when the labels change), point
// colours, the selection's highlight and text, and picking a label's points from the legend.
import { element, legend } from "./controls.js";
import { pointColors } from "./palette.js";
import { asUint16 } from "./streaming.js";

export class LabelsAndSelection {
  /** `view` supplies the model, renderer, chrome and the actions setSelection / requestDraw. */
  constructor(view) {
    this.view = view;
    this.codes = null;
    this.names = [];
    this.totals = [];
    this.selected = new Set();
    this.legend = null;
  }

  /** Label codes and names from the model: legend rows, per-label totals and point colours. */
  loadLabels() {
    const { model, chrome, renderer, n } = this.view;
    const codes = model.get("label_codes");
    this.codes = codes && codes.byteLength ? asUint16(codes) : null;
    this.names = model.get("label_names") || [];
    this.totals = new Array(this.names.length).fill(0);
    if (this.codes) for (let i = 0; i < n; i += 1) this.totals[this.codes[i]] += 1;
    this.legend = legend(this.names, this.totals, (index, add) => this.pick(index, add));
    const box = chrome.side.legendBox;
    box.replaceChildren();
    if (this.names.length) box.append(element("h4", "", "Labels"), this.legend.node);
    if (renderer) renderer.setColors(pointColors(this.codes, n, this.names.length));
    this.view.requestDraw();
  }

  /** The `selection` trait: highlighted points, the count text, and fully selected labels. */
  loadSelection() {
    const { model, chrome, renderer, n } = this.view;
    const selection = model.get("selection") || [];
    this.selected = new Set(selection);
    const states = new Uint8Array(n);
    for (const i of selection) if (i >= 0 && i < n) states[i] = 1;
    if (renderer) renderer.setSelection(states, selection.length > 0);
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
    this.view.requestDraw();
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
