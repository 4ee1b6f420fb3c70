import { test } from "node:test";
import assert from "node:assert/strict";
import { MapStore, READY, COMPUTING, FAILED, CANCELLED, UNAVAILABLE, MISSING } from "../src/cam/map_store.js";
import { mapKey, parseKey, layerGroup } from "../src/cam/keys.js";
import { searchClasses } from "../src/cam/class_search.js";

const f32 = (...values) => new DataView(new Float32Array(values).buffer);

function storeWithOutbox() {
  const sent = [];
  const store = new MapStore({ send: (m) => sent.push(m), client: "c" });
  return { store, sent };
}

test("keys round-trip", () => {
  const key = mapKey(2, "features.7.1", 281, "gradcam++");
  assert.equal(key, "2|features.7.1|281|gradcam++");
  assert.deepEqual(parseKey(key), { image: 2, layer: "features.7.1", target: 281, method: "gradcam++" });
});

test("a missing map is requested once, then served from the cache", () => {
  const { store, sent } = storeWithOutbox();
  const key = mapKey(0, "layer4", 3, "gradcam");
  assert.equal(store.status(key).state, MISSING);
  store.request("main", [key]);
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0].requests, [{ id: "c-1", image: 0, layer: "layer4", target: 3, method: "gradcam" }]);
  assert.equal(store.status(key).state, COMPUTING);
  store.request("main", [key]); // still in flight: same id, no new job
  assert.equal(sent[1].requests[0].id, "c-1");
  store.receive({ type: "map", key, shape: [1, 2] }, [f32(0.25, 1)]);
  assert.equal(store.status(key).state, READY);
  assert.deepEqual([...store.get(key).values], [0.25, 1]);
  store.request("main", [key]);
  assert.deepEqual(sent[2].requests, []); // cached: nothing asked
});

test("stale replies are cached but the lane moved on; out-of-order replies keep both", () => {
  const { store } = storeWithOutbox();
  const a = mapKey(0, "l", 1, "gradcam");
  const b = mapKey(0, "l", 2, "gradcam");
  store.request("main", [a]);
  store.request("main", [b]); // the user moved on: a is no longer in flight
  assert.equal(store.status(a).state, MISSING);
  store.receive({ type: "map", key: b, shape: [1, 1] }, [f32(0.5)]);
  store.receive({ type: "map", key: a, shape: [1, 1] }, [f32(0.75)]); // late reply for a
  assert.equal(store.get(b).values[0], 0.5);
  assert.equal(store.get(a).values[0], 0.75);
});

test("progress, cancel and errors", () => {
  const { store, sent } = storeWithOutbox();
  const key = mapKey(0, "l", 1, "scorecam");
  const [{ id }] = store.request("main", [key]);
  store.receive({ type: "progress", key, id, done: 3, total: 10 });
  assert.deepEqual(store.status(key).progress, { done: 3, total: 10 });
  store.cancel(key);
  assert.deepEqual(sent.at(-1), { type: "cancel", id });
  store.receive({ type: "cancelled", key, id });
  assert.equal(store.status(key).state, CANCELLED);
  store.request("main", [key]);
  assert.deepEqual(sent.at(-1).requests, []); // not recomputed until retried
  store.retry(key);
  store.request("main", [key]);
  assert.equal(sent.at(-1).requests.length, 1);
  const other = mapKey(0, "bad", 1, "gradcam");
  store.request("main", [other]);
  store.receive({ type: "error", key: other, message: "layer 'bad' has no gradient" });
  assert.deepEqual(store.status(other), { state: FAILED, message: "layer 'bad' has no gradient" });
});

test("a cancellation of a job the user moved away from is forgotten", () => {
  const { store } = storeWithOutbox();
  const slow = mapKey(0, "l", 1, "scorecam");
  const [{ id }] = store.request("main", [slow]);
  store.request("main", [mapKey(0, "l", 1, "gradcam")]);
  assert.equal(store.receive({ type: "cancelled", key: slow, id }), null);
  assert.equal(store.status(slow).state, MISSING);
});

test("a key wanted by two lanes stays in flight until neither wants it", () => {
  const { store } = storeWithOutbox();
  const key = mapKey(0, "l", 1, "gradcam");
  store.request("main", [key]);
  store.request("compare", [key]);
  store.request("main", []);
  assert.equal(store.status(key).state, COMPUTING);
  store.request("compare", []);
  assert.equal(store.status(key).state, MISSING);
});

test("offline: only saved maps exist, nothing is sent", () => {
  const sent = [];
  const saved = { "0|l|1|gradcam": { shape: [1, 3], data: new DataView(new Uint8Array([0, 51, 255]).buffer) } };
  const store = new MapStore({ send: (m) => sent.push(m), offlineMaps: saved });
  assert.equal(store.status("0|l|1|gradcam").state, READY);
  assert.deepEqual([...store.get("0|l|1|gradcam").values], [0, Math.fround(0.2), 1]);  // q / 255
  assert.equal(store.status("0|l|2|gradcam").state, UNAVAILABLE);
  assert.equal(store.available("0|l|2|gradcam"), false);
  store.request("main", ["0|l|2|gradcam"]);
  store.requestScores("0|l|1|gradcam");
  assert.equal(sent.length, 0);
});

test("the cache evicts the least recently used map", () => {
  const store = new MapStore({ send: () => {}, capacity: 2 });
  for (const k of ["a", "b"]) store.receive({ type: "map", key: k, shape: [1, 1] }, [f32(1)]);
  store.get("a");
  store.receive({ type: "map", key: "c", shape: [1, 1] }, [f32(1)]);
  assert.ok(store.get("a") && store.get("c"));
  assert.equal(store.get("b"), undefined);
});

test("class search matches every word, most probable first", () => {
  const names = ["tabby cat", "tiger cat", "Egyptian cat", "tiger", "cat snake"];
  const probs = new Float32Array([0.5, 0.2, 0.25, 0.04, 0.01]);
  assert.deepEqual(searchClasses(names, probs, "cat").indices, [0, 2, 1, 4]);
  assert.deepEqual(searchClasses(names, probs, "TIGER cat").indices, [1]);
  const limited = searchClasses(names, probs, "cat", 2);
  assert.deepEqual([limited.indices, limited.total], [[0, 2], 4]);
  assert.deepEqual(searchClasses(names, null, "t").indices, [0, 1, 2, 3, 4]);
});

test("layers are grouped by top-level module and block number", () => {
  assert.equal(layerGroup("blocks.15.expand.conv"), "blocks.15");
  assert.equal(layerGroup("blocks"), "blocks");
  assert.equal(layerGroup("head.conv"), "head");
  assert.equal(layerGroup("layer4.1.conv2"), "layer4.1");
  assert.equal(layerGroup("layer4"), "layer4");
  assert.equal(layerGroup("features.7.1"), "features.7");
});

test("a blank map keeps the engine's reason; a map that shows something has none", () => {
  const { store } = storeWithOutbox();
  const blank = mapKey(0, "encoder.ln", 3, "gradcam");
  const shown = mapKey(0, "conv_proj", 3, "gradcam");
  store.request("main", [blank, shown]);
  store.receive({ type: "map", key: blank, shape: [1, 2], blank: "the gradient of the target is zero everywhere at this layer" }, [f32(0, 0)]);
  store.receive({ type: "map", key: shown, shape: [1, 2] }, [f32(0, 1)]);
  assert.equal(store.status(blank).state, READY);
  assert.equal(store.get(blank).blank, "the gradient of the target is zero everywhere at this layer");
  assert.equal(store.get(shown).blank, null);
});
