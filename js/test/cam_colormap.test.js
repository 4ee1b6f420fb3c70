import { test } from "node:test";
import assert from "node:assert/strict";
import { applyLut, lutIndex, lutGradient } from "../src/lib/colormap_lut.js";
import { toFloat32Array } from "../src/lib/dataview_float32.js";

// LUT where entry i is (i, 255 - i, 7): every colour says which index it came from.
const lut = new Uint8Array(768);
for (let i = 0; i < 256; i += 1) lut.set([i, 255 - i, 7], i * 3);

test("lutIndex follows matplotlib: floor(v * 256), 1.0 -> 255, out of range clamped", () => {
  assert.equal(lutIndex(0), 0);
  assert.equal(lutIndex(0.5), 128);
  assert.equal(lutIndex(0.999), 255);
  assert.equal(lutIndex(1), 255);
  assert.equal(lutIndex(-0.2), 0);
  assert.equal(lutIndex(3), 255);
  assert.equal(lutIndex(1 / 256), 1);
});

test("applyLut colours values and hides those under the threshold or NaN", () => {
  const rgba = applyLut(new Float32Array([0, 0.25, 0.5, 1, NaN]), lut, 0.3);
  assert.deepEqual([...rgba.slice(0, 8)], [0, 0, 0, 0, 0, 0, 0, 0].map((v, i) => (i % 4 === 3 ? 0 : rgba[i])));
  assert.equal(rgba[3], 0); // 0 < 0.3
  assert.equal(rgba[7], 0); // 0.25 < 0.3
  assert.deepEqual([...rgba.slice(8, 12)], [128, 127, 7, 255]);
  assert.deepEqual([...rgba.slice(12, 16)], [255, 0, 7, 255]);
  assert.equal(rgba[19], 0); // NaN
});

test("threshold 0 draws every finite value including 0", () => {
  const rgba = applyLut(new Float32Array([0]), lut, 0);
  assert.deepEqual([...rgba], [0, 255, 7, 255]);
});

test("a short LUT is an error", () => {
  assert.throws(() => applyLut(new Float32Array([0.5]), new Uint8Array(10)), /768 bytes/);
});

test("lutGradient spans the LUT ends", () => {
  const css = lutGradient(lut, 3);
  assert.match(css, /^linear-gradient\(to right, rgb\(0,255,7\) 0\.0%, rgb\(128,127,7\) 50\.0%, rgb\(255,0,7\) 100\.0%\)$/);
});

test("toFloat32Array reads little-endian float32 from an unaligned DataView", () => {
  const bytes = new Uint8Array(1 + 8);
  const view = new DataView(bytes.buffer, 1, 8);
  view.setFloat32(0, 0.75, true);
  view.setFloat32(4, -2.5, true);
  assert.deepEqual([...toFloat32Array(view)], [0.75, -2.5]);
  assert.throws(() => toFloat32Array(new DataView(new ArrayBuffer(6))), /multiple of 4/);
});
