import { test } from "node:test";
import assert from "node:assert/strict";
import { upsampleBilinear, axisWeights } from "../src/cam/upsample.js";

const close = (a, b, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test("2 -> 4 along one axis matches torch's half-pixel sampling", () => {
  // torch.nn.functional.interpolate(torch.tensor([[[[0., 1.]]]]), size=(1, 4), mode="bilinear",
  // align_corners=False) -> [0, 0.25, 0.75, 1]: s = (d + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25.
  const out = upsampleBilinear(new Float32Array([0, 1]), 1, 2, 1, 4);
  [0, 0.25, 0.75, 1].forEach((v, i) => close(out[i], v));
});

test("2x2 -> 4x4 equals the hand-computed torch output", () => {
  // Input [[0, 1], [2, 3]]: out[y][x] = 2 * wy(y) + wx(x) with w = [0, .25, .75, 1] on both axes.
  const out = upsampleBilinear(new Float32Array([0, 1, 2, 3]), 2, 2, 4, 4);
  const w = [0, 0.25, 0.75, 1];
  for (let y = 0; y < 4; y += 1) for (let x = 0; x < 4; x += 1) close(out[y * 4 + x], 2 * w[y] + w[x]);
});

test("non-integer ratio 3 -> 7 matches torch.nn.functional.interpolate", () => {
  // torch: F.interpolate(torch.tensor([[[[0., 10., 4.]]]]), size=(1, 7), mode="bilinear", align_corners=False)
  // = [0, 1.4285714, 5.7142857, 10, 7.4285712, 4.8571429, 4]
  const out = upsampleBilinear(new Float32Array([0, 10, 4]), 1, 3, 1, 7);
  [0, 1.4285714, 5.7142857, 10, 7.4285712, 4.8571429, 4].forEach((v, i) => close(out[i], v, 1e-5));
});

test("upsampling a constant map stays constant and the output has the right size", () => {
  const out = upsampleBilinear(new Float32Array(49).fill(0.5), 7, 7, 30, 45);
  assert.equal(out.length, 30 * 45);
  for (const v of out) close(v, 0.5);
});

test("same size is the identity; a wrong value count is an error", () => {
  const values = new Float32Array([0.1, 0.9, 0.4, 0.3, 0.7, 0.2]);
  assert.deepEqual([...upsampleBilinear(values, 2, 3, 2, 3)], [...values]);
  assert.throws(() => upsampleBilinear(values, 3, 3, 6, 6), /expected 3 x 3/);
});

test("axis weights clamp at the last source index", () => {
  const { i0, i1, w1 } = axisWeights(2, 4);
  assert.deepEqual([...i0], [0, 0, 0, 1]);
  assert.deepEqual([...i1], [1, 1, 1, 1]);
  close(w1[3], 0.25); // s = 1.25: i0 = 1 = i1, so the weight no longer matters
});
