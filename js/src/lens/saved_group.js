// A lasso in an offline report: the mean of the maps the report saved for the selected points
// (each at the explorer's layer and method, for the image's most probable class).
import { asBytes, fromUnitCodes } from "../lib/dataview_float32.js";
import { topClass } from "./link.js";

/** { status, done, total, message, indices, mean, shape, maps } from the explorer's saved maps. */
export function savedGroup(explorer, selection, limit) {
  const layer = explorer.get("layer");
  const method = explorer.get("method");
  const saved = explorer.get("_precomputed") ?? {};
  const shapes = explorer.get("_precomputed_shapes") ?? {};
  const indices = [];
  const codes = [];
  let shape = null;
  for (const i of selection) {
    if (indices.length >= limit) break;
    const key = `${i}|${layer}|${topClass(explorer, i)}|${method}`;
    if (!saved[key]) continue;
    shape = shape ?? shapes[key];
    indices.push(i);
    codes.push(asBytes(saved[key]));
  }
  if (!selection.length) return { status: "idle", done: 0, total: 0, message: "", indices: [], mean: null, shape: [], maps: null };
  const size = shape ? shape[0] * shape[1] : 0;
  const maps = new Uint8Array(codes.length * size);
  const mean = new Float32Array(size);
  codes.forEach((c, k) => {
    maps.set(c, k * size);
    const values = fromUnitCodes(c);
    for (let j = 0; j < size; j += 1) mean[j] += values[j] / codes.length;
  });
  const missing = Math.min(selection.length, limit) - indices.length;
  const message = `mean of the ${indices.length} saved map${indices.length === 1 ? "" : "s"} among ${selection.length} selected`
    + (missing > 0 ? ` (${missing} without a saved map)` : "");
  return { status: indices.length ? "done" : "error", done: indices.length, total: indices.length,
    message: indices.length ? message : "none of the selected points has a map saved in this report",
    indices, mean: indices.length ? mean : null, shape: shape ?? [], maps };
}
