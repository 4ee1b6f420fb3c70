// The "Sanity check" section: a button that asks the kernel to run the model-parameter randomisation
// test (Adebayo et al. 2018) for the map on screen, its progress with Cancel, and the result: the
// verdict in plain words, the cascade as a strip of small maps and the similarity curves.
// State comes from the `_sanity` trait (nbviz/widgets/cam_sanity_panel.py); the panel shows it only
// while it describes the map on screen. Progress updates change the nodes in place, so the Cancel
// button a user aims at is never replaced between mouse down and mouse up.
import { asBytes, fromUnitCodes } from "../lib/dataview_float32.js";
import { h, setChildren } from "./dom.js";
import { HeatmapCanvas } from "./heatmap_canvas.js";

const TILE_WIDTH = 58;
const MEASURES = [
  { name: "spearman", label: "Spearman rank correlation", color: "#1976d2" },
  { name: "ssim", label: "SSIM", color: "#ef6c00" },
  { name: "hog", label: "HOG correlation", color: "#2e7d32" },
];
const PAPER = "Adebayo et al., “Sanity Checks for Saliency Maps”, NeurIPS 2018";
const RUN_TITLE = "Randomise the model's weights block by block, from the classifier down, and see whether this map "
  + `changes (model-parameter randomisation test, ${PAPER}). Runs on a copy of the model.`;
const SVG = "http://www.w3.org/2000/svg";

/** Map `index` of the strip's bytes (unit codes, one byte per value: nbviz.report.compact) -> { shape, values in [0, 1] }. */
export function decodeStripMap(bytes, shape, index = 0) {
  const all = asBytes(bytes);
  const size = shape[0] * shape[1];
  if (all.byteLength < (index + 1) * size) throw new RangeError(`map ${index} of shape ${shape} is past the ${all.byteLength} bytes sent`);
  return { shape, values: fromUnitCodes(all.subarray(index * size, (index + 1) * size)) };
}

export class SanityPanel {
  /** actions = { run(), cancel(id) }. */
  constructor(actions) {
    this.actions = actions;
    this.button = h("button", { "data-role": "sanity-run", title: RUN_TITLE, onclick: () => this.actions.run() }, "Sanity check");
    this.label = h("span", { class: "cam-sanity-label" });
    this.bar = h("div", { class: "cam-progress", "data-role": "sanity-progress" }, h("div"));
    this.cancel = h("button", { "data-role": "sanity-cancel", onclick: () => this.actions.cancel(this.runningId) }, "Cancel");
    this.running = h("div", { class: "cam-row cam-sanity-running", hidden: true }, this.label, this.bar, this.cancel);
    this.message = h("div", { "data-role": "sanity-message", class: "cam-note", hidden: true });
    this.result = h("div", { class: "cam-sanity-result", "data-role": "sanity-result", hidden: true });
    this.hint = h("span", { class: "cam-note" }, "Does this map depend on what the model learned?");
    this.node = h("div", { class: "cam-sanity", "data-role": "sanity" },
      h("div", { class: "cam-row" }, this.button, this.hint, this.running), this.message, this.result);
    this.shownResult = null;
    this.runningId = null;
  }

  /**
   * Show `sanity` (the trait) if it is about `key`; offline (a report), only a finished result is
   * shown and the button, which needs the kernel, is hidden. `style` colours the small maps.
   */
  update({ sanity, key, offline, style }) {
    const state = sanity && sanity.key === key ? sanity.state : null;
    this.node.dataset.state = state ?? "none";
    this.node.hidden = offline && state !== "done";
    this.button.hidden = offline;
    this.hint.hidden = offline || state !== null;
    this.button.disabled = state === "running";
    this.running.hidden = state !== "running";
    if (state === "running") {
      this.runningId = sanity.id;
      const { done, total } = sanity;
      this.bar.classList.toggle("cam-indeterminate", !total);
      this.bar.firstChild.style.width = total ? `${(100 * done) / total}%` : "";
      this.label.textContent = total ? `Randomising: map ${done} of ${total}` : "Copying the model…";
    }
    const text = state === "error" ? sanity.message : state === "cancelled" ? "The sanity check was cancelled." : "";
    this.message.hidden = !text;
    this.message.textContent = text;
    this.message.classList.toggle("cam-bad", state === "error");
    if (state === "done") {
      if (this.shownResult !== sanity) this.showResult(sanity);
      this.restyle(style);
    }
    this.result.hidden = state !== "done";
    if (state !== "done") this.shownResult = null;
  }

  showResult(sanity) {
    this.shownResult = sanity;
    const passed = sanity.verdict === "pass";
    const verdict = h("div", { class: `cam-verdict ${passed ? "cam-pass" : "cam-fail"}`, "data-role": "sanity-verdict" },
      h("b", {}, passed ? "✓ Passes the sanity check" : "✗ Fails the sanity check"), h("div", {}, sanity.summary));
    this.tiles = [];
    const curve = sanity.curves[sanity.measure] ?? [];
    const tile = (label, entry, note, title, classes = "") => {
      const canvas = h("canvas");
      const heat = new HeatmapCanvas(canvas, TILE_WIDTH);
      heat.resize(Math.round((TILE_WIDTH * entry.shape[0]) / entry.shape[1]));
      heat.setMap(entry);
      this.tiles.push(heat);
      return h("div", { class: `cam-sanity-tile ${classes}`, title }, canvas, h("div", { class: "cam-sanity-block" }, label), h("div", { class: "cam-sanity-value" }, note));
    };
    const tiles = [tile("original", decodeStripMap(sanity.original, sanity.shape), "trained", "The map of the trained model")];
    sanity.blocks.forEach((block, s) => {
      const value = curve[s];
      // the step where a passing map stopped resembling the original, and the verdict's deadline
      const classes = [passed && s === sanity.first_below ? "cam-first-below" : "", s === sanity.middle ? "cam-middle" : ""].join(" ");
      tiles.push(tile(block, decodeStripMap(sanity.maps, sanity.shape, s), value === undefined ? "" : value.toFixed(2),
        `After randomising ${sanity.blocks.slice(0, s + 1).join(", ")}: ${sanity.measure} ${value?.toFixed(3)} with the original`
        + (s === sanity.middle ? " (the middle of the cascade: the verdict's deadline)" : ""), classes));
    });
    const strip = h("div", { class: "cam-sanity-strip", "data-role": "sanity-strip" }, tiles);
    const chart = similarityChart(sanity);
    const measure = MEASURES.find((m) => m.name === sanity.measure)?.label ?? sanity.measure;
    const legend = h("div", { class: "cam-sanity-legend" },
      h("b", {}, "Similarity with the trained model's map"),
      MEASURES.filter((m) => sanity.curves[m.name]).map((m) => h("span", {}, h("i", { style: { background: m.color } }), m.label)),
      h("span", {}, h("i", { class: "cam-dash" }), `threshold ${sanity.threshold} (${measure})`),
      h("span", { class: "cam-note" }, `The map must fall below the threshold by “halfway” (${sanity.middle + 1} of ${sanity.blocks.length} blocks random) to pass.`));
    setChildren(this.result, verdict,
      h("div", { class: "cam-note" }, `The map after randomising each block in turn, from ${sanity.blocks[0]} down (number: ${measure} with the trained model's map):`),
      strip, h("div", { class: "cam-sanity-chart" }, chart, legend));
  }

  /** Colour the small maps with the view's colormap and threshold, at full opacity and without the
   * photo: what is compared is the map's own structure (a map that shows the image's edges shows them). */
  restyle(style) {
    for (const heat of this.tiles ?? []) {
      heat.setStyle({ ...style, opacity: 1 });
      heat.draw();
    }
  }
}

/** An SVG line chart of every similarity measure against the cascade step, with the threshold line. */
export function similarityChart(sanity, width = 420, height = 170) {
  const pad = { left: 34, right: 10, top: 10, bottom: 30 };
  const steps = sanity.blocks.length;
  const values = Object.values(sanity.curves).flat();
  const low = Math.min(-0.2, ...values.map((v) => Math.floor(v * 5) / 5));
  const x = (s) => pad.left + (steps > 1 ? (s / (steps - 1)) * (width - pad.left - pad.right) : 0);
  const y = (v) => pad.top + ((1 - v) / (1 - low)) * (height - pad.top - pad.bottom);
  const el = (tag, attrs, ...children) => {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
    for (const child of children) node.append(child);
    return node;
  };
  const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, "data-role": "sanity-curve", role: "img",
    "aria-label": `Similarity with the original map after each randomised block; threshold ${sanity.threshold}` });
  for (let v = 1; v >= low - 1e-9; v -= 0.5) { // 1, 0.5, 0, -0.5 ... down to the lowest value
    svg.append(el("line", { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: "cam-grid" }),
      el("text", { x: pad.left - 4, y: y(v) + 3, "text-anchor": "end" }, v.toFixed(1)));
  }
  svg.append(el("line", { x1: x(sanity.middle), x2: x(sanity.middle), y1: pad.top, y2: height - pad.bottom, class: "cam-middle-line" }),
    el("text", { x: x(sanity.middle) + 3, y: pad.top + 9 }, "halfway"),
    el("line", { x1: pad.left, x2: width - pad.right, y1: y(sanity.threshold), y2: y(sanity.threshold), class: "cam-threshold", "data-role": "sanity-threshold" }));
  for (const measure of MEASURES) {
    const curve = sanity.curves[measure.name];
    if (!curve) continue;
    const points = curve.map((v, s) => `${x(s).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    svg.append(el("polyline", { points, fill: "none", stroke: measure.color, "stroke-width": measure.name === sanity.measure ? 2.2 : 1.4, "data-measure": measure.name }));
    curve.forEach((v, s) => svg.append(el("circle", { cx: x(s), cy: y(v), r: 2.4, fill: measure.color },
      el("title", {}, `${sanity.blocks[s]}: ${measure.label} ${v.toFixed(3)}`))));
  }
  svg.append(el("text", { x: pad.left, y: height - 8 }, `${sanity.blocks[0]} →`),
    el("text", { x: width - pad.right, y: height - 8, "text-anchor": "end" }, `→ ${sanity.blocks[steps - 1]}`),
    el("text", { x: (pad.left + width - pad.right) / 2, y: height - 8, "text-anchor": "middle" }, "blocks randomised"));
  return svg;
}
