// The 2-D overlay canvas above the WebGL plot: the lasso being drawn, the ring around the hovered
// point, and the focused point's lines to its true neighbours (solid green: also a neighbour in
// the layout; dashed red: not, so the two read apart whatever the label colours). Cleared only when something was drawn on it before.

/** Draw the lasso polygon and the hover ring of `view`; a no-op when both are absent and were. */
export function drawOverlay(view) {
  const lasso = view.lasso && view.lasso.length > 1 ? view.lasso : null;
  const hovered = view.displayed ? view.tooltip.hovered : -1;
  const focus = view.displayed ? view.model.get("focus") : -1;
  const busy = Boolean(lasso) || hovered >= 0 || focus >= 0;
  if (!busy && !view.overlayDirty) return;
  view.overlayDirty = busy;
  const ctx = view.overlay.getContext("2d");
  const ratio = window.devicePixelRatio || 1;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, view.width, view.height);
  if (lasso) {
    ctx.beginPath();
    ctx.moveTo(...lasso[0]);
    for (const p of lasso) ctx.lineTo(...p);
    ctx.closePath();
    ctx.fillStyle = "rgba(47, 111, 222, 0.08)";
    ctx.strokeStyle = "#2f6fde";
    ctx.lineWidth = 1.5;
    ctx.setLineDash([5, 4]);
    ctx.fill();
    ctx.stroke();
    ctx.setLineDash([]);
  }
  if (focus >= 0 && focus < view.n) drawNeighborLines(view, ctx, focus);
  if (hovered >= 0) {
    const [x, y] = view.screenPosition(hovered);
    ctx.beginPath();
    ctx.arc(x, y, Math.max(5, view.pointSize() / 2 + 4), 0, Math.PI * 2);
    ctx.strokeStyle = "#111827";
    ctx.lineWidth = 2;
    ctx.stroke();
  }
}

const KEPT_COLOR = "#1a7f37";
const LOST_COLOR = "#b42318";

/** Lines from the focused point to its true neighbours, a ring on each, and one on the focus. */
function drawNeighborLines(view, ctx, focus) {
  const neighbors = view.model.get("focus_neighbors") || [];
  const inLayout = new Set(view.projector.layoutNeighbors);
  const [fx, fy] = view.screenPosition(focus);
  const ring = Math.max(4, view.pointSize() / 2 + 3);
  ctx.lineWidth = 1.5;
  for (const j of neighbors) {
    if (j < 0 || j >= view.n) continue;
    const [x, y] = view.screenPosition(j);
    const kept = inLayout.has(j);
    ctx.strokeStyle = kept ? KEPT_COLOR : LOST_COLOR;
    ctx.setLineDash(kept ? [] : [5, 3]);
    ctx.beginPath();
    ctx.moveTo(fx, fy);
    ctx.lineTo(x, y);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.beginPath();
    ctx.arc(x, y, ring, 0, Math.PI * 2);
    ctx.stroke();
  }
  ctx.beginPath();
  ctx.arc(fx, fy, ring + 3, 0, Math.PI * 2);
  ctx.strokeStyle = "#111827";
  ctx.lineWidth = 2.5;
  ctx.stroke();
}
