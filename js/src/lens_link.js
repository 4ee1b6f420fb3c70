// nbviz.link front end: the link itself (initialize: scatter -> explorer, with or without a view)
// and a view showing both widgets side by side.
import { referencedModel, wireLink } from "./lens/link.js";
import { renderPair } from "./lens/layout.js";

export default {
  async initialize({ model }) {
    const [scatter, explorer] = await Promise.all([referencedModel(model, "scatter"), referencedModel(model, "explorer")]);
    return wireLink({ link: model, scatter, explorer });
  },
  async render({ model, el, host }) {
    const { root } = await renderPair({ model, el, host });
    if (globalThis.NBVIZ_TEST_HOOKS) root.dataset.linked = "true";
  },
};
