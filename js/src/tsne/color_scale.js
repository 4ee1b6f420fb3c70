// Colour by a number: per-point values through a colormap LUT (matplotlib's, 256 entries), and
// the colour bar's gradient and tick labels.
import { lutIndex } from "../lib/colormap_lut.js";

/** Colour of points without a value (NaN). */
export const NO_VALUE_RGB = [196, 199, 205];

/**
 * Per-point RGBA bytes: rgb = lut[lutIndex((v - lo) / (hi - lo))], alpha 255; NaN -> NO_VALUE_RGB.
 * A single-valued range (hi == lo) maps every value to the middle of the colormap.
 */
export function valueColors(values, [lo, hi], lut) {
  const rgba = new Uint8Array(values.length * 4);
  const span = hi - lo;
  for (let p = 0; p < values.length; p += 1) {
    const v = values[p];
    const rgb = Number.isNaN(v) ? NO_VALUE_RGB : null;
    const q = p * 4;
    if (rgb) {
      rgba[q] = rgb[0]; rgba[q + 1] = rgb[1]; rgba[q + 2] = rgb[2];
    } else {
      const i = lutIndex(span > 0 ? (v - lo) / span : 0.5) * 3;
      rgba[q] = lut[i]; rgba[q + 1] = lut[i + 1]; rgba[q + 2] = lut[i + 2];
    }
    rgba[q + 3] = 255;
  }
  return rgba;
}

/** Tick labels of the colour bar: lo, the middle and hi, each with 3 significant digits. */
export function colorbarTicks([lo, hi]) {
  const format = (v) => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-2) ? v.toExponential(2) : Number(v.toPrecision(3)).toString());
  return [format(lo), format((lo + hi) / 2), format(hi)];
}
