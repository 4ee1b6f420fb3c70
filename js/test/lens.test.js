import assert from "node:assert/strict";
import { test } from "node:test";
import { colorMap, meanThumbnail } from "../src/lens/overlay.js";
import { savedGroup } from "../src/lens/saved_group.js";
import { showImage, wireLink } from "../src/lens/link.js";
import { ReportChildren, refId } from "../src/report/children.js";
import { ReportModel } from "../src/report/model.js";
import { FakeModel } from "./fake_model.js";

const bytes = (values) => new DataView(Uint8Array.from(values).buffer);

test("colorMap looks each level up in the LUT and sets the alpha", () => {
  const lut = new Uint8Array(768);
  for (let i = 0; i < 256; i += 1) lut.set([i, 255 - i, 7], 3 * i);
  const rgba = colorMap(Float32Array.from([0, 1, 0.5]), lut, 0.5);
  assert.deepEqual([...rgba], [0, 255, 7, 128, 255, 0, 7, 128, 128, 127, 7, 128]);
});

test("meanThumbnail averages the chosen RGBA thumbnails, rounded", () => {
  const thumbs = Uint8Array.from([10, 20, 30, 255, 11, 21, 31, 255, 200, 200, 200, 255]); // three 1x1
  assert.deepEqual([...meanThumbnail(thumbs, [1, 1], [0, 1])], [11, 21, 31, 255]); // 10.5 -> 11
});

test("savedGroup averages the saved maps of the selected points, at the explorer's choices", () => {
  const explorer = new FakeModel({
    layer: "L", method: "gradcam", _topk: [[3], [4], [5]],
    _precomputed: { "0|L|3|gradcam": bytes([0, 255]), "2|L|5|gradcam": bytes([255, 255]), "1|L|4|other": bytes([9, 9]) },
    _precomputed_shapes: { "0|L|3|gradcam": [1, 2], "2|L|5|gradcam": [1, 2], "1|L|4|other": [1, 2] },
  });
  const group = savedGroup(explorer, [0, 1, 2], 10);
  assert.equal(group.status, "done");
  assert.deepEqual(group.indices, [0, 2]);
  assert.deepEqual([...group.mean], [0.5, 1]);
  assert.deepEqual(group.shape, [1, 2]);
  assert.match(group.message, /2 saved maps among 3 selected \(1 without a saved map\)/);
  assert.deepEqual(savedGroup(explorer, [0, 2], 1).indices, [0]);
  assert.equal(savedGroup(explorer, [1], 10).status, "error");
  assert.equal(savedGroup(explorer, [], 10).status, "idle");
});

test("the link shows the focused image with its listed top class, and unwires cleanly", () => {
  const link = new FakeModel({ selection_mode: "first" });
  const scatter = new FakeModel({ focus: -1, selection: [] });
  const explorer = new FakeModel({ image_index: 0, target: 0, _n_images: 3, _topk: [[1], [7, 2], []] });
  const unwire = wireLink({ link, scatter, explorer });
  scatter.set("focus", 1);
  assert.equal(explorer.get("image_index"), 1);
  assert.equal(explorer.get("target"), 7);
  scatter.set("focus", 2); // unlisted top class: only the image (the kernel picks the class)
  assert.deepEqual([explorer.get("image_index"), explorer.get("target")], [2, 7]);
  scatter.set("selection", [0, 2]);
  assert.deepEqual([explorer.get("image_index"), explorer.get("target")], [0, 1]);
  showImage(explorer, 3); // out of range: nothing
  assert.equal(explorer.get("image_index"), 0);
  unwire();
  assert.equal(scatter.listenerCount(), 0);
});

test("report children: references resolve to models made once, initialized once", async () => {
  const inits = [];
  const definition = { initialize: ({ model }) => { inits.push(model.get("name")); }, render: ({ el, model }) => { el.text = model.get("name"); } };
  const entries = [{ id: "w0" }, { id: "w0.child", embedded: true, state: { name: "kid", data: null }, buffer_paths: [["data"]], buffers: ["AAE="] }];
  const children = new ReportChildren(entries, async () => definition);
  assert.equal(refId("anywidget:w0.child"), "w0.child");
  assert.throws(() => refId("IPY_MODEL_x"), /not a widget reference/);
  const a = await children.widgetManager.get_model("w0.child");
  const b = await children.model("w0.child");
  assert.equal(a, b);
  assert.ok(a instanceof ReportModel);
  assert.deepEqual([...new Uint8Array(a.get("data").buffer)], [0, 1]);
  const el = {};
  await (await children.host().getWidget("anywidget:w0.child")).render({ el });
  assert.equal(el.text, "kid");
  assert.deepEqual(inits, ["kid"]);
  await assert.rejects(children.model("w9"), /no embedded widget "w9"/);
  await children.dispose();
});

test("without a widget manager (marimo) the browser link steps aside for the Python one", async () => {
  const link = new FakeModel({ scatter: "anywidget:abc", selection_mode: "first" });
  const { referencedModel } = await import("../src/lens/link.js");
  assert.equal(await referencedModel(link, "scatter"), null);
  const unwire = wireLink({ link, scatter: null, explorer: null });
  unwire();
});
