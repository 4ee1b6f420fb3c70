// Side-by-side layout of a linked scatter and explorer, each rendered by its own widget code
// through anywidget's host (host.getWidget(ref).render({ el })), in a notebook and in a report.
export const LAYOUT_CSS = `
.nbviz-lens { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; font: 13px/1.4 system-ui, sans-serif; }
.nbviz-lens-scatter { flex: 1 1 460px; min-width: 360px; }
.nbviz-lens-explorer { flex: 1 1 460px; min-width: 360px; }
.nbviz-lens-side { flex: 1 1 100%; }
.nbviz-lens-error { border-left: 3px solid #c43d3d; background: #fff4f4; color: #7a1f1f; padding: 8px 12px; }
`;

export function ensureLayoutStyle(doc = document) {
  if (doc.getElementById("nbviz-lens-style")) return;
  const style = doc.createElement("style");
  style.id = "nbviz-lens-style";
  style.textContent = LAYOUT_CSS;
  doc.head.appendChild(style);
}

/** Make the panes and render both children; resolves to { root, panes }. */
export async function renderPair({ model, el, host, extraCss = "" }) {
  ensureLayoutStyle(el.ownerDocument);
  const doc = el.ownerDocument;
  const pane = (name) => {
    const node = doc.createElement("div");
    node.className = `nbviz-lens-${name}`;
    node.dataset.role = name;
    return node;
  };
  const root = doc.createElement("div");
  root.className = "nbviz-lens";
  const panes = { scatter: pane("scatter"), explorer: pane("explorer"), side: pane("side") };
  root.append(panes.scatter, panes.explorer, panes.side);
  el.replaceChildren(root);
  if (extraCss && !doc.getElementById("nbviz-lens-extra-style")) {
    const style = doc.createElement("style");
    style.id = "nbviz-lens-extra-style";
    style.textContent = extraCss;
    doc.head.appendChild(style);
  }
  if (!host?.getWidget) {
    panes.side.className = "nbviz-lens-error";
    panes.side.textContent = "This front end cannot show widgets inside widgets (it needs anywidget 0.10 or later); display the scatter and the explorer separately: the link still works.";
    return { root, panes };
  }
  for (const name of ["scatter", "explorer"]) {
    const child = await host.getWidget(model.get(name));
    await child.render({ el: panes[name] });
  }
  return { root, panes };
}
