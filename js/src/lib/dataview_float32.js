// Binary trait values and message buffers arrive as DataView (or ArrayBuffer / typed arrays in a
// report host). These helpers turn them into typed arrays without assuming alignment.

/** Bytes of a DataView / ArrayBuffer / typed array as a Uint8Array view (no copy). */
export function asBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`expected binary data (DataView, ArrayBuffer or typed array), got ${typeof value}`);
}

/**
 * Little-endian float32 values of a binary buffer, copied into a fresh aligned Float32Array.
 * The copy matters: a DataView can start at any byte offset, Float32Array views need 4-byte alignment.
 */
export function toFloat32Array(value) {
  const bytes = asBytes(value);
  if (bytes.byteLength % 4 !== 0) {
    throw new RangeError(`a float32 buffer needs a multiple of 4 bytes, got ${bytes.byteLength}`);
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/**
 * Values in [0, 1] stored one byte each (nbviz.report.compact.unit_codes: q = round(255 v)),
 * decoded into a fresh Float32Array as q / 255.
 */
export function fromUnitCodes(value) {
  const bytes = asBytes(value);
  const values = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 1) values[i] = bytes[i] / 255;
  return values;
}
