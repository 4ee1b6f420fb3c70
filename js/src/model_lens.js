// ModelLens front end: the scatter and the explorer (each drawn by its own widget code through
// anywidget's host), linked in `initialize` so clicks work with or without this view; a side panel
// with the colour-by control and the lasso group's mean map. In a report (no kernel) the colour
// switch recolours the scatter here, and a lasso averages the maps the report saved.
import { toFloat32Array } from "./lib/dataview_float32.js";
import { applyColor } from "./lens/color.js";
import { GroupPanel, PANEL_CSS } from "./lens/group_panel.js";
import { renderPair } from "./lens/layout.js";
import { referencedModel, wireLink } from "./lens/link.js";
import { savedGroup } from "./lens/saved_group.js";

const GROUP_TRAITS = ["group_status", "group_done", "group_total", "group_message", "group_indices", "_group_mean", "_group_maps", "_group_shape"];

/** The live group as the kernel computed it, from the lens model's traits. */
function liveGroup(lens) {
  const mean = lens.get("_group_mean");
  return {
    status: lens.get("group_status"), done: lens.get("group_done"), total: lens.get("group_total"),
    message: lens.get("group_message"), indices: lens.get("group_indices") ?? [],
    mean: mean?.byteLength ? toFloat32Array(mean) : null, shape: lens.get("_group_shape") ?? [], maps: lens.get("_group_maps"),
  };
}

export default {
  async initialize({ model }) {
    const [scatter, explorer] = await Promise.all([referencedModel(model, "scatter"), referencedModel(model, "explorer")]);
    const unwire = wireLink({ link: model, scatter, explorer, onSelection: () => {} });
    if (!model.get("_offline") || !scatter) return unwire;
    const recolor = () => applyColor(model, scatter);
    model.on("change:color_by", recolor);
    return () => {
      unwire();
      model.off("change:color_by", recolor);
    };
  },

  async render({ model, el, host }) {
    const { root, panes } = await renderPair({ model, el, host, extraCss: PANEL_CSS });
    if (!host?.getModel) return;
    const [scatter, explorer] = await Promise.all([host.getModel(model.get("scatter")), host.getModel(model.get("explorer"))]);
    const offline = Boolean(model.get("_offline"));
    const panel = new GroupPanel(el.ownerDocument, {
      setColorBy: (value) => { model.set("color_by", value); model.save_changes(); },
      cancel: () => model.send({ type: "cancel_group" }),
      focus: (i) => { scatter.set("focus", i); scatter.save_changes(); },
    }, { hasLabels: Boolean(model.get("_label_codes")?.byteLength), offline });
    panes.side.append(panel.node);
    // A report opens on the selection it was saved with: its group panel shows that group at once.
    let offlineGroup = savedGroup(explorer, offline ? scatter.get("selection") ?? [] : [], model.get("group_limit") ?? 1);
    const lut = () => {
      const luts = explorer.get("_colormaps") ?? {};
      const value = luts[explorer.get("colormap")] ?? Object.values(luts)[0];
      return value ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : null;
    };
    const show = () => panel.show(offline ? offlineGroup : liveGroup(model), {
      thumbnails: scatter.get("thumbnails"), thumbShape: scatter.get("thumbnail_shape"), lut: lut(), texts: scatter.get("texts"),
    });
    const onSelection = () => {
      offlineGroup = savedGroup(explorer, scatter.get("selection") ?? [], model.get("group_limit"));
      show();
    };
    const showColor = () => panel.showColorBy(model.get("color_by"));
    const groupEvents = GROUP_TRAITS.map((name) => `change:${name}`).join(" ");
    if (offline) {
      scatter.on("change:selection", onSelection);
      explorer.on("change:layer change:method", onSelection);
    } else {
      model.on(groupEvents, show);
    }
    explorer.on("change:colormap", show);
    model.on("change:color_by", showColor);
    showColor();
    show();
    if (globalThis.NBVIZ_TEST_HOOKS) root.__nbvizLens = { group: () => (offline ? offlineGroup : liveGroup(model)) };
    return () => {
      scatter.off("change:selection", onSelection);
      explorer.off("change:layer change:method", onSelection);
      explorer.off("change:colormap", show);
      model.off(groupEvents, show);
      model.off("change:color_by", showColor);
    };
  },
};
