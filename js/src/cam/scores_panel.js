// Faithfulness scores of the map shown: the button that asks the kernel for them and the result
// (pending, error, or deletion / insertion AUCs and ROAD, whose imputation hides the mask's shape).
import { h } from "./dom.js";

const ONLINE_TITLE = "How fast the class score falls (deletion) or rises (insertion) as the most salient pixels are removed or revealed; "
  + "ROAD (Rong et al. 2022) removes pixels by noisy linear imputation, so the model cannot see the removed shape";
const OFFLINE_TITLE = "Scores need a running kernel";

export class ScoresPanel {
  /** `onRequest()`: the user asked for the current map's scores. */
  constructor(onRequest) {
    this.button = h("button", { "data-role": "scores", onclick: onRequest }, "Deletion / insertion / ROAD scores");
    this.text = h("div", { "data-role": "scores-text" });
    this.node = h("div", { class: "cam-scores" }, this.button, this.text);
    this.shown = undefined;
  }

  /** The button's explanation: scores are computed by the kernel, so a report has none. */
  setOffline(offline) {
    this.button.title = offline ? OFFLINE_TITLE : ONLINE_TITLE;
  }

  /**
   * Show `result` (undefined, { pending }, { error }, or { deletion, insertion } with road_morf and
   * road_lerf, or road_error); rebuilt when it changes.
   */
  show(result, disabled) {
    this.button.disabled = disabled;
    if (result === this.shown) return;
    this.shown = result;
    if (!result) {
      this.text.replaceChildren();
    } else if (result.pending) {
      this.text.replaceChildren("Computing scores…");
    } else if (result.error) {
      this.text.replaceChildren(h("span", { style: { color: "var(--cam-error)" } }, result.error));
    } else {
      this.text.replaceChildren(
        h("div", {}, "Deletion AUC ", h("b", {}, result.deletion.toFixed(3)), " (lower is better)"),
        h("div", {}, "Insertion AUC ", h("b", {}, result.insertion.toFixed(3)), " (higher is better)"),
        ...(result.road_error
          ? [h("div", { "data-role": "road-error" }, "ROAD: ", result.road_error)]
          : [
            h("div", { "data-role": "road" }, "ROAD most relevant first ", h("b", {}, result.road_morf.toFixed(3)), " (lower is better)"),
            h("div", {}, "ROAD least relevant first ", h("b", {}, result.road_lerf.toFixed(3)), " (higher is better)"),
          ]),
      );
    }
  }
}
