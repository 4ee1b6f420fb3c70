// Categorical colours for labels: Tableau 10 (then 20) for few categories, evenly spread hues
// (golden-angle steps) beyond that, so neighbouring category indices never share a colour.
const TABLEAU10 = [
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
];
const TABLEAU20_EXTRA = [
  "#a0cbe8", "#ffbe7d", "#ff9d9a", "#86bcb6", "#8cd17d",
  "#f1ce63", "#d4a6c8", "#fabfd2", "#d37295", "#79706e",
];
export const UNLABELLED = "#3b6fb6";

/** "#rrggbb" -> [r, g, b] bytes. */
export function hexToRgb(hex) {
  const value = parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/** HSL (h in degrees, s and l in 0..1) -> [r, g, b] bytes; the standard hexcone formula. */
export function hslToRgb(h, s, l) {
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const hp = (((h % 360) + 360) % 360) / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  const [r, g, b] = hp < 1 ? [c, x, 0] : hp < 2 ? [x, c, 0] : hp < 3 ? [0, c, x]
    : hp < 4 ? [0, x, c] : hp < 5 ? [x, 0, c] : [c, 0, x];
  const m = l - c / 2;
  return [r, g, b].map((v) => Math.round((v + m) * 255));
}

/** The colour of category `index` out of `count` categories, as [r, g, b] bytes. */
export function categoryColor(index, count) {
  if (count <= 10) return hexToRgb(TABLEAU10[index]);
  if (count <= 20) return hexToRgb((index < 10 ? TABLEAU10 : TABLEAU20_EXTRA)[index % 10]);
  return hslToRgb(index * 137.508, 0.62, index % 2 ? 0.42 : 0.56);
}

/** CSS colour string for category `index`. */
export function categoryCss(index, count) {
  const [r, g, b] = categoryColor(index, count);
  return `rgb(${r}, ${g}, ${b})`;
}

/**
 * Per-point RGBA bytes (N x 4) from uint16 label codes; unlabelled data get one colour.
 * `codes` may be null.
 */
export function pointColors(codes, nPoints, nCategories) {
  const rgba = new Uint8Array(nPoints * 4);
  const table = [];
  for (let i = 0; i < Math.max(1, nCategories); i += 1) {
    table.push(codes ? categoryColor(i, nCategories) : hexToRgb(UNLABELLED));
  }
  for (let i = 0; i < nPoints; i += 1) {
    const [r, g, b] = table[codes ? Math.min(codes[i], table.length - 1) : 0];
    rgba[i * 4] = r;
    rgba[i * 4 + 1] = g;
    rgba[i * 4 + 2] = b;
    rgba[i * 4 + 3] = 255;
  }
  return rgba;
}
