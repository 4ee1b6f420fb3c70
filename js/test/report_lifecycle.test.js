import assert from "node:assert/strict";
import { test } from "node:test";
import { mountWidget, resolveWidgetDefinition } from "../src/report/lifecycle.js";
import { ReportModel } from "../src/report/model.js";

function recordingWidget(log) {
  return {
    async initialize({ model }) {
      log.push("initialize");
      model.on("change:count", () => log.push("init saw change"));
      return () => log.push("initialize cleanup");
    },
    render({ model, el, experimental }) {
      log.push(`render ${model.get("count")}`);
      el.text = `count=${model.get("count")}`;
      model.on("change:count", () => {
        el.text = `count=${model.get("count")}`;
      });
      el.invoke = experimental.invoke;
      return () => log.push("render cleanup");
    },
  };
}

test("initialize runs before render, and cleanups run in reverse order on dispose", async () => {
  const log = [];
  const model = new ReportModel({ count: 1 });
  const el = {};
  const dispose = await mountWidget({ definition: recordingWidget(log), model, el });
  assert.deepEqual(log, ["initialize", "render 1"]);
  model.set("count", 2);
  assert.equal(el.text, "count=2");
  assert.deepEqual(log.slice(2), ["init saw change"]);
  await dispose();
  assert.deepEqual(log.slice(3), ["render cleanup", "initialize cleanup"]);
  assert.equal(model.listenerCount(), 0, "listeners added by the widget are removed");
  await dispose();
  assert.equal(log.length, 5, "dispose is idempotent");
});

test("experimental.invoke rejects with a message saying there is no kernel", async () => {
  const el = {};
  await mountWidget({ definition: recordingWidget([]), model: new ReportModel({ count: 0 }), el });
  await assert.rejects(el.invoke("anything"), /no Python kernel/);
});

test("definitions resolve from a default object, a default factory, or named exports", async () => {
  const widget = { render() {} };
  assert.equal(await resolveWidgetDefinition({ default: widget }), widget);
  assert.equal(await resolveWidgetDefinition({ default: async () => widget }), widget);
  const named = { render() {} };
  assert.equal(await resolveWidgetDefinition(named), named);
  await assert.rejects(resolveWidgetDefinition({ default: {} }), /neither render\(\) nor initialize\(\)/);
});

test("a widget with only initialize mounts without rendering", async () => {
  const log = [];
  const dispose = await mountWidget({
    definition: { initialize: () => log.push("init") },
    model: new ReportModel({}),
    el: {},
  });
  await dispose();
  assert.deepEqual(log, ["init"]);
});
