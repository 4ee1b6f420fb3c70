// The 2-D overlay canvas above the WebGL plot: the lasso being drawn and the ring around the
// hovered point. Cleared only when something was drawn on it before.

/** Draw the lasso polygon and the hover ring of `view`; a no-op when both are absent and were. */
export function drawOverlay(view) {
  const lasso = view.lasso && view.lasso.length > 1 ? view.lasso : null;
  const hovered = view.displayed ? view.tooltip.hovered : -1;
  const busy = Boolean(lasso) || hovered >= 0;
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
  if (hovered >= 0) {
    const [x, y] = view.screenPosition(hovered);
    ctx.beginPath();
    ctx.arc(x, y, Math.max(5, view.pointSize() / 2 + 4), 0, Math.PI * 2);
    ctx.strokeStyle = "#111827";
    ctx.lineWidth = 2;
    ctx.stroke();
  }
}
