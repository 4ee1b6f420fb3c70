// Binary widget state inside a report: base64 text in the file, DataView in the widget.
// The Python side lifts every bytes value out of the state (leaving null) and records where it
// was as a path of keys/indices, the same layout ipywidgets uses for its buffer_paths.

/** Decode standard base64 (RFC 4648, with padding) into a fresh DataView over its bytes. */
export function base64ToDataView(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return new DataView(bytes.buffer);
}

/**
 * Put each decoded buffer back at its path inside `state` (mutates and returns `state`).
 * path = [key or index, ...]; state[path[0]]...[path[n-1]] = DataView(buffers[i]).
 */
export function restoreBuffers(state, bufferPaths = [], buffers = []) {
  if (bufferPaths.length !== buffers.length) {
    throw new Error(
      `report data is inconsistent: ${bufferPaths.length} buffer paths for ${buffers.length} buffers`,
    );
  }
  bufferPaths.forEach((path, i) => {
    if (!Array.isArray(path) || path.length === 0) {
      throw new Error(`report data has an empty buffer path at position ${i}`);
    }
    let container = state;
    for (const key of path.slice(0, -1)) {
      container = container?.[key];
      if (container === null || typeof container !== "object") {
        throw new Error(`report data has a buffer path that leads nowhere: ${JSON.stringify(path)}`);
      }
    }
    container[path[path.length - 1]] = base64ToDataView(buffers[i]);
  });
  return state;
}
