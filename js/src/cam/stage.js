// The single-map stage: the heatmap canvas with its status overlay, the colour legend, the
// readout under the image (caption, or the map value under the cursor) and the two sliders.
import { lutGradient } from "../lib/colormap_lut.js";
import { h, setChildren } from "./dom.js";
import { HeatmapCanvas } from "./heatmap_canvas.js";

export const MAIN_WIDTH = 360;

/** Build the stage; `actions.setTraits(values)` commits slider moves. */
export function buildStage(actions) {
  const canvas = h("canvas", { class: "cam-main", "data-role": "canvas" });
  const heat = new HeatmapCanvas(canvas, MAIN_WIDTH);
  const overlay = h("div", { class: "cam-overlay", "data-role": "status", hidden: true });
  const colorbar = h("div", { class: "cam-colorbar", "data-role": "colorbar" }, h("i"));
  const legend = h("div", { class: "cam-legend" }, h("span", {}, "0"), colorbar, h("span", {}, "1"));
  const readout = h("div", { class: "cam-readout", "data-role": "readout", title: "Hover the image to read the map value under the cursor" });
  const range = (role, label) => h("input", { type: "range", min: "0", max: "1", step: "0.01", "data-role": role, "aria-label": label });
  const opacity = range("opacity", "Opacity");
  const threshold = range("threshold", "Threshold");
  const opacityOut = h("output");
  const thresholdOut = h("output");
  opacity.addEventListener("input", () => actions.setTraits({ opacity: Number(opacity.value) }));
  threshold.addEventListener("input", () => actions.setTraits({ threshold: Number(threshold.value) }));
  const sliders = h("div", { class: "cam-sliders" }, "Opacity", opacity, opacityOut, "Threshold", threshold, thresholdOut);
  const node = h("div", { class: "cam-stage", style: { width: `${MAIN_WIDTH}px` } },
    h("div", { class: "cam-canvas-wrap" }, canvas, overlay), legend, readout, sliders);
  return {
    node, canvas, heat, overlay, readout,
    showSliders(opacityValue, thresholdValue) {
      opacity.value = String(opacityValue);
      threshold.value = String(thresholdValue);
      opacityOut.textContent = Number(opacityValue).toFixed(2);
      thresholdOut.textContent = Number(thresholdValue).toFixed(2);
    },
    /** The colour bar of `lut` (RGBA bytes) with a marker at the threshold (hidden at 0). */
    showLegend(lut, thresholdValue) {
      if (lut) colorbar.style.background = lutGradient(lut);
      colorbar.firstChild.style.left = `calc(${(100 * thresholdValue).toFixed(1)}% - 1px)`;
      colorbar.firstChild.hidden = !(thresholdValue > 0);
    },
  };
}

/**
 * The readout: `caption()` (a list of children) while the cursor is off the map, the map value
 * and cell under it while on. Returns { showCaption, dispose }.
 */
export function bindReadout({ canvas, heat, readout }, caption) {
  let hovering = false;
  const showCaption = () => { if (!hovering) setChildren(readout, caption()); };
  const onMove = (event) => {
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
  };
  const onLeave = () => { hovering = false; showCaption(); };
  canvas.addEventListener("mousemove", onMove);
  canvas.addEventListener("mouseleave", onLeave);
  return {
    showCaption,
    dispose() {
      canvas.removeEventListener("mousemove", onMove);
      canvas.removeEventListener("mouseleave", onLeave);
    },
  };
}
