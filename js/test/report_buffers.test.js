import assert from "node:assert/strict";
import { test } from "node:test";
import { base64ToDataView, restoreBuffers } from "../src/report/buffers.js";

test("base64 decodes to a DataView over exactly those bytes", () => {
  // "AAEC/w==" is the RFC 4648 encoding of bytes 0, 1, 2, 255.
  const view = base64ToDataView("AAEC/w==");
  assert.ok(view instanceof DataView);
  assert.deepEqual([...new Uint8Array(view.buffer)], [0, 1, 2, 255]);
  assert.equal(view.byteLength, 4);
});

test("float32 values survive the round trip", () => {
  const values = new Float32Array([1.5, -2.25, 1e-7]);
  const text = Buffer.from(values.buffer).toString("base64");
  const view = base64ToDataView(text);
  assert.equal(view.getFloat32(0, true), 1.5);
  assert.equal(view.getFloat32(4, true), -2.25);
  assert.equal(view.getFloat32(8, true), Math.fround(1e-7));
});

test("buffers are restored at top level and nested inside dicts and lists", () => {
  const state = { image: null, maps: { "layer/cls": [null, { data: null }] }, title: "x" };
  restoreBuffers(
    state,
    [["image"], ["maps", "layer/cls", 0], ["maps", "layer/cls", 1, "data"]],
    ["AQ==", "AgM=", "BAUG"],
  );
  assert.deepEqual([...new Uint8Array(state.image.buffer)], [1]);
  assert.deepEqual([...new Uint8Array(state.maps["layer/cls"][0].buffer)], [2, 3]);
  assert.deepEqual([...new Uint8Array(state.maps["layer/cls"][1].data.buffer)], [4, 5, 6]);
  assert.ok(state.maps["layer/cls"][1].data instanceof DataView);
  assert.equal(state.title, "x");
});

test("inconsistent buffer data is a clear error, not a silent corruption", () => {
  assert.throws(() => restoreBuffers({}, [["a"]], []), /1 buffer paths for 0 buffers/);
  assert.throws(() => restoreBuffers({ a: 1 }, [["a", "b"]], ["AA=="]), /leads nowhere/);
  assert.throws(() => restoreBuffers({}, [[]], ["AA=="]), /empty buffer path/);
});
