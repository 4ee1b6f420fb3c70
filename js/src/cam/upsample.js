// Bilinear upsampling of a feature-resolution map, matching torch.nn.functional.interpolate
// (mode="bilinear", align_corners=False): half-pixel centres, source index clamped at 0.

/**
 * Source coordinate and weights for every output index along one axis:
 * s = max((d + 0.5) * inSize / outSize - 0.5, 0), i0 = floor(s), i1 = min(i0 + 1, inSize - 1),
 * w1 = s - i0, w0 = 1 - w1.
 */
export function axisWeights(inSize, outSize) {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let d = 0; d < outSize; d += 1) {
    let s = (d + 0.5) * scale - 0.5;
    if (s < 0) s = 0;
    const lo = Math.floor(s);
    i0[d] = lo;
    i1[d] = lo < inSize - 1 ? lo + 1 : lo;
    w1[d] = s - lo;
  }
  return { i0, i1, w1 };
}

/**
 * Upsample `values` (row-major, inH x inW) to outH x outW:
 * out[y, x] = (1-wy)((1-wx) v[y0,x0] + wx v[y0,x1]) + wy((1-wx) v[y1,x0] + wx v[y1,x1]).
 */
export function upsampleBilinear(values, inH, inW, outH, outW) {
  if (values.length !== inH * inW) {
    throw new RangeError(`map has ${values.length} values, expected ${inH} x ${inW}`);
  }
  const ys = axisWeights(inH, outH);
  const xs = axisWeights(inW, outW);
  const out = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y += 1) {
    const r0 = ys.i0[y] * inW;
    const r1 = ys.i1[y] * inW;
    const wy = ys.w1[y];
    for (let x = 0; x < outW; x += 1) {
      const x0 = xs.i0[x];
      const x1 = xs.i1[x];
      const wx = xs.w1[x];
      const top = values[r0 + x0] + wx * (values[r0 + x1] - values[r0 + x0]);
      const bottom = values[r1 + x0] + wx * (values[r1 + x1] - values[r1 + x0]);
      out[y * outW + x] = top + wy * (bottom - top);
    }
  }
  return out;
}
