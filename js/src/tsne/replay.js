// Keyframe replay: which recorded iteration a timeline position shows, how two keyframes blend,
// and the animation that walks the timeline. Positions are fractional keyframe indices: 2.25 is a
// quarter of the way from keyframe 2 to keyframe 3.
import { decodeKeyframe } from "./streaming.js";

/** The animation takes this long for the whole run, whatever the keyframe count (ms). */
export const REPLAY_MIN_MS = 2000;
export const REPLAY_MAX_MS = 8000;
/** ...aiming at this many ms per keyframe inside those bounds. */
export const REPLAY_MS_PER_KEYFRAME = 60;
// Blends closer than this to a keyframe show the keyframe itself (no visible difference).
const BLEND_EPSILON = 1e-3;
// Decoded keyframes kept: the replay walks forwards, so a few neighbours are all it revisits.
const DECODED_CACHE_SIZE = 8;

/** `position` clamped to the timeline [0, count - 1] of `count` keyframes. */
export function clampPosition(position, count) {
  return Math.min(Math.max(count - 1, 0), Math.max(0, position));
}

/**
 * The iteration shown at timeline `position`: linear between the iterations of the two keyframes
 * around it, its[lo] + (its[hi] - its[lo]) * (position - lo), rounded; 0 with no keyframes.
 */
export function replayIteration(iterations, position) {
  if (!iterations.length) return 0;
  const k = clampPosition(position, iterations.length);
  const lo = Math.floor(k);
  const hi = Math.min(iterations.length - 1, lo + 1);
  return Math.round(iterations[lo] + (iterations[hi] - iterations[lo]) * (k - lo));
}

/**
 * Milliseconds per keyframe step so that the whole run of `count` keyframes takes
 * clamp(count * REPLAY_MS_PER_KEYFRAME, REPLAY_MIN_MS, REPLAY_MAX_MS) / (count - 1).
 */
export function msPerKeyframe(count) {
  if (count < 2) throw new Error(`a replay needs at least 2 keyframes, got ${count}`);
  const total = Math.min(REPLAY_MAX_MS, Math.max(REPLAY_MIN_MS, count * REPLAY_MS_PER_KEYFRAME));
  return total / (count - 1);
}

/** out[i] = a[i] + (b[i] - a[i]) * t, the layout a fraction t of the way from a to b. */
export function blendLayouts(a, b, t, out) {
  for (let i = 0; i < a.length; i += 1) out[i] = a[i] + (b[i] - a[i]) * t;
  return out;
}

/** Number of complete keyframes in a K x N x D code blob with K recorded iterations. */
export function keyframeCount(codes, iterations, nPoints, dims = 2) {
  if (!codes || !nPoints) return 0;
  return Math.min(iterations.length, Math.floor(codes.length / (dims * nPoints)));
}

/** The recorded keyframes of one run: their count, iterations and the layout at any position. */
export class KeyframeTrack {
  constructor(codes, iterations, bounds, nPoints, dims = 2) {
    this.codes = codes;
    this.iterations = iterations;
    this.bounds = bounds;
    this.nPoints = nPoints;
    this.count = keyframeCount(codes, iterations, nPoints, dims);
    this.decoded = new Map();
    this.blend = null;
  }

  /** The layout of keyframe k (decoded once, a few kept). */
  keyframe(k) {
    let xy = this.decoded.get(k);
    if (!xy) {
      xy = decodeKeyframe(this.codes, this.nPoints, k, this.bounds[k]);
      if (this.decoded.size >= DECODED_CACHE_SIZE) this.decoded.delete(this.decoded.keys().next().value);
      this.decoded.set(k, xy);
    }
    return xy;
  }

  /** A fresh N x D layout at `position`: a keyframe, or a blend of the two around it. */
  layoutAt(position) {
    const p = clampPosition(position, this.count);
    const lo = Math.floor(p);
    const hi = Math.min(this.count - 1, lo + 1);
    const t = p - lo;
    const a = this.keyframe(lo);
    if (t <= BLEND_EPSILON || hi === lo) return a;
    return blendLayouts(a, this.keyframe(hi), t, new Float32Array(a.length));
  }

  /** The iteration shown at `position`. */
  iterationAt(position) {
    return replayIteration(this.iterations.slice(0, this.count), position);
  }

  /** The iteration of the last keyframe (0 with none). */
  lastIteration() {
    return this.count ? this.iterations[this.count - 1] : 0;
  }
}

/**
 * Walks the timeline from a start position to the end at msPerKeyframe(count), calling
 * `onPosition(position)` once per animation frame and `onEnd()` after the last keyframe.
 * `clock` = { now, request, cancel } (performance.now / requestAnimationFrame by default).
 */
export class ReplayPlayer {
  constructor({ onPosition, onEnd, clock = browserClock() }) {
    this.onPosition = onPosition;
    this.onEnd = onEnd;
    this.clock = clock;
    this.handle = 0;
  }

  /** Whether the animation runs. */
  get playing() { return this.handle !== 0; }

  /** Start at `from` through `count` keyframes; does nothing with fewer than 2. */
  play(from, count) {
    this.stop();
    if (count < 2) return;
    const step = msPerKeyframe(count);
    const startTime = this.clock.now() - from * step;
    const tick = () => {
      const position = (this.clock.now() - startTime) / step;
      this.onPosition(Math.min(position, count - 1));
      if (position >= count - 1) {
        this.handle = 0;
        this.onEnd();
        return;
      }
      this.handle = this.clock.request(tick);
    };
    this.handle = this.clock.request(tick);
  }

  /** Stop the animation where it is. */
  stop() {
    if (this.handle) this.clock.cancel(this.handle);
    this.handle = 0;
  }
}

function browserClock() {
  return {
    now: () => performance.now(),
    request: (fn) => requestAnimationFrame(fn),
    cancel: (handle) => cancelAnimationFrame(handle),
  };
}
