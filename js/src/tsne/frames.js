// The stream end of the view: frames arriving from the kernel, their acks, the settled layout
// that ends a run, and drawing the layout (through an image cache for large static layouts).
import { MARGIN } from "./geometry.js";
import { asFloat32, asUint16, decodeKeyframe } from "./streaming.js";

// From this many points a static layout pans and zooms as a cached image, redrawn sharp once the
// camera rests for CAMERA_REST_MS (a full draw of 1M points takes about a second in SwiftShader).
export const IMAGE_CACHE_MIN_POINTS = 150_000;
const CAMERA_REST_MS = 200;
// Live KL points kept beyond the kl_history trait: the oldest half goes when this many pile up.
const LIVE_KL_LIMIT = 2000;
// The view tells the kernel its pixel span this long after it last changed (ms), if it changed by
// more than SPAN_CHANGE (relative): the kernel picks uint16 or float32 frames from it.
const SPAN_REPORT_MS = 250;
const SPAN_CHANGE = 0.01;

/**
 * A frame's N x 2 layout: the float32 buffer as is, or uint16 codes decoded against the frame's
 * bounding box [xmin, ymin, xmax, ymax]: x = min + code / 65535 * (max - min).
 */
export function frameLayout(message, buffer, nPoints) {
  if (!message.bounds) return asFloat32(buffer);
  return decodeKeyframe(asUint16(buffer), nPoints, 0, message.bounds);
}

/** Coordinates a frame's buffer holds: 2-byte codes when it has bounds, else 4-byte floats. */
export function frameValues(message, buffer) {
  return Math.floor(buffer.byteLength / (message.bounds ? 2 : 4));
}

/** Device pixels over which the layout's longer side is drawn now: k * min(w, h) * MARGIN * ratio. */
export function spanPixels(view) {
  return view.camera.k * Math.min(view.width || 0, view.height || 0) * MARGIN * (window.devicePixelRatio || 1);
}

/** Tell the kernel the pixel span once it has settled, when it changed noticeably. */
export function reportSpanSoon(view) {
  if (view.offline) return;
  const span = spanPixels(view);
  const last = view.reportedSpan;
  if (last && Math.abs(span - last) <= SPAN_CHANGE * last) return;
  clearTimeout(view.spanTimer);
  view.spanTimer = setTimeout(() => {
    if (view.disposed) return;
    view.reportedSpan = spanPixels(view);
    view.model.send({ type: "view_span", view: view.viewId, span_px: view.reportedSpan });
  }, SPAN_REPORT_MS);
}

/** A custom message from the kernel: keep a frame for the next draw, or ack a stale one at once. */
export function receiveFrame(view, message, buffers) {
  if (!message || message.type !== "frame" || !buffers || !buffers.length) return;
  view.stats.framesReceived += 1;
  if (frameValues(message, buffers[0]) !== view.n * view.dims) {
    // Sent for another point count (points were just added and the new count has not arrived).
    view.model.send({ type: "ack", seq: message.seq });
    return;
  }
  if (message.bounds) view.stats.quantizedFrames = (view.stats.quantizedFrames || 0) + 1;
  if (!view.inbox.put({ ...message, xy: frameLayout(message, buffers[0], view.n) })) {
    view.model.send({ type: "ack", seq: message.seq });
    return;
  }
  view.requestDraw();
}

/** The settled layout from the `positions` trait (shown when live); frames older than it are dropped. */
export function loadSettledLayout(view) {
  const model = view.model;
  const xy = asFloat32(model.get("positions"));
  if (xy.length !== view.n * view.dims) return;
  view.settled = xy;
  view.latestLive = null;
  const settledSeq = model.get("positions_seq");
  view.inbox.lastSeq = Math.max(view.inbox.lastSeq, settledSeq);
  const pending = view.inbox.pending;
  if (pending && pending.seq <= settledSeq) {
    view.inbox.take();
    model.send({ type: "ack", seq: pending.seq });
  }
  if (view.mode === "live") view.showLayout(xy);
}

/** Take in a streamed frame about to be drawn: its layout, iteration, exaggeration and KL. */
export function drawStreamedFrame(view, frame) {
  view.latestLive = frame.xy;
  view.stats.lastIteration = frame.iteration;
  view.currentExaggeration = frame.exaggeration;
  const hasKl = frame.kl !== null && frame.kl !== undefined;
  if (hasKl) {
    view.liveKl.push([frame.iteration, frame.kl]);
    if (view.liveKl.length > LIVE_KL_LIMIT) view.liveKl.splice(0, LIVE_KL_LIMIT / 2);
  }
  if (view.mode !== "live") return;
  view.showLayout(frame.xy);
  view.sync.liveProgressSoon();
  if (hasKl) view.sync.kl();
}

/** Draw the layout on screen (if any) and count the draw. */
export function drawLayout(view) {
  const renderer = view.renderer;
  if (!renderer || !view.displayed) return;
  const start = performance.now();
  renderer.mix = view.morph.value;
  if (view.n >= IMAGE_CACHE_MIN_POINTS && view.dims === 2 && view.layoutIsStatic()) drawViaCache(view);
  else renderer.draw(view.camera, MARGIN);
  view.stats.draws += 1;
  view.stats.lastDrawMs = performance.now() - start;
}

/** Static large layout: move the cached image while the camera moves, redraw once it rests. */
function drawViaCache(view) {
  const r = view.renderer;
  const camera = view.camera;
  const moving = performance.now() - (view.lastCameraMove || 0) < CAMERA_REST_MS;
  const c = r.cache && r.cache.camera;
  const sameCamera = c && c.k === camera.k && c.tx === camera.tx && c.ty === camera.ty;
  if (!r.cacheValid() || (!moving && !sameCamera)) {
    r.renderCache(camera, MARGIN);
    view.stats.cacheRenders = (view.stats.cacheRenders || 0) + 1;
  }
  r.drawCached(camera, MARGIN);
  if (moving) {
    clearTimeout(view.restTimer);
    view.restTimer = setTimeout(() => view.requestDraw(), CAMERA_REST_MS + 20);
  }
}
