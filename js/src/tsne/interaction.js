// Pointer interaction on the plot: wheel zoom, drag pan (3-D: orbit), click to focus a point (its neighbours),
// lasso selection (lasso tool or shift-drag), double-click reset, and hover (the view's tooltip).
import { panBy, pointsInPolygon, screenToWorld, zoomAt } from "./geometry.js";
import { setOrbit } from "./cloud.js";
import { orbitBy } from "./orbit.js";

// Wheel deltas per line (deltaMode 1) are ~30x larger steps than per pixel.
const ZOOM_PER_LINE = 0.05;
const ZOOM_PER_PIXEL = 0.0015;

/** Listen to the pointer on `view.plot`; returns a function that removes every listener. */
export function bindPointer(view) {
  const plot = view.plot;
  const local = (event) => {
    const rect = plot.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  };
  const moveCamera = (camera) => {
    view.camera = camera;
    view.lastCameraMove = performance.now();
    view.requestDraw();
  };
  const onWheel = (event) => {
    event.preventDefault();
    const [sx, sy] = local(event);
    const factor = Math.exp(-event.deltaY * (event.deltaMode === 1 ? ZOOM_PER_LINE : ZOOM_PER_PIXEL));
    view.tooltip.hide();
    moveCamera(zoomAt(view.camera, view.width, view.height, sx, sy, factor));
  };
  const onDoubleClick = (event) => { if (event.target === view.canvas) view.resetCamera(); };
  const onDown = (event) => {
    // Only presses on the plot itself: the floating tools and banners handle their own clicks.
    if (event.button !== 0 || (event.target !== view.canvas && event.target !== plot)) return;
    try { plot.setPointerCapture(event.pointerId); } catch (error) { /* synthetic pointer: no capture */ }
    const start = local(event);
    const lasso = view.interaction === "lasso" || event.shiftKey;
    view.drag = { last: start, lasso, moved: false };
    if (lasso) view.lasso = [start];
    else plot.classList.add("dragging");
    view.tooltip.hide();
  };
  const onMove = (event) => {
    const point = local(event);
    const drag = view.drag;
    if (!drag) { view.tooltip.hover(point); return; }
    const [dx, dy] = [point[0] - drag.last[0], point[1] - drag.last[1]];
    if (Math.abs(dx) + Math.abs(dy) > 0) drag.moved = true;
    if (drag.lasso) {
      view.lasso.push(point);
      view.drawOverlay();
    } else if (view.dims === 3) {
      view.lastCameraMove = performance.now();
      setOrbit(view, orbitBy(view.orbit, dx, dy));
    } else {
      moveCamera(panBy(view.camera, view.width, view.height, dx, dy));
    }
    drag.last = point;
  };
  const onEnd = (event) => {
    if (!view.drag) return;
    const { lasso, moved } = view.drag;
    view.drag = null;
    plot.classList.remove("dragging");
    if (lasso) finishLasso(view, moved);
    else if (!moved && event) view.projector.click(...local(event));
    if (event && event.pointerId !== undefined && plot.hasPointerCapture(event.pointerId)) {
      plot.releasePointerCapture(event.pointerId);
    }
  };
  const onLeave = () => { if (!view.drag) view.tooltip.hide(); };
  const listeners = [
    ["wheel", onWheel, { passive: false }], ["dblclick", onDoubleClick], ["pointerdown", onDown],
    ["pointermove", onMove], ["pointerup", onEnd], ["pointercancel", onEnd], ["pointerleave", onLeave],
  ];
  for (const [type, listener, options] of listeners) plot.addEventListener(type, listener, options);
  return () => { for (const [type, listener] of listeners) plot.removeEventListener(type, listener); };
}

/** Select the points inside the drawn lasso (a click without a drag clears the selection). */
function finishLasso(view, moved) {
  const polygon = (view.lasso || []).map(([sx, sy]) => screenToWorld(view.camera, view.width, view.height, sx, sy));
  view.lasso = null;
  if (polygon.length >= 3 && moved) {
    const { xy, norm } = view.hitLayout();
    view.setSelection(pointsInPolygon(xy, norm, polygon));
  } else {
    view.setSelection([]);
  }
  view.drawOverlay();
}
