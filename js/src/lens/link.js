// The browser half of nbviz.link: the scatter's clicks (`focus`) and lassos (`selection`) choose
// the explorer's image and class. Runs in the link widget's `initialize`, so it works whether or
// not the link is displayed, and in an offline report (whose host resolves the references too).
import { WIDGET_REF_PREFIX } from "../report/children.js";

/** The raw model a widget reference ("anywidget:<id>") names, through the widget manager; null in
 * a front end without one (marimo): the Python half of the link then does the linking alone. */
export function referencedModel(model, trait) {
  const ref = model.get(trait);
  if (typeof ref !== "string" || !ref.startsWith(WIDGET_REF_PREFIX)) {
    return Promise.reject(new Error(`the ${trait} trait holds no widget reference (${JSON.stringify(ref)})`));
  }
  if (typeof model.widget_manager?.get_model !== "function") return Promise.resolve(null);
  return model.widget_manager.get_model(ref.slice(WIDGET_REF_PREFIX.length));
}

/** The explorer's most probable class for image i, when the explorer's state lists it. */
export function topClass(explorer, i) {
  const listed = (explorer.get("_topk") ?? [])[i];
  return listed?.length ? listed[0] : undefined;
}

/** Show image i in the explorer with its most probable class (the kernel fills it in when unlisted). */
export function showImage(explorer, i) {
  if (!(i >= 0) || i >= (explorer.get("_n_images") ?? 0)) return;
  const top = topClass(explorer, i);
  explorer.set("image_index", i);
  if (top !== undefined) explorer.set("target", top);
  explorer.save_changes();
}

/**
 * Wire scatter -> explorer. `onSelection(indices)` replaces the default lasso behaviour (show the
 * first selected image when the link's `selection_mode` is "first"). Returns the unwiring.
 */
export function wireLink({ link, scatter, explorer, onSelection = null }) {
  if (!scatter || !explorer) return () => {};
  const focus = () => showImage(explorer, scatter.get("focus"));
  const selection = () => {
    const indices = scatter.get("selection") ?? [];
    if (onSelection) onSelection(indices);
    else if (indices.length && link.get("selection_mode") === "first") showImage(explorer, indices[0]);
  };
  scatter.on("change:focus", focus);
  scatter.on("change:selection", selection);
  return () => {
    scatter.off("change:focus", focus);
    scatter.off("change:selection", selection);
  };
}
