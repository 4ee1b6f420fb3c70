// "Compare": every method side by side for the current image, layer and class.
import { h } from "./dom.js";
import { HeatmapCanvas } from "./heatmap_canvas.js";
import { READY, COMPUTING, FAILED, CANCELLED, UNAVAILABLE, MISSING } from "./map_store.js";

const TILE_WIDTH = 124;

export class CompareView {
  /** onPick(method): show that method; onCompute(method): compute a costly method's tile. */
  constructor({ onPick, onCompute }) {
    this.onPick = onPick;
    this.onCompute = onCompute;
    this.el = h("div", { class: "cam-compare", "data-role": "compare", hidden: true });
    this.tiles = new Map(); // method name -> { el, heat, status, canvas }
  }

  ensureTiles(methods) {
    const names = methods.map((m) => m.name).join("|");
    if (names === this.tileNames) return;
    this.tileNames = names;
    this.tiles.clear();
    this.el.replaceChildren();
    // In menu order; a method estimated above the threshold waits for a click (see update).
    for (const method of methods) {
      const canvas = h("canvas");
      const status = h("div", { class: "cam-tile-status" });
      const el = h(
        "div",
        { class: "cam-tile", "data-method": method.name, title: `Show ${method.label}`, onclick: () => this.onPick(method.name) },
        h("div", { class: "cam-tile-label", title: method.label }, method.label),
        h("div", { class: "cam-canvas-wrap" }, canvas),
        status,
      );
      this.tiles.set(method.name, { el, heat: new HeatmapCanvas(canvas, TILE_WIDTH), status });
      this.el.append(el);
    }
  }

  /**
   * Draw every tile: keyFor(method) gives its key, store its map and status, cost(method) the
   * estimate of a map that waits for a click ("~90 s"; "" for maps that start at once).
   */
  update({ methods, photo, keyFor, store, style, selected, cost }) {
    this.ensureTiles(methods);
    for (const method of methods) {
      const tile = this.tiles.get(method.name);
      const key = keyFor(method.name);
      const entry = store.get(key);
      const status = store.status(key);
      tile.el.classList.toggle("cam-selected", method.name === selected);
      tile.el.dataset.state = status.state;
      tile.heat.setPhoto(photo);
      tile.heat.setMap(entry ?? null);
      tile.heat.setStyle(style);
      tile.heat.draw();
      tile.status.classList.toggle("cam-bad", status.state === FAILED);
      tile.status.title = entry?.blank ?? status.message ?? "";
      const estimate = cost(method.name);
      const offer = estimate && (status.state === MISSING || status.state === CANCELLED)
        ? (status.state === CANCELLED ? "Compute again" : "Compute")
        : null;
      // Maps estimated to take long are computed only when asked for. The button is kept while
      // its text stays the same, since every store update redraws the grid and a button
      // replaced between mouse down and mouse up would swallow the click.
      const button = tile.status.querySelector("button");
      if (offer !== null && (button?.textContent !== offer || tile.status.dataset.estimate !== estimate)) {
        tile.status.dataset.estimate = estimate;
        tile.status.replaceChildren(h("span", { class: "cam-estimate", "data-role": "tile-estimate" }, estimate), h("button", {
          class: "cam-tile-compute",
          "data-role": "compute-tile",
          title: `${method.label} takes ${estimate.replace("~", "about ")} here`,
          onclick: (event) => {
            event.stopPropagation();
            this.onCompute(method.name);
          },
        }, offer));
      } else if (offer === null) {
        tile.status.textContent = entry?.blank ? "Blank map (hover: why)" : tileText(status);
      }
    }
  }
}

function tileText(status) {
  switch (status.state) {
    case READY:
      return "";
    case COMPUTING:
      return status.progress ? `Computing… ${Math.round((100 * status.progress.done) / Math.max(1, status.progress.total))}%` : "Computing…";
    case FAILED:
      return status.message;
    case CANCELLED:
      return "Cancelled";
    case UNAVAILABLE:
      return "Not saved in this report";
    default:
      return "Waiting…";
  }
}
