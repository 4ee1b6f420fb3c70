// Embedding-Projector helpers: search rules (shared with Python), layout neighbours and the kept
// count, colour by number through a LUT, and the per-point state bits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SearchIndex, isRegex, queryMatcher } from "../src/tsne/search.js";
import { keptCount, layoutNearest } from "../src/tsne/neighbors.js";
import { NO_VALUE_RGB, colorbarTicks, valueColors } from "../src/tsne/color_scale.js";

const texts = ["Paris", "##ing", "parisian", "42", "un", "running", "", "Ünïcode"];
const codes = new Uint16Array([0, 1, 0, 2, 1, 1, 2, 0]);
const names = ["city", "piece", "number"];

test("substring search is case-insensitive, trimmed, over texts and label names", () => {
  const index = new SearchIndex(texts, codes, names, texts.length);
  assert.deepEqual(index.search("paris").indices, [0, 2]);
  assert.deepEqual(index.search("  PARIS ").indices, [0, 2]);
  assert.deepEqual(index.search("ing").indices, [1, 5]);
  // "numb" matches no text but label 2's name: its points 3 and 6 (6 has no text at all).
  assert.deepEqual(index.search("numb").indices, [3, 6]);
  assert.deepEqual(index.search("ünï").indices, [7]);
  assert.deepEqual(index.search("").indices, []);
  assert.equal(index.search("   ").error, "");
  assert.deepEqual(index.search("zzz").indices, []);
});

test("/regex/ search: case-insensitive, unanchored; invalid and empty patterns are errors that match nothing", () => {
  const index = new SearchIndex(texts, codes, names, texts.length);
  assert.deepEqual(index.search("/^par/").indices, [0, 2]);
  // /^p/ also matches the label name "piece": its points 1, 4, 5 join.
  assert.deepEqual(index.search("/^p/").indices, [0, 1, 2, 4, 5]);
  assert.deepEqual(index.search("/^##|^\\d+$/").indices, [1, 3]);
  assert.deepEqual(index.search("/IN/").indices, [1, 5]);
  const invalid = index.search("/(/");
  assert.deepEqual(invalid.indices, []);
  assert.match(invalid.error, /^Invalid regular expression \/\(\/:/);
  const empty = index.search("//");
  assert.deepEqual(empty.indices, []);
  assert.match(empty.error, /empty/);
  assert.equal(isRegex("/a/"), true);
  assert.equal(isRegex("/"), false);
  assert.equal(isRegex("a/"), false);
  // A lone slash or a slash inside the text is a substring search.
  assert.equal(queryMatcher("/").matcher.test("a/b", "a/b"), true);
});

test("search without labels or texts", () => {
  assert.deepEqual(new SearchIndex([], null, [], 3).search("a").indices, []);
  assert.deepEqual(new SearchIndex(["ab", "b", "AB"], null, [], 3).search("a").indices, [0, 2]);
});

test("layout neighbours: brute force by squared distance, nearest first, ties to the lower index", () => {
  // Points on a line at x = 0, 1, 3, 6, 10 and one at x = -1 (tied with x = 1 for point 0).
  const xy = new Float32Array([0, 0, 1, 0, 3, 0, 6, 0, 10, 0, -1, 0]);
  assert.deepEqual(layoutNearest(xy, 2, 0, 3), [1, 5, 2]);
  assert.deepEqual(layoutNearest(xy, 2, 3, 2), [2, 4]);
  // 3-D layouts use all three coordinates.
  const xyz = new Float32Array([0, 0, 0, 0, 0, 5, 1, 1, 1, 0, 2, 0]);
  assert.deepEqual(layoutNearest(xyz, 3, 0, 2), [2, 3]);
  // Against a full sort on random data.
  const n = 500;
  const random = new Float32Array(2 * n);
  let seed = 7;
  for (let i = 0; i < random.length; i += 1) { seed = (seed * 16807) % 2147483647; random[i] = seed / 2147483647; }
  const d2 = (j) => (random[2 * j] - random[0]) ** 2 + (random[2 * j + 1] - random[1]) ** 2;
  const expected = [...Array(n).keys()].slice(1).sort((a, b) => d2(a) - d2(b) || a - b).slice(0, 10);
  assert.deepEqual(layoutNearest(random, 2, 0, 10), expected);
});

test("kept count: how many true neighbours are also layout neighbours", () => {
  assert.equal(keptCount([4, 7, 9, 12], [12, 3, 4, 8]), 2);
  assert.equal(keptCount([1, 2, 3], [1, 2, 3]), 3);
  assert.equal(keptCount([1, 2, 3], []), 0);
  assert.equal(keptCount([], [1]), 0);
});

test("colour by number: value -> LUT entry floor((v - lo) / (hi - lo) * 256), NaN grey", () => {
  const lut = new Uint8Array(768);
  for (let i = 0; i < 256; i += 1) { lut[3 * i] = i; lut[3 * i + 1] = 255 - i; lut[3 * i + 2] = 7; }
  const values = new Float32Array([10, 20, 15, NaN, 12.5, 30, 0]);
  const rgba = valueColors(values, [10, 20], lut);
  const red = (p) => rgba[4 * p];
  assert.equal(red(0), 0); // lo -> entry 0
  assert.equal(red(1), 255); // hi -> entry 255 (v = 1 maps to N - 1)
  assert.equal(red(2), 128); // 0.5 * 256
  assert.deepEqual([...rgba.slice(12, 16)], [...NO_VALUE_RGB, 255]);
  assert.equal(red(4), 64); // 0.25 * 256
  assert.equal(red(5), 255); // above the range: clamped
  assert.equal(red(6), 0); // below the range: clamped
  assert.equal(rgba[4 * 2 + 1], 255 - 128);
  assert.ok([...Array(7).keys()].every((p) => rgba[4 * p + 3] === 255));
  // A constant colour: the middle of the colormap.
  assert.equal(valueColors(new Float32Array([3, 3]), [3, 3], lut)[0], 128);
  assert.deepEqual(colorbarTicks([0, 1]), ["0", "0.5", "1"]);
  assert.deepEqual(colorbarTicks([-2.5, 123456]), ["-2.5", "6.17e+4", "1.23e+5"]);
});

test("uint16 frames: x = min + code / 65535 * (max - min) recovers the layout within half a step", async () => {
  const { frameLayout } = await import("../src/tsne/frames.js");
  const n = 1000;
  const xy = new Float64Array(2 * n);
  let seed = 3;
  for (let i = 0; i < xy.length; i += 1) { seed = (seed * 16807) % 2147483647; xy[i] = (seed / 2147483647) * 80 - 30; }
  const bounds = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i += 1) {
    bounds[0] = Math.min(bounds[0], xy[2 * i]); bounds[2] = Math.max(bounds[2], xy[2 * i]);
    bounds[1] = Math.min(bounds[1], xy[2 * i + 1]); bounds[3] = Math.max(bounds[3], xy[2 * i + 1]);
  }
  // The kernel's encoding (nbviz.widgets.tsne_keyframes.quantize_layout): round((x - min) / span * 65535).
  const codes = new Uint16Array(2 * n);
  for (let i = 0; i < n; i += 1) {
    codes[2 * i] = Math.round(((xy[2 * i] - bounds[0]) / (bounds[2] - bounds[0])) * 65535);
    codes[2 * i + 1] = Math.round(((xy[2 * i + 1] - bounds[1]) / (bounds[3] - bounds[1])) * 65535);
  }
  const decoded = frameLayout({ bounds }, new DataView(codes.buffer), n);
  const step = [(bounds[2] - bounds[0]) / 65535, (bounds[3] - bounds[1]) / 65535];
  for (let i = 0; i < 2 * n; i += 1) {
    // Half a step of rounding, plus float32 storage of the result (|x| <= 50: 2^-24 * 64).
    assert.ok(Math.abs(decoded[i] - xy[i]) <= step[i % 2] / 2 + 4e-6, `${i}: ${decoded[i]} vs ${xy[i]}`);
  }
  assert.equal(decoded[codes.indexOf(0)], Math.fround(bounds[0]));
  // A float32 frame (no bounds) is the buffer itself.
  const raw = new Float32Array([1.5, -2]);
  assert.deepEqual([...frameLayout({}, new DataView(raw.buffer), 1)], [1.5, -2]);
});

test("a frame made for another point count is acked and dropped, not drawn", async () => {
  const { frameValues, receiveFrame } = await import("../src/tsne/frames.js");
  assert.equal(frameValues({ bounds: [0, 0, 1, 1] }, new DataView(new ArrayBuffer(12))), 6);
  assert.equal(frameValues({}, new DataView(new ArrayBuffer(12))), 3);
  const sent = [];
  let puts = 0;
  const view = {
    n: 3, dims: 2, stats: { framesReceived: 0 },
    model: { send: (message) => sent.push(message) },
    inbox: { put: () => { puts += 1; return true; } },
    requestDraw: () => {},
  };
  receiveFrame(view, { type: "frame", seq: 7 }, [new DataView(new Float32Array(8).buffer)]);  // 4 points
  assert.deepEqual(sent, [{ type: "ack", seq: 7 }]);
  assert.equal(puts, 0);
  receiveFrame(view, { type: "frame", seq: 8 }, [new DataView(new Float32Array(6).buffer)]);  // 3 points
  assert.equal(puts, 1);
  assert.equal(sent.length, 1);
});

test("3-D draw order: back to front by depth, every point once, O(N) levels", async () => {
  const { backToFront, DEPTH_LEVELS, project } = await import("../src/tsne/orbit.js");
  let seed = 11;
  const random = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
  const n = 5000;
  const depth = Float32Array.from({ length: n }, () => random() * 2 - 1);
  const order = backToFront(depth);
  assert.equal(new Set(order).size, n);
  const step = 2 / (DEPTH_LEVELS - 1);
  for (let r = 1; r < n; r += 1) {
    // Non-decreasing depth, up to one level of rounding between neighbours in the order.
    assert.ok(depth[order[r]] >= depth[order[r - 1]] - step, `${r}`);
  }
  assert.ok(depth[order[0]] <= Math.min(...depth) + step && depth[order[n - 1]] >= Math.max(...depth) - step);
  // project() reports p_z: a point moved towards the camera (+z before rotation at yaw 0,
  // pitch 0) gets the larger depth, so it is drawn last.
  const xyz = new Float32Array([0, 0, -1, 0, 0, 1, 1, 1, 0]);
  const z = new Float32Array(3);
  project(xyz, { yaw: 0, pitch: 0 }, undefined, z);
  assert.ok(z[1] > z[0]);
  assert.deepEqual([...backToFront(z)].slice(-1), [1]);
  assert.deepEqual([...backToFront(new Float32Array([0.5, 0.5]))].sort(), [0, 1]);
});

test("3-D orbit camera: rotation is orthonormal, the centre projects to 0, nearer points spread wider", async () => {
  const { CAMERA_DISTANCE, normalization3, orbitBy, PITCH_LIMIT, project, rotation } = await import("../src/tsne/orbit.js");
  const r = rotation({ yaw: 0.7, pitch: -0.4 });
  for (let a = 0; a < 3; a += 1) {
    for (let b = 0; b < 3; b += 1) {
      const dot = r[3 * a] * r[3 * b] + r[3 * a + 1] * r[3 * b + 1] + r[3 * a + 2] * r[3 * b + 2];
      assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-12);
    }
  }
  // Cube corners at +-1 around (10, 20, 30), scaled x2: world coordinates are the corners / 1.
  const xyz = new Float32Array([9, 19, 29, 11, 21, 31, 10, 20, 30]);
  assert.deepEqual(normalization3(xyz), { centre: [10, 20, 30], scale: 1 });
  const flat = project(xyz, { yaw: 0, pitch: 0 });
  // No rotation: s = D / (D - z); the corner at z = -1 shrinks, the one at z = +1 grows, the centre stays 0.
  const d = CAMERA_DISTANCE;
  assert.ok(Math.abs(flat[0] - (-1 * d) / (d + 1)) < 1e-6 && Math.abs(flat[1] - (-1 * d) / (d + 1)) < 1e-6);
  assert.ok(Math.abs(flat[2] - d / (d - 1)) < 1e-6);
  assert.deepEqual([flat[4], flat[5]], [0, 0]);
  // A quarter turn of yaw brings the +z corner to the right (+x): R_y(pi/2) maps z -> x.
  const turned = project(new Float32Array([0, 0, 1, 0, 0, -1]), { yaw: Math.PI / 2, pitch: 0 });
  assert.ok(turned[0] > 0.99 && Math.abs(turned[1]) < 1e-6 && turned[2] < -0.99);
  assert.equal(orbitBy({ yaw: 0, pitch: 1.4 }, 10, 1000).pitch, PITCH_LIMIT);
  assert.ok(orbitBy({ yaw: 0, pitch: 0 }, 100, 0).yaw > 0);
});

test("keyframes of 3-D layouts decode with six bounds", async () => {
  const { decodeKeyframe } = await import("../src/tsne/streaming.js");
  const codes = new Uint16Array([0, 65535, 32768, 65535, 0, 0, /* keyframe 1 */ 1, 2, 3, 4, 5, 6]);
  const xyz = decodeKeyframe(codes, 2, 0, [-1, 0, 10, 1, 2, 20]);
  const want = [-1, 2, 10 + (32768 / 65535) * 10, 1, 0, 10];
  want.forEach((v, i) => assert.ok(Math.abs(xyz[i] - v) < 1e-5, `${i}: ${xyz[i]} vs ${v}`));
});
