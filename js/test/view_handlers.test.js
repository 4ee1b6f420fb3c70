// The views' trait handlers: which parts each trait updates (never all of them), and the
// legend's label picking driven through a fake model.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TRAIT_EFFECTS as TSNE_EFFECTS } from "../src/tsne/view.js";
import { TRAIT_EFFECTS as CAM_EFFECTS } from "../src/cam/view.js";
import { LabelsAndSelection } from "../src/tsne/labels.js";
import { ViewParts } from "../src/lib/trait_wiring.js";
import { FakeModel, nextMicrotask } from "./fake_model.js";

const partsOf = (effects) => new Set(Object.values(effects).flat());

function recordingView(effects, model) {
  const calls = [];
  const parts = new ViewParts([...partsOf(effects)].map((name) => [name, () => calls.push(name)]));
  parts.bindTraits(model, effects);
  return calls;
}

test("t-SNE: a slider trait updates its slider only; status never touches the layout", async () => {
  const model = new FakeModel();
  const calls = recordingView(TSNE_EFFECTS, model);
  model.set("perplexity", 40);
  await nextMicrotask();
  assert.deepEqual(calls, ["perplexity"]);
  calls.length = 0;
  model.set("point_size", 3);
  model.set("opacity", 0.5);
  await nextMicrotask();
  assert.deepEqual(calls, ["pointStyle"]);
  calls.length = 0;
  model.set("status", "paused");
  await nextMicrotask();
  assert.deepEqual(new Set(calls), new Set(["transport", "progress", "badge", "draw"]));
});

test("CAM: opacity restyles the map without requesting one; image + target request it once", async () => {
  const model = new FakeModel();
  const calls = recordingView(CAM_EFFECTS, model);
  model.set("opacity", 0.4);
  await nextMicrotask();
  assert.deepEqual(new Set(calls), new Set(["sliders", "style"]));
  calls.length = 0;
  model.set("image_index", 1);
  model.set("target", 7);
  await nextMicrotask();
  assert.equal(calls.filter((part) => part === "map").length, 1);
});

test("no trait updates every part of its view (no redraw-all)", () => {
  for (const effects of [TSNE_EFFECTS, CAM_EFFECTS]) {
    const all = partsOf(effects).size;
    for (const [trait, parts] of Object.entries(effects)) {
      assert.ok(parts.length < all / 2, `${trait} updates ${parts.length} of ${all} parts`);
      assert.equal(new Set(parts).size, parts.length, `${trait} lists a part twice`);
    }
  }
});

test("legend pick: click selects a label's points, again clears; modifier-click adds and removes", () => {
  const model = new FakeModel({ selection: [] });
  const view = { model, n: 6, setSelection: (indices) => model.set("selection", indices) };
  const labels = new LabelsAndSelection(view);
  labels.codes = new Uint16Array([0, 1, 0, 2, 1, 0]);
  const pick = (label, add) => {
    labels.pick(label, add);
    labels.selected = new Set(model.get("selection")); // what loadSelection keeps
  };
  pick(0, false);
  assert.deepEqual(model.get("selection"), [0, 2, 5]);
  pick(1, true);
  assert.deepEqual(model.get("selection"), [0, 1, 2, 4, 5]);
  pick(0, true);
  assert.deepEqual(model.get("selection"), [1, 4]);
  pick(1, false);
  assert.deepEqual(model.get("selection"), []);
});
