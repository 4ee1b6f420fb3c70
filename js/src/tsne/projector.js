// The Embedding-Projector behaviour of the view: search (highlight at once, sync the indices to
// the kernel once typing pauses), zoom to the matches, focus a clicked point and show its true
// neighbours (which the kernel computes in the original space) against its neighbours in the
// layout on screen, and the whole-plot readout of neighbours kept.
import { layoutInDims } from "./cloud.js";
import { worldToScreen } from "./geometry.js";
import { keptCount, layoutNearest } from "./neighbors.js";
import { searchKeyAction } from "../lib/search_keys.js";
import { SearchIndex } from "./search.js";

// Highlight indices go to the kernel this long after the last keystroke (ms): each sync sends them all.
const SEARCH_SYNC_MS = 150;
// While the layout moves, the "kept" count of the focused point is recounted at most this often (ms).
const KEPT_INTERVAL_MS = 200;
// Screen radius around a click within which the nearest point is focused (px, at least).
const CLICK_RADIUS_PX = 8;
// Zooming to the matches leaves this much room around them (fraction of their extent).
const ZOOM_PADDING = 0.15;

export class ProjectorControls {
  /** `view` supplies the model, chrome, labels, the layout on screen and setTrait. */
  constructor(view) {
    this.view = view;
    this.index = null;
    this.syncTimer = 0;
    this.keptTimer = 0;
    this.layoutNeighbors = [];
    this.activeMatch = -1; // the match the arrow keys focused, in index order (-1: none)
  }

  /** Rebuild the search index (texts or labels changed) and rerun the query shown. */
  loadIndex() {
    const { model, labels, n } = this.view;
    this.index = new SearchIndex(model.get("texts") || [], labels.codes, labels.names, n);
  }

  /** The `search_query` trait (set by `scatter.search()`): show it in the box. */
  loadQuery() {
    this.view.chrome.search.setQuery(this.view.model.get("search_query") || "");
    this.showCount();
  }

  /** A keystroke in the search box: highlight the matches now, tell the kernel once typing pauses. */
  search(query) {
    const { indices, error } = this.index.search(query);
    const labels = this.view.labels;
    labels.highlighted = new Set(indices);
    labels.uploadStates();
    this.lastSearch = { query, count: indices.length, error };
    this.activeMatch = -1;
    this.showCount();
    clearTimeout(this.syncTimer);
    this.syncTimer = setTimeout(() => {
      this.syncTimer = 0;
      this.view.model.set("search_query", query);
      this.view.setTrait("highlight", indices);
    }, SEARCH_SYNC_MS);
  }

  /** The count under the box: the error, "N matches", or nothing for an empty box. */
  showCount() {
    const box = this.view.chrome.search;
    const query = box.input.value;
    if (this.lastSearch && this.lastSearch.query === query && this.lastSearch.error) {
      box.setStatus(this.lastSearch.error, true);
      return;
    }
    const count = this.view.labels.highlighted.size;
    box.setStatus(query.trim() || count ? `${count.toLocaleString("en-US")} match${count === 1 ? "" : "es"} · Enter: zoom · ↓↑: step through · Esc: clear` : "", false);
  }

  /**
   * A key in the search box (rules: searchKeyAction). Enter zooms to the matches and focuses the
   * arrow-highlighted or only one; ArrowDown / ArrowUp focus the next / previous match (index
   * order); Escape clears the search. Returns whether the key was handled.
   */
  searchKey(key, query) {
    const matches = [...this.view.labels.highlighted].sort((a, b) => a - b);
    const { action, active } = searchKeyAction({ key, query, count: matches.length, active: this.activeMatch });
    if (action === "submit" || action === "pick") {
      this.zoomToHighlight();
      if (action === "pick") this.setFocus(matches[active]);
    } else if (action === "move") {
      this.activeMatch = active;
      this.setFocus(active >= 0 ? matches[active] : -1);
    } else if (action === "clear") {
      this.view.chrome.search.clear();
      this.search("");
    }
    return action !== null;
  }

  /** Enter in the search box: fit the camera around the highlighted points. */
  zoomToHighlight() {
    const view = this.view;
    const points = [...view.labels.highlighted];
    if (!points.length || !view.displayed) return;
    const { xy, norm } = view.hitLayout();
    let x0 = Infinity; let y0 = Infinity; let x1 = -Infinity; let y1 = -Infinity;
    for (const i of points) {
      const wx = (xy[2 * i] - norm.cx) * norm.scale;
      const wy = (xy[2 * i + 1] - norm.cy) * norm.scale;
      x0 = Math.min(x0, wx); x1 = Math.max(x1, wx); y0 = Math.min(y0, wy); y1 = Math.max(y1, wy);
    }
    const span = Math.max(x1 - x0, y1 - y0) * (1 + 2 * ZOOM_PADDING);
    const k = Math.min(50, Math.max(1, span > 0 ? 2 / span : 8));
    view.camera = { k, tx: -(x0 + x1) / 2, ty: -(y0 + y1) / 2 };
    view.lastCameraMove = performance.now();
    view.requestDraw();
  }

  /** A click on the plot at (sx, sy): focus the nearest visible point there, or clear the focus. */
  click(sx, sy) {
    const i = this.pointAt(sx, sy, CLICK_RADIUS_PX);
    this.setFocus(i);
  }

  /** The visible point drawn nearest to plot position (sx, sy) within `radiusPx` (or the point
   * size), or -1. A linear scan of the layout on screen: one click, any layout, moving or not. */
  pointAt(sx, sy, radiusPx) {
    const view = this.view;
    const { xy, norm } = view.hitLayout();
    if (!xy || xy.length !== view.n * 2) return -1;
    const radius = Math.max(radiusPx, view.pointSize() / 2 + 2);
    let best = -1;
    let bestD2 = radius * radius;
    for (let i = 0; i < view.n; i += 1) {
      if (!view.labels.isVisible(i)) continue;
      const [px, py] = worldToScreen(view.camera, view.width, view.height, (xy[2 * i] - norm.cx) * norm.scale, (xy[2 * i + 1] - norm.cy) * norm.scale);
      const d2 = (px - sx) ** 2 + (py - sy) ** 2;
      if (d2 < bestD2) { bestD2 = d2; best = i; }
    }
    return best;
  }

  /** Focus point i (-1: none) in the kernel, which answers with its true neighbours. */
  setFocus(i) {
    if (i === this.view.model.get("focus")) return;
    this.view.setTrait("focus", i);
    this.loadFocus();
  }

  /** Focus, k, metric or the neighbours changed: recount and redraw the panel and the lines. */
  loadFocus() {
    this.recountKept();
    this.showFocus();
    this.view.drawOverlay();
  }

  /** The layout moved: recount the focused point's kept neighbours, at most every KEPT_INTERVAL_MS. */
  layoutChanged() {
    if (this.view.model.get("focus") < 0 || this.keptTimer) return;
    this.keptTimer = setTimeout(() => {
      this.keptTimer = 0;
      if (!this.view.disposed) this.loadFocus();
    }, KEPT_INTERVAL_MS);
  }

  /** The focused point's k nearest in the layout on screen (against the kernel's true ones). */
  recountKept() {
    const { model, n } = this.view;
    const focus = model.get("focus");
    const { xy, dims } = layoutInDims(this.view);
    const k = (model.get("focus_neighbors") || []).length;
    this.layoutNeighbors = focus >= 0 && k && xy && xy.length === dims * n ? layoutNearest(xy, dims, focus, k) : [];
  }

  /** The neighbour panel: the focused point, its neighbours with distances and the kept count. */
  showFocus() {
    const { model, chrome, offline, n } = this.view;
    const focus = model.get("focus");
    if (focus < 0 || focus >= n) { chrome.focus.show(null); return; }
    const neighbors = model.get("focus_neighbors") || [];
    const distances = model.get("focus_distances") || [];
    const inLayout = new Set(this.layoutNeighbors);
    const kept = keptCount(neighbors, this.layoutNeighbors);
    chrome.focus.show({
      title: this.pointName(focus),
      k: model.get("neighbor_k"),
      maxK: Math.max(1, Math.min(200, n - 1)),
      metric: model.get("neighbor_metric"),
      kept: neighbors.length ? `${kept} of ${neighbors.length} kept in the layout` : "",
      rows: neighbors.map((j, r) => ({
        index: j, text: this.pointName(j), distance: distances[r] === undefined ? "" : distances[r].toPrecision(3),
        keptInLayout: inLayout.has(j),
      })),
      note: neighbors.length ? "" : offline ? "Neighbours need a running Python kernel" : "computing…",
    });
  }

  /** The whole-plot readout from the `kept_share` trait. */
  showKeptShare() {
    const { model, chrome } = this.view;
    const share = model.get("kept_share");
    const sample = model.get("kept_sample");
    chrome.kept.show(share >= 0
      ? `Layout keeps ${(100 * share).toFixed(1)}% of each point's ${model.get("neighbor_k")} true (${model.get("neighbor_metric")}) neighbours (mean over ${sample.toLocaleString("en-US")} points)`
      : "");
  }

  /** A point's text, else its label, else "point i". */
  pointName(i) {
    const text = (this.view.model.get("texts") || [])[i];
    if (text) return text;
    const { codes, names } = this.view.labels;
    return codes ? `${names[codes[i]]} · point ${i}` : `point ${i}`;
  }

  /** Cancel pending timers. */
  dispose() {
    clearTimeout(this.syncTimer);
    clearTimeout(this.keptTimer);
  }
}
