// The 3-D view: a point cloud seen through an orbiting perspective camera. Each layout is centred
// and scaled so its longer side spans [-1, 1], rotated by the orbit (yaw about the vertical axis,
// then pitch about the horizontal one) and projected with a perspective divide from a camera
// CAMERA_DISTANCE away. The result is an interleaved N x 2 layout that the 2-D pipeline (renderer,
// zoom, hover, lasso, overlay) draws as it is: one WebGL renderer for both.

/** Camera distance from the cloud's centre, in units of half its longer side. */
export const CAMERA_DISTANCE = 4;
/** Pitch stays inside +-PITCH_LIMIT radians (no flipping over the pole). */
export const PITCH_LIMIT = 1.5;
/** Radians of orbit per pixel of drag. */
export const ORBIT_PER_PX = 0.008;
/** The starting orbit: a little from the side and from above, so depth shows at once. */
export const HOME_ORBIT = Object.freeze({ yaw: 0.6, pitch: 0.35 });

/** Centre and scale of an interleaved x,y,z layout: world = (p - centre) * scale, longer side 2. */
export function normalization3(xyz) {
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < xyz.length; i += 3) {
    for (let c = 0; c < 3; c += 1) {
      const v = xyz[i + c];
      if (v < lo[c]) lo[c] = v;
      if (v > hi[c]) hi[c] = v;
    }
  }
  if (!(hi[0] >= lo[0])) return { centre: [0, 0, 0], scale: 1 };
  const span = Math.max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]);
  return { centre: [0, 1, 2].map((c) => (lo[c] + hi[c]) / 2), scale: span > 0 ? 2 / span : 1 };
}

/** Row-major 3 x 3 rotation R = Rx(pitch) * Ry(yaw). */
export function rotation({ yaw, pitch }) {
  const cy = Math.cos(yaw); const sy = Math.sin(yaw);
  const cp = Math.cos(pitch); const sp = Math.sin(pitch);
  return [cy, 0, sy, sp * sy, cp, -sp * cy, -cp * sy, sp, cp * cy];
}

/**
 * Project an N x 3 layout to N x 2 (written into `out` when it fits): p = R (x - centre) scale,
 * s = D / (D - p_z), screen = (p_x s, p_y s). Points nearer the camera (larger p_z) spread wider.
 * `depth` (a Float32Array of N), when given, receives each p_z.
 */
export function project(xyz, orbit, out, depth) {
  const n = xyz.length / 3;
  const xy = out && out.length === 2 * n ? out : new Float32Array(2 * n);
  const { centre, scale } = normalization3(xyz);
  const r = rotation(orbit);
  const d = CAMERA_DISTANCE;
  for (let i = 0; i < n; i += 1) {
    const x = (xyz[3 * i] - centre[0]) * scale;
    const y = (xyz[3 * i + 1] - centre[1]) * scale;
    const z = (xyz[3 * i + 2] - centre[2]) * scale;
    const px = r[0] * x + r[1] * y + r[2] * z;
    const py = r[3] * x + r[4] * y + r[5] * z;
    const pz = r[6] * x + r[7] * y + r[8] * z;
    const s = d / (d - pz);
    xy[2 * i] = px * s;
    xy[2 * i + 1] = py * s;
    if (depth) depth[i] = pz;
  }
  return xy;
}

/** Depth levels of the back-to-front order: points closer than 1/DEPTH_LEVELS of the cloud's
 * depth range may draw in either order (invisible at any point size). */
export const DEPTH_LEVELS = 4096;

/**
 * Point indices from the farthest (smallest p_z) to the nearest, so that drawing in this order
 * paints near points over far ones (with blending, which a depth buffer would get wrong): a
 * counting sort on DEPTH_LEVELS levels of p_z, O(N). Written into `out` when it fits.
 */
export function backToFront(depth, out) {
  const n = depth.length;
  const order = out && out.length === n ? out : new Uint32Array(n);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i += 1) { if (depth[i] < lo) lo = depth[i]; if (depth[i] > hi) hi = depth[i]; }
  const scale = hi > lo ? (DEPTH_LEVELS - 1) / (hi - lo) : 0;
  const starts = new Uint32Array(DEPTH_LEVELS + 1);
  const level = new Uint16Array(n);
  for (let i = 0; i < n; i += 1) { level[i] = Math.round((depth[i] - lo) * scale); starts[level[i] + 1] += 1; }
  for (let l = 0; l < DEPTH_LEVELS; l += 1) starts[l + 1] += starts[l];
  for (let i = 0; i < n; i += 1) { order[starts[level[i]]] = i; starts[level[i]] += 1; }
  return order;
}

/** The orbit after a drag of (dx, dy) pixels: right turns the cloud right, down tilts it down. */
export function orbitBy(orbit, dx, dy) {
  return {
    yaw: orbit.yaw + dx * ORBIT_PER_PX,
    pitch: Math.max(-PITCH_LIMIT, Math.min(PITCH_LIMIT, orbit.pitch + dy * ORBIT_PER_PX)),
  };
}

/**
 * The 2-D normalisation of projected layouts: fixed, so the picture does not re-fit (and seem to
 * breathe) while it turns. A unit sphere's projection reaches D / sqrt(D^2 - 1) ~ 1.03; the
 * cube's corners (radius sqrt 3) about 1.9, so 0.75 fits nearly everything at zoom 1.
 */
export const PROJECTED_NORM = Object.freeze({ cx: 0, cy: 0, scale: 0.75 });
