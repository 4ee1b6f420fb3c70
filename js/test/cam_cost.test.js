import { test } from "node:test";
import assert from "node:assert/strict";
import { CostGate, formatSeconds, shortSeconds } from "../src/cam/cost.js";

test("durations are rounded for a person: seconds, then minutes, then hours", () => {
  assert.equal(formatSeconds(0.2), "about 1 s");
  assert.equal(formatSeconds(4.4), "about 4 s");
  assert.equal(formatSeconds(88), "about 90 s");
  assert.equal(formatSeconds(247), "about 4 min");
  assert.equal(formatSeconds(5400), "about 1.5 h");
  assert.equal(formatSeconds(undefined), "");
  assert.equal(shortSeconds(3200), "~53 min");
});

test("only maps estimated above the threshold wait for a click, once per layer and method", () => {
  let cost = { confirm_above_s: 3, seconds: { layer4: { gradcam: 0.02, ablationcam: 0.04, sscam: 91 }, layer3: { sscam: 2 } } };
  const gate = new CostGate(() => cost);
  assert.equal(gate.needsConfirm("layer4", "gradcam"), false);
  assert.equal(gate.needsConfirm("layer4", "ablationcam"), false); // fast here: starts at once
  assert.equal(gate.needsConfirm("layer4", "sscam"), true);
  assert.equal(gate.label("layer4", "sscam"), "about 90 s");
  assert.equal(gate.shortLabel("layer4", "sscam"), "~90 s");
  assert.equal(gate.label("layer4", "gradcam"), "");
  assert.equal(gate.needsConfirm("layer3", "sscam"), false); // cheap at this layer
  assert.equal(gate.needsConfirm("conv1", "sscam"), false); // no estimate: nothing to ask
  gate.confirm("layer4", "sscam");
  assert.equal(gate.needsConfirm("layer4", "sscam"), false);
  assert.equal(gate.isCostly("layer4", "sscam"), true); // still shown as costly in menus
  cost = {}; // a report has no estimates
  assert.equal(gate.needsConfirm("layer4", "gradcam"), false);
});
