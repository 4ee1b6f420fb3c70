// ViewParts: each trait updates only the parts it names, once per microtask per batch, and
// dispose removes every listener. TRAIT_EFFECTS of both widgets name only real parts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ViewParts } from "../src/lib/trait_wiring.js";
import { FakeModel, nextMicrotask } from "./fake_model.js";

function recordingParts(names) {
  const calls = [];
  const parts = new ViewParts(names.map((name) => [name, () => calls.push(name)]));
  return { parts, calls };
}

test("a trait change updates only the parts it affects, after the microtask", async () => {
  const model = new FakeModel({ a: 1, b: 2 });
  const { parts, calls } = recordingParts(["x", "y", "z"]);
  parts.bindTraits(model, { a: ["x"], b: ["y", "z"] });
  model.set("a", 5);
  assert.deepEqual(calls, [], "the update waits for the end of the microtask");
  await nextMicrotask();
  assert.deepEqual(calls, ["x"]);
  model.set("b", 7);
  await nextMicrotask();
  assert.deepEqual(calls, ["x", "y", "z"]);
});

test("traits changed together update each part once, in updater order", async () => {
  const model = new FakeModel();
  const { parts, calls } = recordingParts(["menus", "classes", "map"]);
  parts.bindTraits(model, { image_index: ["map", "menus"], target: ["classes", "map"] });
  model.set("image_index", 3);
  model.set("target", 9);
  await nextMicrotask();
  assert.deepEqual(calls, ["menus", "classes", "map"]);
});

test("dispose removes every listener and drops a pending batch", async () => {
  const model = new FakeModel();
  const { parts, calls } = recordingParts(["x"]);
  parts.bindTraits(model, { a: ["x"], b: ["x"] });
  assert.equal(model.listenerCount(), 2);
  model.set("a", 1);
  parts.dispose();
  await nextMicrotask();
  assert.deepEqual(calls, []);
  assert.equal(model.listenerCount(), 0);
  parts.mark(["x"]);
  await nextMicrotask();
  assert.deepEqual(calls, []);
});

test("a part without an updater is an error naming it", () => {
  const { parts } = recordingParts(["x"]);
  assert.throws(() => parts.bindTraits(new FakeModel(), { a: ["x", "typo"] }), /trait "a" names the view part "typo"/);
  assert.throws(() => parts.mark(["nope"]), /"nope"/);
  assert.throws(() => new ViewParts([["x", () => {}], ["x", () => {}]]), /exactly one updater/);
});

test("updateAll runs every part once in order; updateNow runs at once", () => {
  const { parts, calls } = recordingParts(["a", "b", "c"]);
  parts.updateAll();
  assert.deepEqual(calls, ["a", "b", "c"]);
  parts.updateNow(new Set(["c", "a"]));
  assert.deepEqual(calls, ["a", "b", "c", "a", "c"]);
});
