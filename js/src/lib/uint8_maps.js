// Maps saved compactly in a report: uint8 codes q = round(255 v) of values v in [0, 1], decoded
// to v = q / 255 (at most 1/510 from the saved value). The encoder is nbviz/widgets/map_codec.py.
import { asBytes } from "./dataview_float32.js";

/** Float32Array of q / 255 for each uint8 code of a binary buffer. */
export function decodeUint8Map(value) {
  const codes = asBytes(value);
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i += 1) out[i] = codes[i] / 255;
  return out;
}
