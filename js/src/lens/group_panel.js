// The lens's side panel: colour-by control, and the group of a lasso (status and progress with a
// Cancel button, the group's mean map over its mean thumbnail, a grid of each image with its map;
// clicking a cell shows that image in the explorer).
import { asBytes } from "../lib/dataview_float32.js";
import { meanThumbnail, paintOverlay } from "./overlay.js";

export const GRID_MAX = 48;
const COLOR_CHOICES = [["label", "true label"], ["predicted", "predicted class"], ["confidence", "confidence"]];

export const PANEL_CSS = `
.lens-panel { display: flex; gap: 16px; align-items: flex-start; flex-wrap: wrap; border-top: 1px solid #e2e6ec; padding-top: 8px; }
.lens-controls label { font-weight: 600; margin-right: 6px; }
.lens-group { flex: 1 1 480px; }
.lens-group-status { color: #444; margin: 4px 0; min-height: 1.4em; }
.lens-group-body { display: flex; gap: 12px; align-items: flex-start; }
.lens-group-body[hidden] { display: none; }
.lens-mean { display: flex; flex-direction: column; align-items: center; font-size: 12px; color: #555; }
.lens-mean canvas { width: 160px; height: 160px; image-rendering: auto; border-radius: 4px; }
.lens-grid { display: flex; flex-wrap: wrap; gap: 4px; max-height: 260px; overflow: auto; }
.lens-grid button { padding: 0; border: 2px solid transparent; background: none; cursor: pointer; border-radius: 4px; }
.lens-grid button:hover { border-color: #2f6fdd; }
.lens-grid canvas { width: 56px; height: 56px; display: block; border-radius: 2px; }
.lens-progress { width: 160px; vertical-align: middle; }
`;

function el(doc, tag, props = {}, ...children) {
  const node = doc.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

export class GroupPanel {
  /** `actions`: { setColorBy(value), cancel(), focus(i) }; `hasLabels`: true labels exist. */
  constructor(doc, actions, { hasLabels, offline }) {
    this.doc = doc;
    this.actions = actions;
    this.select = el(doc, "select", { "data-role": "color-by", onchange: () => actions.setColorBy(this.select.value) });
    for (const [value, label] of COLOR_CHOICES) {
      const option = el(doc, "option", { value }, label);
      if (value === "label" && !hasLabels) option.disabled = true;
      this.select.append(option);
    }
    this.status = el(doc, "div", { class: "lens-group-status", "data-role": "group-status" });
    this.progress = el(doc, "progress", { class: "lens-progress", max: "1", value: "0" });
    this.cancelButton = el(doc, "button", { type: "button", "data-role": "group-cancel", onclick: () => actions.cancel() }, "Cancel");
    this.meanCanvas = el(doc, "canvas", { width: "160", height: "160", "data-role": "group-mean" });
    this.meanCaption = el(doc, "div", {}, "");
    this.mean = el(doc, "div", { class: "lens-mean" }, this.meanCanvas, this.meanCaption);
    this.grid = el(doc, "div", { class: "lens-grid", "data-role": "group-grid" });
    this.body = el(doc, "div", { class: "lens-group-body" }, this.mean, this.grid);
    this.offline = offline;
    this.node = el(doc, "div", { class: "lens-panel" },
      el(doc, "div", { class: "lens-controls" }, el(doc, "label", {}, "Colour by"), this.select),
      el(doc, "div", { class: "lens-group", "data-role": "group" },
        el(doc, "div", {}, el(doc, "b", {}, "Selected group"), " ", this.progress, " ", this.cancelButton), this.status, this.body));
  }

  showColorBy(value) {
    this.select.value = value;
  }

  /** Show a group (see savedGroup for the fields) with the scatter's thumbnails and a colour LUT. */
  show(group, { thumbnails, thumbShape, lut, texts }) {
    const computing = group.status === "computing";
    this.progress.hidden = !computing;
    this.cancelButton.hidden = !computing || this.offline;
    this.progress.value = group.total ? group.done / group.total : 0;
    const idle = group.status === "idle";
    this.status.textContent = idle
      ? "Lasso points in the scatter (lasso tool or shift-drag) to see their mean class-activation map here."
      : computing ? `computing maps: ${group.done} of ${group.total} · ${group.message}` : group.message;
    this.node.dataset.groupStatus = group.status;
    const ready = group.status === "done" && group.mean && group.shape.length === 2;
    this.body.hidden = !ready;
    if (!ready) return;
    const [h, w] = group.shape;
    const thumbs = thumbnails ? asBytes(thumbnails) : null;
    const thumbSize = thumbShape?.[0] ? thumbShape[0] * thumbShape[1] * 4 : 0;
    paintOverlay(this.meanCanvas, {
      thumb: thumbs && thumbSize ? meanThumbnail(thumbs, thumbShape, group.indices) : null, thumbShape,
      map: group.mean, mapShape: [h, w], lut,
    });
    this.meanCaption.textContent = `mean map of ${group.indices.length} image${group.indices.length === 1 ? "" : "s"}`;
    const maps = group.maps ? asBytes(group.maps) : null;
    const cells = group.indices.slice(0, GRID_MAX).map((i, k) => {
      const canvas = el(this.doc, "canvas", { width: "56", height: "56" });
      const values = maps ? Float32Array.from(maps.subarray(k * h * w, (k + 1) * h * w), (q) => q / 255) : null;
      paintOverlay(canvas, {
        thumb: thumbs && thumbSize ? thumbs.subarray(i * thumbSize, (i + 1) * thumbSize) : null, thumbShape,
        map: values, mapShape: [h, w], lut,
      });
      return el(this.doc, "button", { type: "button", "data-point": String(i), title: texts?.[i] ?? `point ${i}`, onclick: () => this.actions.focus(i) }, canvas);
    });
    this.grid.replaceChildren(...cells);
  }
}
