// Pure helpers of the t-SNE scatter: geometry, lasso, hover index, frame inbox, keyframes, colours.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  HOME, layoutBounds, normalization, panBy, pointInPolygon, pointsInPolygon, screenToWorld, worldToScreen, zoomAt,
} from "../src/tsne/geometry.js";
import { GridIndex } from "../src/tsne/spatial_index.js";
import { FrameInbox, asFloat32, decodeKeyframe } from "../src/tsne/streaming.js";
import { categoryColor, hslToRgb, pointColors } from "../src/tsne/palette.js";
import { autoStyle } from "../src/tsne/chrome_state.js";

const close = (a, b, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test("bounds and normalisation put the longer side on [-1, 1]", () => {
  const xy = new Float32Array([0, 0, 4, 1, 2, -1]);
  assert.deepEqual(layoutBounds(xy), [0, -1, 4, 1]);
  const n = normalization([0, -1, 4, 1]);
  assert.deepEqual(n, { cx: 2, cy: 0, scale: 0.5 });
  assert.equal(normalization([3, 3, 3, 3]).scale, 1);
});

test("camera: world <-> screen are inverses, zoom keeps the cursor's point fixed, pan moves by pixels", () => {
  const cam = { k: 2.5, tx: 0.3, ty: -0.2 };
  const [sx, sy] = worldToScreen(cam, 800, 500, 0.4, -0.7);
  const [wx, wy] = screenToWorld(cam, 800, 500, sx, sy);
  close(wx, 0.4); close(wy, -0.7);
  // At HOME the world origin is the plot centre and 1 world unit is min(w, h) * 0.9 / 2 px.
  assert.deepEqual(worldToScreen(HOME, 800, 500, 0, 0), [400, 250]);
  close(worldToScreen(HOME, 800, 500, 1, 0)[0], 400 + 225);
  const before = screenToWorld(cam, 800, 500, 123, 77);
  const zoomed = zoomAt(cam, 800, 500, 123, 77, 1.7);
  const after = screenToWorld(zoomed, 800, 500, 123, 77);
  close(before[0], after[0], 1e-12); close(before[1], after[1], 1e-12);
  close(zoomed.k, 2.5 * 1.7);
  const panned = panBy(cam, 800, 500, 30, -12);
  const [px, py] = worldToScreen(panned, 800, 500, 0.4, -0.7);
  close(px, sx + 30, 1e-9); close(py, sy - 12, 1e-9);
});

test("point in polygon (even-odd) and lasso selection by world position", () => {
  const square = [[0, 0], [2, 0], [2, 2], [0, 2]];
  assert.equal(pointInPolygon(1, 1, square), true);
  assert.equal(pointInPolygon(3, 1, square), false);
  const concave = [[0, 0], [4, 0], [4, 4], [2, 1], [0, 4]]; // a notch from the top
  assert.equal(pointInPolygon(2, 3, concave), false);
  assert.equal(pointInPolygon(2, 0.5, concave), true);
  // Data layout 10x the world: norm scale 0.1 around (0, 0) -> world = data / 10.
  const xy = new Float32Array([5, 5, 25, 5, -5, 5, 5, 25, 15, 15]);
  const hits = pointsInPolygon(xy, { cx: 0, cy: 0, scale: 0.1 }, square.map(([x, y]) => [x, y]));
  assert.deepEqual(hits, [0, 4]);
  assert.deepEqual(pointsInPolygon(xy, { cx: 0, cy: 0, scale: 0.1 }, [[0, 0], [1, 1]]), []);
});

test("grid index finds the same nearest point as brute force", () => {
  let seed = 7;
  const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const n = 3000;
  const xy = new Float32Array(n * 2).map(() => rand() * 40 - 20);
  const norm = normalization(layoutBounds(xy));
  const index = new GridIndex(xy, norm);
  for (let q = 0; q < 200; q += 1) {
    const x = rand() * 2 - 1; const y = rand() * 2 - 1; const r = 0.03;
    let best = -1; let bestD = r * r;
    for (let i = 0; i < n; i += 1) {
      const dx = (xy[2 * i] - norm.cx) * norm.scale - x;
      const dy = (xy[2 * i + 1] - norm.cy) * norm.scale - y;
      const d = dx * dx + dy * dy;
      if (d <= bestD) { bestD = d; best = i; }
    }
    assert.equal(index.nearest(x, y, r), best);
  }
});

test("grid index in 3-D: the point drawn on top under the cursor wins, else the nearest", () => {
  // Point 0 sits exactly under the cursor but behind point 1, whose disc also covers the cursor.
  const xy = new Float32Array([0, 0, 0.02, 0, 0.5, 0.5, -0.5, -0.5]);
  const norm = { cx: 0, cy: 0, scale: 1 };
  const depth = new Float32Array([-0.4, 0.3, 0.9, 0]);
  const index = new GridIndex(xy, norm, depth);
  assert.equal(index.nearest(0, 0, 0.05, 0.03), 1, "the front disc covering the cursor");
  assert.equal(index.nearest(0, 0, 0.05, 0.01), 0, "no disc but point 0's covers it: the nearest");
  assert.equal(new GridIndex(xy, norm).nearest(0, 0, 0.05, 0.03), 0, "2-D: the nearest");
  assert.equal(index.nearest(0.3, 0.3, 0.05, 0.03), -1, "nothing within the radius");
});

test("frame inbox keeps only the newest frame and never goes back in sequence", () => {
  const inbox = new FrameInbox();
  assert.equal(inbox.put({ seq: 1 }), true);
  assert.equal(inbox.put({ seq: 3 }), true);
  assert.equal(inbox.put({ seq: 2 }), false); // stale, ignored
  assert.equal(inbox.take().seq, 3);
  assert.equal(inbox.take(), null);
  assert.equal(inbox.dropped, 1);
});

test("buffers: aligned views are not copied; misaligned ones are", () => {
  const raw = new ArrayBuffer(20);
  new Float32Array(raw, 4, 2).set([1.5, -2]);
  const aligned = asFloat32(new DataView(raw, 4, 8));
  assert.equal(aligned.buffer, raw);
  assert.deepEqual([...aligned], [1.5, -2]);
  const bytes = new Uint8Array(raw);
  const shifted = new ArrayBuffer(21);
  new Uint8Array(shifted).set(bytes.subarray(4, 12), 1);
  const copy = asFloat32(new DataView(shifted, 1, 8));
  assert.notEqual(copy.buffer, shifted);
  assert.deepEqual([...copy], [1.5, -2]);
});

test("keyframe decoding: x = min + code / 65535 * (max - min)", () => {
  const codes = new Uint16Array([0, 65535, 65535, 0, /* keyframe 1 */ 32768, 0, 0, 65535]);
  const k0 = decodeKeyframe(codes, 2, 0, [-1, 0, 1, 10]);
  assert.deepEqual([...k0], [-1, 10, 1, 0]);
  const k1 = decodeKeyframe(codes, 2, 1, [0, 0, 2, 4]);
  close(k1[0], (32768 / 65535) * 2, 1e-6);
  assert.deepEqual([...k1.slice(1)], [0, 0, 4]);
});

test("colours: Tableau for <= 10, distinct beyond; HSL formula; unlabelled points share one colour", () => {
  assert.deepEqual(categoryColor(0, 3), [0x4e, 0x79, 0xa7]);
  assert.deepEqual(hslToRgb(0, 1, 0.5), [255, 0, 0]);
  assert.deepEqual(hslToRgb(120, 1, 0.25), [0, 128, 0]);
  const many = new Set(Array.from({ length: 40 }, (_, i) => categoryColor(i, 40).join()));
  assert.equal(many.size, 40);
  const rgba = pointColors(new Uint16Array([1, 0]), 2, 2);
  assert.deepEqual([...rgba.slice(0, 4)], [...categoryColor(1, 2), 255]);
  const plain = pointColors(null, 2, 0);
  assert.deepEqual([...plain.slice(0, 4)], [...plain.slice(4, 8)]);
});

test("default point style shrinks with N", () => {
  const small = autoStyle(1797); const big = autoStyle(1_000_000);
  assert.ok(small.size > big.size && small.opacity > big.opacity);
  assert.ok(big.size >= 1.5 && big.opacity >= 0.3);
});
