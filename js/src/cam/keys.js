// One map is identified by (image, layer, class, method); the same key format is used in Python.

/** "image|layer|target|method", e.g. "0|layer4|281|gradcam"; target may be a spec ("281-285", target_spec.js). */
export function mapKey(image, layer, target, method) {
  return `${image}|${layer}|${target}|${method}`;
}

/** Inverse of mapKey (layer names never contain "|": they are dotted module paths); a one-class target is a number. */
export function parseKey(key) {
  const [image, layer, target, method] = key.split("|");
  return { image: Number(image), layer, target: /^\d+$/.test(target) ? Number(target) : target, method };
}

/** Dropdown group of a layer: its top-level module, with the block number if there is one. */
export function layerGroup(name) {
  const parts = name.split(".");
  return parts.length > 1 && /^\d+$/.test(parts[1]) ? `${parts[0]}.${parts[1]}` : parts[0];
}
