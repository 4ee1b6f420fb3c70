// Drawing a thumbnail with a class-activation map over it on a small canvas (the group panel).
// The thumbnail is RGBA bytes (the scatter's hover thumbnails); the map, values in [0, 1] at
// feature resolution, is coloured through a 256-entry RGB lookup table and scaled up smoothly.

/** RGBA bytes of a map coloured through `lut` (768 bytes), alpha = 255 * opacity. */
export function colorMap(values, lut, opacity) {
  const rgba = new Uint8ClampedArray(values.length * 4);
  const alpha = Math.round(255 * opacity);
  for (let i = 0; i < values.length; i += 1) {
    const level = Math.max(0, Math.min(255, Math.round(values[i] * 255)));
    rgba[4 * i] = lut[3 * level];
    rgba[4 * i + 1] = lut[3 * level + 1];
    rgba[4 * i + 2] = lut[3 * level + 2];
    rgba[4 * i + 3] = alpha;
  }
  return rgba;
}

/** The mean of the thumbnails of `indices` (RGBA bytes, h x w x 4 each), rounded. */
export function meanThumbnail(thumbnails, [th, tw], indices) {
  const size = th * tw * 4;
  const sum = new Float64Array(size);
  let count = 0;
  for (const i of indices) {
    if ((i + 1) * size > thumbnails.length) continue;
    for (let j = 0; j < size; j += 1) sum[j] += thumbnails[i * size + j];
    count += 1;
  }
  const out = new Uint8ClampedArray(size);
  for (let j = 0; j < size; j += 1) out[j] = count ? Math.round(sum[j] / count) : 0;
  return out;
}

function layer(doc, rgba, width, height) {
  const canvas = doc.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").putImageData(new ImageData(rgba, width, height), 0, 0);
  return canvas;
}

/** Paint `canvas`: the thumbnail (if any) and the coloured map over it, both stretched to fit. */
export function paintOverlay(canvas, { thumb, thumbShape, map, mapShape, lut, opacity = 0.5 }) {
  const ctx = canvas.getContext("2d");
  const doc = canvas.ownerDocument;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = true;
  if (thumb && thumbShape?.[0]) {
    ctx.drawImage(layer(doc, new Uint8ClampedArray(thumb), thumbShape[1], thumbShape[0]), 0, 0, canvas.width, canvas.height);
  } else {
    ctx.fillStyle = "#222";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  }
  if (map && lut && mapShape?.length === 2) {
    ctx.drawImage(layer(doc, colorMap(map, lut, opacity), mapShape[1], mapShape[0]), 0, 0, canvas.width, canvas.height);
  }
}
