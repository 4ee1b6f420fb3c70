// The anywidget front-end lifecycle: initialize once per model, render once per view, and run the
// cleanups they return (render's first, then initialize's) when the view goes away.
import { offlineInvoke } from "./model.js";

/** The widget definition from an ES module: default object, default factory, or named exports. */
export async function resolveWidgetDefinition(module) {
  let definition = module.default ?? module;
  if (typeof definition === "function") definition = await definition();
  if (
    !definition ||
    (typeof definition.render !== "function" && typeof definition.initialize !== "function")
  ) {
    throw new Error("the widget bundle exports neither render() nor initialize()");
  }
  return definition;
}

async function runCleanup(cleanup, stage) {
  if (typeof cleanup !== "function") return;
  try {
    await cleanup();
  } catch (error) {
    console.error(`nbviz report: ${stage} cleanup failed`, error);
  }
}

/**
 * Initialize and render `definition` into `el` with `model`; resolves to an async dispose().
 * Listeners the widget added through its model proxies are removed on dispose.
 */
export async function mountWidget({ definition, model, el, host }) {
  const controller = new AbortController();
  const experimental = { invoke: offlineInvoke };
  const initContext = Symbol("initialize");
  const viewContext = Symbol("render");
  const initResult = await definition.initialize?.({
    model: model.proxy(initContext),
    signal: controller.signal,
    experimental,
  });
  let renderCleanup;
  if (typeof definition.render === "function") {
    renderCleanup = await definition.render({
      model: model.proxy(viewContext),
      el,
      host,
      signal: controller.signal,
      experimental,
    });
  }
  let disposed = false;
  return async function dispose() {
    if (disposed) return;
    disposed = true;
    controller.abort();
    model.off(null, null, viewContext);
    await runCleanup(renderCleanup, "render");
    model.off(null, null, initContext);
    await runCleanup(initResult, "initialize");
  };
}
