// A uniform grid over a static layout for hover look-ups: built in O(N) by counting sort, so
// it is cheap to rebuild whenever the layout settles (and never rebuilt while points move).

export class GridIndex {
  /** Index world positions wx = (x - cx) * scale (same for y) of the interleaved layout `xy`.
   * `depth` (optional, one value per point, larger = nearer the camera) is a 3-D cloud's p_z. */
  constructor(xy, norm, depth = null) {
    const n = xy.length / 2;
    const { cx, cy, scale } = norm;
    const wx = new Float32Array(n);
    const wy = new Float32Array(n);
    let xmin = Infinity; let ymin = Infinity; let xmax = -Infinity; let ymax = -Infinity;
    for (let i = 0; i < n; i += 1) {
      wx[i] = (xy[2 * i] - cx) * scale;
      wy[i] = (xy[2 * i + 1] - cy) * scale;
      if (wx[i] < xmin) xmin = wx[i];
      if (wx[i] > xmax) xmax = wx[i];
      if (wy[i] < ymin) ymin = wy[i];
      if (wy[i] > ymax) ymax = wy[i];
    }
    if (!(xmax >= xmin)) { xmin = -1; xmax = 1; ymin = -1; ymax = 1; }
    // About 4 points per cell on average.
    const side = Math.max(1, Math.round(Math.sqrt(n / 4)));
    this.cols = side;
    this.rows = side;
    this.xmin = xmin;
    this.ymin = ymin;
    this.cellW = (xmax - xmin) / side || 1;
    this.cellH = (ymax - ymin) / side || 1;
    const cellOf = new Int32Array(n);
    const counts = new Int32Array(side * side + 1);
    for (let i = 0; i < n; i += 1) {
      const c = this.cellIndex(wx[i], wy[i]);
      cellOf[i] = c;
      counts[c + 1] += 1;
    }
    for (let c = 0; c < side * side; c += 1) counts[c + 1] += counts[c];
    const order = new Int32Array(n);
    const fill = counts.slice(0, side * side);
    for (let i = 0; i < n; i += 1) order[fill[cellOf[i]]++] = i;
    this.starts = counts;
    this.order = order;
    this.depth = depth && depth.length === n ? depth : null;
    this.wx = wx;
    this.wy = wy;
  }

  cellIndex(x, y) {
    const col = Math.min(this.cols - 1, Math.max(0, Math.floor((x - this.xmin) / this.cellW)));
    const row = Math.min(this.rows - 1, Math.max(0, Math.floor((y - this.ymin) / this.cellH)));
    return row * this.cols + col;
  }

  /**
   * The point under world (x, y): with depth, the nearest to the camera among the points whose
   * disc (world radius `cover`) contains (x, y), as it is the one drawn on top; otherwise (no
   * depth, or no disc there) the point nearest to (x, y) within world distance `radius`. -1: none.
   */
  nearest(x, y, radius, cover = 0) {
    const c0 = Math.max(0, Math.floor((x - radius - this.xmin) / this.cellW));
    const c1 = Math.min(this.cols - 1, Math.floor((x + radius - this.xmin) / this.cellW));
    const r0 = Math.max(0, Math.floor((y - radius - this.ymin) / this.cellH));
    const r1 = Math.min(this.rows - 1, Math.floor((y + radius - this.ymin) / this.cellH));
    const depth = this.depth;
    const cover2 = Math.min(cover, radius) ** 2;
    let best = -1;
    let bestD2 = radius * radius;
    let front = -1;
    for (let row = r0; row <= r1; row += 1) {
      for (let col = c0; col <= c1; col += 1) {
        const cell = row * this.cols + col;
        for (let k = this.starts[cell]; k < this.starts[cell + 1]; k += 1) {
          const i = this.order[k];
          const dx = this.wx[i] - x;
          const dy = this.wy[i] - y;
          const d2 = dx * dx + dy * dy;
          if (d2 <= bestD2) { bestD2 = d2; best = i; }
          if (depth && d2 <= cover2 && (front < 0 || depth[i] > depth[front])) front = i;
        }
      }
    }
    return front >= 0 ? front : best;
  }
}
