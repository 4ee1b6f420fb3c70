// Colormap lookup tables: 256 RGB triplets (768 bytes), as matplotlib's `cmap(np.linspace(0, 1, 256))`.

export const LUT_SIZE = 256;

/**
 * LUT index of a value in [0, 1], as matplotlib's Colormap.__call__ does for N = 256:
 * i = floor(v * N), with v = 1 mapped to N - 1; values outside [0, 1] are clamped.
 */
export function lutIndex(value) {
  const i = Math.floor(value * LUT_SIZE);
  return i < 0 ? 0 : i >= LUT_SIZE ? LUT_SIZE - 1 : i;
}

/**
 * Colour a map into RGBA pixels: rgba[p] = (lut[i], 255) with i = lutIndex(values[p]), except
 * alpha = 0 where values[p] < threshold or is NaN (nothing drawn there).
 */
export function applyLut(values, lut, threshold = 0, out = null) {
  if (lut.length < LUT_SIZE * 3) throw new RangeError(`a colormap LUT needs ${LUT_SIZE * 3} bytes, got ${lut.length}`);
  const rgba = out ?? new Uint8ClampedArray(values.length * 4);
  for (let p = 0, q = 0; p < values.length; p += 1, q += 4) {
    const v = values[p];
    if (!(v >= threshold)) {
      rgba[q + 3] = 0;
      continue;
    }
    const i = lutIndex(v) * 3;
    rgba[q] = lut[i];
    rgba[q + 1] = lut[i + 1];
    rgba[q + 2] = lut[i + 2];
    rgba[q + 3] = 255;
  }
  return rgba;
}

/** CSS linear-gradient of a LUT (for a colour-bar legend), sampled at `stops` points. */
export function lutGradient(lut, stops = 16) {
  const parts = [];
  for (let s = 0; s < stops; s += 1) {
    const i = lutIndex(s / (stops - 1)) * 3;
    parts.push(`rgb(${lut[i]},${lut[i + 1]},${lut[i + 2]}) ${((100 * s) / (stops - 1)).toFixed(1)}%`);
  }
  return `linear-gradient(to right, ${parts.join(", ")})`;
}
