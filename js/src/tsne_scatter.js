// TSNEScatter front end: a WebGL scatter that animates a t-SNE run streamed from the kernel.
// Test builds (js/build.mjs) also expose an inspection handle on the root element
// (`.nbviz-tsne`.nbviz) that the browser tests and the benchmark read: frame statistics and where
// a point is drawn. Production bundles compile it out.
import { ScatterView } from "./tsne/view.js";

export default {
  render({ model, el }) {
    const view = new ScatterView(model, el);
    if (globalThis.NBVIZ_TEST_HOOKS) {
      view.root.nbviz = {
        stats: () => ({
          ...view.stats, dropped: view.inbox.dropped, mode: view.mode, morph: view.morph.value,
          klPoints: (model.get("kl_history") || []).length,
        }),
        screenPosition: (i) => view.screenPosition(i),
        pointCount: () => view.n,
        layout: () => (view.displayed ? Array.from(view.displayed) : []),
        highlighted: () => [...view.labels.highlighted].sort((a, b) => a - b),
        layoutNeighbors: () => [...view.projector.layoutNeighbors],
        layoutIsStatic: () => view.layoutIsStatic(),
        finish: () => view.renderer && view.renderer.finish(),
        redraw: () => view.drawFrame(),
      };
    }
    return () => view.dispose();
  },
};
