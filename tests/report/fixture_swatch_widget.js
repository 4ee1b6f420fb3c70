// Test-only anywidget ESM used to exercise the report host before (and besides) the real widgets.
// It draws two colour swatches from binary state (a top-level bytes trait and one nested in a
// dict/list), cycles through a palette on click via model.set + change events, and records its
// lifecycle on window so a test can check initialize, render and cleanup.
function rgbAt(view, offset) {
  return `rgb(${view.getUint8(offset)}, ${view.getUint8(offset + 1)}, ${view.getUint8(offset + 2)})`;
}

export default {
  initialize({ model }) {
    window.fixtureLog = window.fixtureLog ?? [];
    window.fixtureLog.push(`initialize offline=${model.get("_offline")}`);
    return () => window.fixtureLog.push("initialize cleanup");
  },
  render({ model, el }) {
    window.fixtureLog.push("render");
    const canvas = document.createElement("canvas");
    canvas.width = 80;
    canvas.height = 40;
    canvas.className = "swatch";
    const button = document.createElement("button");
    button.className = "next";
    button.textContent = "next colour";
    const label = document.createElement("span");
    label.className = "label";
    el.append(canvas, button, label);

    const draw = () => {
      const ctx = canvas.getContext("2d");
      const palette = model.get("palette").items; // list of DataViews (nested buffers)
      const index = model.get("index");
      ctx.fillStyle = rgbAt(model.get("color"), 0);
      ctx.fillRect(0, 0, 40, 40);
      ctx.fillStyle = rgbAt(palette[index], 0);
      ctx.fillRect(40, 0, 40, 40);
      label.textContent = `index ${index} of ${palette.length}, ${model.get("name")}`;
    };
    model.on("change:index", draw);
    button.addEventListener("click", () => {
      model.set("index", (model.get("index") + 1) % model.get("palette").items.length);
      model.save_changes();
      model.send({ type: "clicked" });
    });
    draw();
    return () => window.fixtureLog.push("render cleanup");
  },
};
