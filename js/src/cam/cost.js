// What a map will cost before it is started: the kernel's estimate in seconds per layer and method
// (`_cost` = { confirm_above_s, seconds: { layer: { method: s } } }, see nbviz.cam.cost). Maps
// estimated above the threshold start only after a click; one click per layer and method.

/** "90 s", "4 min", "1.5 h": a rough duration for a person to decide on ("" for no number). */
export function roundSeconds(seconds) {
  if (!(seconds >= 0)) return "";
  if (seconds < 10) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 100) return `${Math.round(seconds / 5) * 5} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 360) / 10} h`;
}

/** "about 90 s" (the sentence form) and "~90 s" (menus and compare cards, where space is short). */
export const formatSeconds = (seconds) => (seconds >= 0 ? `about ${roundSeconds(seconds)}` : "");
export const shortSeconds = (seconds) => (seconds >= 0 ? `~${roundSeconds(seconds)}` : "");

export class CostGate {
  /** cost(): the `_cost` trait's value (read on every call: it may change). */
  constructor(cost) {
    this.cost = cost;
    this.confirmed = new Set(); // "layer|method" the user chose to compute despite the estimate
  }

  /** Estimated seconds of a map of `method` at `layer`, or null when the kernel gave none. */
  seconds(layer, method) {
    const value = this.cost()?.seconds?.[layer]?.[method];
    return typeof value === "number" ? value : null;
  }

  /** Whether the estimate is above the threshold: such a map is started only on request. */
  isCostly(layer, method) {
    const threshold = this.cost()?.confirm_above_s;
    const seconds = this.seconds(layer, method);
    return seconds !== null && typeof threshold === "number" && seconds > threshold;
  }

  /** A costly map not confirmed yet at this layer: show the estimate and a Compute button first. */
  needsConfirm(layer, method) {
    return this.isCostly(layer, method) && !this.confirmed.has(`${layer}|${method}`);
  }

  /** The user asked for it: maps of this method at this layer start at once from now on. */
  confirm(layer, method) {
    this.confirmed.add(`${layer}|${method}`);
  }

  /** "about 90 s" for a costly map, "" otherwise (the overlay's sentence). */
  label(layer, method) {
    return this.isCostly(layer, method) ? formatSeconds(this.seconds(layer, method)) : "";
  }

  /** "~90 s" for a costly map, "" otherwise (what the method menu and compare cards show). */
  shortLabel(layer, method) {
    return this.isCostly(layer, method) ? shortSeconds(this.seconds(layer, method)) : "";
  }
}
