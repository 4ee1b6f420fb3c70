// Layout bounds, the data -> world normalisation, and the camera (world -> screen pixels).
// World coordinates put a layout's longer side on [-1, 1]; the camera zooms (k) and pans (tx, ty)
// in world units; the plot's shorter side shows 2 world units (with a margin) at k = 1.

/** Bounding box [xmin, ymin, xmax, ymax] of an interleaved x,y Float32Array (NaNs skipped). */
export function layoutBounds(xy) {
  let xmin = Infinity; let ymin = Infinity; let xmax = -Infinity; let ymax = -Infinity;
  for (let i = 0; i < xy.length; i += 2) {
    const x = xy[i]; const y = xy[i + 1];
    if (x < xmin) xmin = x;
    if (x > xmax) xmax = x;
    if (y < ymin) ymin = y;
    if (y > ymax) ymax = y;
  }
  if (!(xmax >= xmin)) return [-1, -1, 1, 1];
  return [xmin, ymin, xmax, ymax];
}

/**
 * Normalisation of a layout with `bounds`: world = (p - center) * scale with
 * scale = 2 / max(xmax - xmin, ymax - ymin) (1 when the layout is a single point).
 */
export function normalization(bounds) {
  const [xmin, ymin, xmax, ymax] = bounds;
  const span = Math.max(xmax - xmin, ymax - ymin);
  return { cx: (xmin + xmax) / 2, cy: (ymin + ymax) / 2, scale: span > 0 ? 2 / span : 1 };
}

export const MARGIN = 0.9;

/** Pixels per world unit at zoom k on a width x height plot: k * min(w, h) * MARGIN / 2. */
export function pixelsPerUnit(camera, width, height) {
  return (camera.k * Math.min(width, height) * MARGIN) / 2;
}

/** World -> screen pixels: sx = w/2 + (wx + tx) * ppu, sy = h/2 - (wy + ty) * ppu. */
export function worldToScreen(camera, width, height, wx, wy) {
  const ppu = pixelsPerUnit(camera, width, height);
  return [width / 2 + (wx + camera.tx) * ppu, height / 2 - (wy + camera.ty) * ppu];
}

/** Screen pixels -> world, the inverse of worldToScreen. */
export function screenToWorld(camera, width, height, sx, sy) {
  const ppu = pixelsPerUnit(camera, width, height);
  return [(sx - width / 2) / ppu - camera.tx, (height / 2 - sy) / ppu - camera.ty];
}

/** Zoom by `factor` keeping the world point under screen pixel (sx, sy) fixed. */
export function zoomAt(camera, width, height, sx, sy, factor) {
  const [wx, wy] = screenToWorld(camera, width, height, sx, sy);
  const k = Math.min(2000, Math.max(0.2, camera.k * factor));
  const ppu = (k * Math.min(width, height) * MARGIN) / 2;
  // Solve sx = w/2 + (wx + tx') * ppu for tx' (and likewise ty').
  return { k, tx: (sx - width / 2) / ppu - wx, ty: (height / 2 - sy) / ppu - wy };
}

/** Pan by a screen-pixel delta. */
export function panBy(camera, width, height, dx, dy) {
  const ppu = pixelsPerUnit(camera, width, height);
  return { k: camera.k, tx: camera.tx + dx / ppu, ty: camera.ty - dy / ppu };
}

export const HOME = Object.freeze({ k: 1, tx: 0, ty: 0 });

/** Even-odd ray-casting test: is (x, y) inside the closed polygon [[x, y], ...]? */
export function pointInPolygon(x, y, polygon) {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i, i += 1) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Indices of the points whose world position lies inside `polygon` (world coordinates).
 * `xy` is the data layout, `norm` its normalisation; a bounding-box test runs first.
 */
export function pointsInPolygon(xy, norm, polygon) {
  if (polygon.length < 3) return [];
  let xmin = Infinity; let ymin = Infinity; let xmax = -Infinity; let ymax = -Infinity;
  for (const [x, y] of polygon) {
    xmin = Math.min(xmin, x); xmax = Math.max(xmax, x);
    ymin = Math.min(ymin, y); ymax = Math.max(ymax, y);
  }
  const hits = [];
  const { cx, cy, scale } = norm;
  for (let i = 0, n = xy.length / 2; i < n; i += 1) {
    const wx = (xy[2 * i] - cx) * scale;
    const wy = (xy[2 * i + 1] - cy) * scale;
    if (wx < xmin || wx > xmax || wy < ymin || wy > ymax) continue;
    if (pointInPolygon(wx, wy, polygon)) hits.push(i);
  }
  return hits;
}
