// The receiving end of the kernel's frame stream: keep only the newest frame, draw it once,
// and acknowledge it, so the kernel never has more than its in-flight limit outstanding.

/** A float32 view of a binary buffer (DataView or ArrayBuffer), copied only when misaligned. */
export function asFloat32(buffer) {
  if (!buffer) return new Float32Array(0);
  const raw = buffer.buffer ? buffer.buffer : buffer;
  const offset = buffer.byteOffset || 0;
  const length = buffer.byteLength;
  if (offset % 4 === 0) return new Float32Array(raw, offset, length / 4);
  return new Float32Array(raw.slice(offset, offset + length));
}

/** As asFloat32, for uint16 (label codes, keyframes). */
export function asUint16(buffer) {
  if (!buffer) return new Uint16Array(0);
  const raw = buffer.buffer ? buffer.buffer : buffer;
  const offset = buffer.byteOffset || 0;
  const length = buffer.byteLength;
  if (offset % 2 === 0) return new Uint16Array(raw, offset, length / 2);
  return new Uint16Array(raw.slice(offset, offset + length));
}

/** As asFloat32, for bytes. */
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

/** Decode keyframe k of a K x N x 2 uint16 blob: x = min + code / 65535 * (max - min). */
export function decodeKeyframe(codes, nPoints, k, bounds, out) {
  const [xmin, ymin, xmax, ymax] = bounds;
  const sx = (xmax - xmin) / 65535;
  const sy = (ymax - ymin) / 65535;
  const base = k * nPoints * 2;
  const xy = out && out.length === nPoints * 2 ? out : new Float32Array(nPoints * 2);
  for (let i = 0; i < nPoints; i += 1) {
    xy[2 * i] = xmin + codes[base + 2 * i] * sx;
    xy[2 * i + 1] = ymin + codes[base + 2 * i + 1] * sy;
  }
  return xy;
}
