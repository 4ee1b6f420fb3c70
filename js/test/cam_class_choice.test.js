// Several classes, a versus class and the sanity strip's data: the pure logic behind the controls.
import { test } from "node:test";
import assert from "node:assert/strict";
import { clickChoice, choiceLabel, parseSpec, targetSpec } from "../src/cam/target_spec.js";
import { parseKey, mapKey } from "../src/cam/keys.js";
import { methodOption, layerOption, versusOptions } from "../src/cam/toolbar.js";
import { decodeStripMap } from "../src/cam/sanity_panel.js";

test("target specs are written as the kernel writes them, and read back", () => {
  assert.equal(targetSpec(281), "281");
  assert.equal(targetSpec(281, [285]), "281+285");
  assert.equal(targetSpec(281, [], 285), "281-285");
  assert.equal(targetSpec(3, [1, 4], 2), "3+1+4-2");
  assert.deepEqual(parseSpec("3+1+4-2"), { target: 3, extra: [1, 4], versus: 2 });
  assert.deepEqual(parseSpec(7), { target: 7, extra: [], versus: null });
  assert.deepEqual(parseKey(mapKey(0, "layer4", "281-285", "gradcam")), { image: 0, layer: "layer4", target: "281-285", method: "gradcam" });
  assert.equal(parseKey(mapKey(0, "layer4", 281, "gradcam")).target, 281);
  assert.equal(choiceLabel(["a", "b", "c", "d"], { target: 1, extra: [2], versus: 3 }), "b + c vs. d");
});

test("a click chooses one class; a modifier-click adds or removes one; versus never equals a chosen class", () => {
  const start = { target: 1, extra: [], versus: 4 };
  assert.deepEqual(clickChoice(start, 2, false), { target: 2, extra: [], versus: 4 });
  assert.deepEqual(clickChoice(start, 4, false), { target: 4, extra: [], versus: null });
  const two = clickChoice(start, 2, true);
  assert.deepEqual(two, { target: 1, extra: [2], versus: 4 });
  assert.deepEqual(clickChoice(two, 3, true), { target: 1, extra: [2, 3], versus: 4 });
  assert.deepEqual(clickChoice(two, 1, true), { target: 2, extra: [], versus: 4 }); // the first removed: the next leads
  assert.deepEqual(clickChoice({ target: 1, extra: [], versus: null }, 1, true), { target: 1, extra: [], versus: null });
  assert.deepEqual(clickChoice(two, 4, true), { target: 1, extra: [2, 4], versus: null });
});

test("menus: failing methods are marked with the paper in the tooltip; fuse reads as what it does", () => {
  const fails = methodOption({ name: "guided-backprop", label: "Guided Backprop", slow: false, sanity: "fail" }, false);
  assert.match(fails.label, /⚠$/);
  assert.match(fails.title, /Adebayo et al\./);
  const passes = methodOption({ name: "scorecam", label: "Score-CAM", slow: true, sanity: "pass" }, true, "~90 s");
  assert.deepEqual(passes, { value: "scorecam", label: "Score-CAM (~90 s)", disabled: true, title: undefined });
  assert.equal(layerOption("fuse", "fuse", false).label, "fuse: 3 deepest grids (max)");
  assert.equal(layerOption("blocks.3", "blocks.3", false).label, "blocks.3");
  const options = versusOptions(["a", "b", "c", "d"], [2, 0, 3], { target: 0, extra: [3], versus: 2 });
  assert.deepEqual(options.map((o) => o.value), ["", "2", "1", "2"]); // chosen classes 0 and 3 are left out
});

test("strip maps decode from uint8 bytes at their offset", () => {
  const bytes = new Uint8Array([0, 255, 51, 102, 10, 20, 30, 40]);
  const view = new DataView(bytes.buffer, 0, 8);
  assert.deepEqual(Array.from(decodeStripMap(view, [2, 2], 1).values), [10 / 255, 20 / 255, 30 / 255, 40 / 255].map(Math.fround));
  assert.deepEqual(Array.from(decodeStripMap(bytes, [1, 4]).values), [0, 1, 0.2, 0.4].map(Math.fround));
  assert.throws(() => decodeStripMap(bytes, [2, 2], 2), /past the 8 bytes/);
});
