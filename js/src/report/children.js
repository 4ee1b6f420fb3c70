// Child widgets of a report (anywidget composition): entries marked `embedded` have no section of
// their own; a parent reaches them by reference ("anywidget:<entry id>") through the same host API
// anywidget gives a view in a notebook: host.getModel(ref), host.getWidget(ref).render({ el }),
// and model.widget_manager.get_model(id).
import { restoreBuffers } from "./buffers.js";
import { offlineInvoke, ReportModel } from "./model.js";

export const WIDGET_REF_PREFIX = "anywidget:";

/** The entry id a reference names ("anywidget:w0.scatter" -> "w0.scatter"). */
export function refId(ref) {
  if (typeof ref !== "string" || !ref.startsWith(WIDGET_REF_PREFIX)) {
    throw new Error(`not a widget reference: ${JSON.stringify(ref)}`);
  }
  return ref.slice(WIDGET_REF_PREFIX.length);
}

/**
 * The report's child widgets, each made once on first use: model from its saved state, bundle
 * imported, `initialize` run. `load(entry)` resolves to the widget definition of an entry.
 */
export class ReportChildren {
  constructor(entries, load) {
    this.entries = new Map(entries.filter((e) => e.embedded).map((e) => [e.id, e]));
    this.load = load;
    this.children = new Map(); // id -> Promise<{ model, definition }>
    this.cleanups = [];
    this.widgetManager = { get_model: (id) => this.model(id) };
  }

  /** The child entry `id` as { model, definition }, initialized once. */
  child(id) {
    if (!this.children.has(id)) {
      const entry = this.entries.get(id);
      if (!entry) return Promise.reject(new Error(`the report has no embedded widget ${JSON.stringify(id)}`));
      this.children.set(id, (async () => {
        const model = new ReportModel(restoreBuffers(entry.state, entry.buffer_paths, entry.buffers), this.widgetManager);
        const definition = await this.load(entry);
        const context = Symbol(`initialize ${id}`);
        const cleanup = await definition.initialize?.({ model: model.proxy(context), experimental: { invoke: offlineInvoke } });
        this.cleanups.push(async () => {
          model.off(null, null, context);
          if (typeof cleanup === "function") await cleanup();
        });
        return { model, definition };
      })());
    }
    return this.children.get(id);
  }

  /** The raw model of child `id` (what widget_manager.get_model gives). */
  async model(id) {
    return (await this.child(id)).model;
  }

  /** The host object a view's render receives. */
  host() {
    return {
      getModel: async (ref) => {
        const { model } = await this.child(refId(ref));
        return model.proxy(Symbol("host.getModel"));
      },
      getWidget: async (ref) => {
        const { model, definition } = await this.child(refId(ref));
        return {
          exports: {},
          render: async ({ el }) => {
            const context = Symbol("host.getWidget");
            const cleanup = await definition.render?.({
              model: model.proxy(context), el, host: this.host(), experimental: { invoke: offlineInvoke },
            });
            this.cleanups.push(async () => {
              model.off(null, null, context);
              if (typeof cleanup === "function") await cleanup();
            });
          },
        };
      },
    };
  }

  async dispose() {
    const cleanups = this.cleanups.splice(0).reverse();
    for (const cleanup of cleanups) {
      try {
        await cleanup();
      } catch (error) {
        console.error("nbviz report: child widget cleanup failed", error);
      }
    }
  }
}
