// The receiving end of the kernel's frame stream: keep only the newest frame, draw it once,
// and acknowledge it, so the kernel never has more than its in-flight limit outstanding.

/**
 * A view of type `Type` on a binary buffer (DataView or ArrayBuffer), copied only when its byte
 * offset is not a multiple of the element size (typed arrays require aligned offsets).
 */
function typedView(buffer, Type) {
  if (!buffer) return new Type(0);
  const raw = buffer.buffer ? buffer.buffer : buffer;
  const offset = buffer.byteOffset || 0;
  const length = buffer.byteLength;
  if (offset % Type.BYTES_PER_ELEMENT === 0) return new Type(raw, offset, length / Type.BYTES_PER_ELEMENT);
  return new Type(raw.slice(offset, offset + length));
}

/** A float32 view of a binary buffer (positions, layouts). */
export const asFloat32 = (buffer) => typedView(buffer, Float32Array);

/** A uint16 view of a binary buffer (label codes, keyframes). */
export const asUint16 = (buffer) => typedView(buffer, Uint16Array);

/** A byte view of a binary buffer (thumbnails); never copied. */
export function asUint8(buffer) {
  if (!buffer) return new Uint8Array(0);
  const raw = buffer.buffer ? buffer.buffer : buffer;
  return new Uint8Array(raw, buffer.byteOffset || 0, buffer.byteLength);
}

/**
 * Holds at most one pending frame: `put` replaces an undrawn frame with a newer one (older
 * sequence numbers are dropped), `take` hands the newest out once. Acks are cumulative in the
 * kernel, so acknowledging the newest drawn frame also releases every frame it replaced.
 */
export class FrameInbox {
  constructor() {
    this.pending = null;
    this.lastSeq = 0;
    this.dropped = 0;
  }

  put(frame) {
    if (frame.seq <= this.lastSeq) return false;
    if (this.pending) this.dropped += 1;
    this.pending = frame;
    this.lastSeq = frame.seq;
    return true;
  }

  take() {
    const frame = this.pending;
    this.pending = null;
    return frame;
  }
}

/**
 * Decode keyframe k of a K x N x D uint16 blob (D = bounds.length / 2: 2 or 3):
 * x = min + code / 65535 * (max - min) per axis, bounds = [mins..., maxes...].
 */
export function decodeKeyframe(codes, nPoints, k, bounds, out) {
  const dims = bounds.length / 2;
  const base = k * nPoints * dims;
  const size = nPoints * dims;
  const xy = out && out.length === size ? out : new Float32Array(size);
  for (let c = 0; c < dims; c += 1) {
    const lo = bounds[c];
    const step = (bounds[dims + c] - lo) / 65535;
    for (let i = c; i < size; i += dims) xy[i] = lo + codes[base + i] * step;
  }
  return xy;
}
