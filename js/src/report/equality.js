// Value equality for change detection: a `set` that does not change the value fires no event,
// as in Backbone models (which ipywidgets and anywidget use in notebooks).

function bytesOf(value) {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return null;
}

/** Deep structural equality of JSON values, with binary views compared byte by byte. */
export function sameValue(a, b) {
  if (Object.is(a, b)) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  const bytesA = bytesOf(a);
  const bytesB = bytesOf(b);
  if (bytesA || bytesB) {
    if (!bytesA || !bytesB || bytesA.length !== bytesB.length) return false;
    for (let i = 0; i < bytesA.length; i += 1) if (bytesA[i] !== bytesB[i]) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => Object.prototype.hasOwnProperty.call(b, key) && sameValue(a[key], b[key]));
}
