import assert from "node:assert/strict";
import { test } from "node:test";
import { sameValue } from "../src/report/equality.js";
import { ReportModel } from "../src/report/model.js";

test("get returns the initial state and set stores new values", () => {
  const model = new ReportModel({ a: 1 });
  assert.equal(model.get("a"), 1);
  model.set("a", 2);
  assert.equal(model.get("a"), 2);
  model.set({ b: "x", c: [1] });
  assert.equal(model.get("b"), "x");
  assert.deepEqual(model.get("c"), [1]);
});

test("set fires change:<name> with (model, value) per changed key, then one change", () => {
  const model = new ReportModel({ a: 1, b: 1 });
  const events = [];
  model.on("change:a", (m, value) => events.push(["a", value, m === model]));
  model.on("change:b", (m, value) => events.push(["b", value]));
  model.on("change", () => events.push(["change"]));
  model.set({ a: 5, b: 1 });
  assert.deepEqual(events, [["a", 5, true], ["change"]]);
});

test("setting an equal value fires nothing (deep, including bytes)", () => {
  const model = new ReportModel({ list: [1, { x: 2 }], view: new DataView(new Uint8Array([1, 2]).buffer) });
  let count = 0;
  model.on("change", () => (count += 1));
  model.set("list", [1, { x: 2 }]);
  model.set("view", new DataView(new Uint8Array([1, 2]).buffer));
  assert.equal(count, 0);
  model.set("view", new DataView(new Uint8Array([1, 3]).buffer));
  assert.equal(count, 1);
});

test("space-separated names subscribe to several events", () => {
  const model = new ReportModel({});
  const seen = [];
  model.on("change:a change:b", (m, v) => seen.push(v));
  model.set("a", 1);
  model.set("b", 2);
  assert.deepEqual(seen, [1, 2]);
});

test("off removes by name, by callback, by context, or everything", () => {
  const model = new ReportModel({});
  const seen = [];
  const first = () => seen.push("first");
  const second = () => seen.push("second");
  const ctx = Symbol("view");
  model.on("change:a", first);
  model.on("change:a", second, ctx);
  model.off("change:a", first);
  model.set("a", 1);
  assert.deepEqual(seen, ["second"]);
  model.off(null, null, ctx);
  model.set("a", 2);
  assert.deepEqual(seen, ["second"]);
  model.on("change:a", first);
  model.on("msg:custom", first);
  model.off();
  assert.equal(model.listenerCount(), 0);
});

test("a listener removed during dispatch does not break the others", () => {
  const model = new ReportModel({});
  const seen = [];
  const once = () => {
    seen.push("once");
    model.off("change:a", once);
  };
  model.on("change:a", once);
  model.on("change:a", () => seen.push("other"));
  model.set("a", 1);
  model.set("a", 2);
  assert.deepEqual(seen, ["once", "other", "other"]);
});

test("send and save_changes never throw and never block: there is no kernel", () => {
  const model = new ReportModel({});
  model.send({ type: "compute" }, {}, [new DataView(new ArrayBuffer(4))]);
  model.save_changes();
  assert.equal(model.sentMessages.length, 1);
  assert.deepEqual(model.sentMessages[0].content, { type: "compute" });
  assert.equal(model.savedChanges, 1);
});

test("proxy tags listeners with its context so they can be removed together", () => {
  const model = new ReportModel({ a: 0 });
  const ctx = Symbol("view");
  const proxy = model.proxy(ctx);
  let hits = 0;
  proxy.on("change:a", () => (hits += 1));
  proxy.set("a", 1);
  assert.equal(proxy.get("a"), 1);
  assert.equal(hits, 1);
  assert.equal(model.listenerCount(ctx), 1);
  model.off(null, null, ctx);
  proxy.set("a", 2);
  assert.equal(hits, 1);
});

test("sameValue compares structure and bytes", () => {
  assert.ok(sameValue({ a: [1, 2] }, { a: [1, 2] }));
  assert.ok(!sameValue({ a: [1, 2] }, { a: [2, 1] }));
  assert.ok(!sameValue([1], { 0: 1 }));
  assert.ok(sameValue(NaN, NaN));
  assert.ok(!sameValue(new Uint8Array([1]), new Uint8Array([1, 0])));
  assert.ok(sameValue(new Float32Array([1.5]), new DataView(new Float32Array([1.5]).buffer)));
});
