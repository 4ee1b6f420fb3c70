// The focused point's neighbours in the layout on screen, and how many of its true neighbours
// (computed by the kernel in the original space) are among them: "7 of 10 kept".

/**
 * Indices of the k nearest other points of point `i` in an interleaved layout `xy` with `dim`
 * coordinates per point (2 or 3), nearest first; ties go to the lower index. One O(N k) pass
 * with a sorted list of the k best so far (k is small: tens).
 */
export function layoutNearest(xy, dim, i, k) {
  const n = xy.length / dim;
  const best = [];
  const dists = [];
  for (let j = 0; j < n; j += 1) {
    if (j === i) continue;
    let d2 = 0;
    for (let c = 0; c < dim; c += 1) {
      const diff = xy[j * dim + c] - xy[i * dim + c];
      d2 += diff * diff;
    }
    if (best.length === k && d2 >= dists[k - 1]) continue;
    let at = best.length === k ? k - 1 : best.length;
    while (at > 0 && dists[at - 1] > d2) {
      best[at] = best[at - 1];
      dists[at] = dists[at - 1];
      at -= 1;
    }
    best[at] = j;
    dists[at] = d2;
  }
  return best;
}

/** How many of `original` (true neighbour indices) are also in `inLayout`. */
export function keptCount(original, inLayout) {
  const layout = new Set(inLayout);
  let kept = 0;
  for (const j of original) if (layout.has(j)) kept += 1;
  return kept;
}
