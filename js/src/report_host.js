// Runs the widgets of an offline nbviz report: every bundle and all state are inside the page.
// Exposes window.nbvizReport = { ready, widgets: [{ id, model, dispose }], dispose() }.
import { restoreBuffers } from "./report/buffers.js";
import { ReportChildren } from "./report/children.js";
import { mountWidget, resolveWidgetDefinition } from "./report/lifecycle.js";
import { importModuleFromSource } from "./report/loader.js";
import { ReportModel } from "./report/model.js";
import { addStyle, readReportData, showWidgetError } from "./report/page.js";

/** The widget definition of a report entry, from its bundle (imported once per bundle). */
async function definitionOf(entry, data) {
  const source = data.bundles[entry.bundle];
  if (typeof source !== "string") throw new Error(`the report lacks the bundle "${entry.bundle}"`);
  return resolveWidgetDefinition(await importModuleFromSource(entry.bundle, source));
}

async function startWidget(entry, data, doc, children) {
  const el = doc.querySelector(`[data-nbviz-widget="${entry.id}"]`);
  if (!el) throw new Error(`the page has no element for widget ${entry.id}`);
  const record = { id: entry.id, model: null, dispose: async () => {} };
  try {
    addStyle(doc, entry.css);
    const state = restoreBuffers(entry.state, entry.buffer_paths, entry.buffers);
    record.model = new ReportModel(state, children.widgetManager);
    const definition = await definitionOf(entry, data);
    el.replaceChildren();
    record.dispose = await mountWidget({ definition, model: record.model, el, host: children.host() });
  } catch (error) {
    console.error(`nbviz report: widget ${entry.id} (${entry.bundle}) failed`, error);
    showWidgetError(el, error);
    record.error = String(error?.message ?? error);
  }
  return record;
}

async function start(doc = document) {
  const data = readReportData(doc);
  for (const entry of data.widgets.filter((e) => e.embedded)) addStyle(doc, entry.css);
  const children = new ReportChildren(data.widgets, (entry) => definitionOf(entry, data));
  const shown = data.widgets.filter((entry) => !entry.embedded);
  const widgets = await Promise.all(shown.map((entry) => startWidget(entry, data, doc, children)));
  report.widgets = widgets;
  report.children = children;
  return widgets;
}

const report = {
  widgets: [],
  ready: null,
  async dispose() {
    const widgets = report.widgets;
    report.widgets = [];
    for (const widget of widgets) await widget.dispose();
    await report.children?.dispose();
    report.children = null;
  },
};
report.ready = start();
window.nbvizReport = report;
window.addEventListener("pagehide", (event) => {
  if (!event.persisted) report.dispose();
});
