// The front end's record of every map: cached values, requests in flight, progress, errors.
// One store per widget model per page, shared by all of its views. Requests go to the kernel in
// lanes ("main": the map on screen, "compare": the side-by-side grid); each batch names everything
// the lane still wants, so the kernel can drop or cancel what the user moved away from.
import { fromUnitCodes, toFloat32Array } from "../lib/dataview_float32.js";
import { mapKey, parseKey } from "./keys.js";

export const READY = "ready";
export const COMPUTING = "computing";
export const FAILED = "error";
export const CANCELLED = "cancelled";
export const MISSING = "missing";
export const UNAVAILABLE = "unavailable";

export class MapStore {
  /**
   * send(content): posts a message to the kernel. offlineMaps: null when a kernel is listening,
   * else { key: { shape: [h, w], data: DataView } } of the maps saved in a report, one byte per
   * value (nbviz.report.compact.unit_codes), decoded when a map is first shown.
   */
  constructor({ send, client = randomClientId(), capacity = 256, offlineMaps = null }) {
    this.send = send;
    this.client = client;
    this.capacity = capacity;
    this.offlineMaps = offlineMaps;
    this.maps = new Map(); // key -> { shape, values }, in least-recently-used order
    this.inflight = new Map(); // key -> { id, lanes: Set }
    this.progress = new Map(); // key -> { done, total }
    this.failures = new Map(); // key -> { state, message }
    this.scores = new Map(); // key -> { deletion, insertion, road_* } | { error }
    this.listeners = new Set();
    this.counter = 0;
  }

  get offline() {
    return this.offlineMaps !== null;
  }

  /** Subscribe to changes; fn(key) is called after a key's state changed. Returns an unsubscribe. */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(key) {
    for (const fn of this.listeners) fn(key);
  }

  /** The cached map for key ({ shape: [h, w], values: Float32Array, blank: reason | null }) or undefined. */
  get(key) {
    const hit = this.maps.get(key);
    if (hit) {
      this.maps.delete(key);
      this.maps.set(key, hit);
      return hit;
    }
    if (this.offline && this.offlineMaps[key]) {
      const saved = this.offlineMaps[key];
      const entry = { shape: saved.shape, values: fromUnitCodes(saved.data) };
      this.put(key, entry);
      return entry;
    }
    return undefined;
  }

  /** Whether a map can be shown at all (always with a kernel; only if saved in a report). */
  available(key) {
    return !this.offline || Boolean(this.offlineMaps[key]) || this.maps.has(key);
  }

  put(key, entry) {
    this.maps.set(key, entry);
    while (this.maps.size > this.capacity) this.maps.delete(this.maps.keys().next().value);
  }

  /** { state, progress?, message? } for one key. */
  status(key) {
    if (this.maps.has(key) || (this.offline && this.offlineMaps[key])) return { state: READY };
    if (this.offline) return { state: UNAVAILABLE };
    if (this.inflight.has(key)) return { state: COMPUTING, progress: this.progress.get(key) ?? null };
    const failure = this.failures.get(key);
    if (failure) return failure;
    return { state: MISSING };
  }

  nextId() {
    this.counter += 1;
    return `${this.client}-${this.counter}`;
  }

  /**
   * Ask for the maps a lane wants now. Cached keys and keys that failed or were cancelled (until
   * `retry`) are not asked for; keys already in flight keep their id. Sends one batch per call,
   * even an empty one, which tells the kernel the lane wants nothing more.
   */
  request(lane, keys) {
    if (this.offline) return [];
    const batch = [];
    for (const key of new Set(keys)) {
      if (this.maps.has(key) || this.failures.has(key)) continue;
      let job = this.inflight.get(key);
      if (!job) {
        job = { id: this.nextId(), lanes: new Set() };
        this.inflight.set(key, job);
        this.emit(key);
      }
      job.lanes.add(lane);
      batch.push({ id: job.id, ...parseKey(key) });
    }
    // Keys this lane no longer wants stop being in flight for it; the kernel drops or cancels them.
    for (const [key, job] of this.inflight) {
      if (job.lanes.has(lane) && !batch.some((r) => r.id === job.id)) {
        job.lanes.delete(lane);
        if (job.lanes.size === 0) {
          this.inflight.delete(key);
          this.progress.delete(key);
          this.emit(key);
        }
      }
    }
    this.send({ type: "compute", client: this.client, lane, requests: batch });
    return batch;
  }

  /** Forget a failure or cancellation so the next request computes the key again. */
  retry(key) {
    this.failures.delete(key);
    this.emit(key);
  }

  /** Stop computing key (the cancel button); the kernel answers with "cancelled". */
  cancel(key) {
    const job = this.inflight.get(key);
    if (!job) return;
    this.send({ type: "cancel", id: job.id });
  }

  /** Ask for the deletion / insertion scores of a map. */
  requestScores(key) {
    if (this.offline || this.scores.get(key)?.pending) return;
    this.scores.set(key, { pending: true });
    this.send({ type: "scores", id: this.nextId(), ...parseKey(key) });
    this.emit(key);
  }

  /**
   * Handle a kernel message. Replies for keys nobody waits for any more are still cached (they
   * are correct data); whether they are drawn is the view's choice (only the current key is).
   * Returns the key the message was about, or null for messages that are not ours.
   */
  receive(content, buffers = []) {
    if (!content || typeof content !== "object") return null;
    const key = content.key;
    switch (content.type) {
      case "map": {
        // `blank`: why the map is all zeros (the engine's reason), absent for a map that shows something
        this.put(key, { shape: content.shape, values: toFloat32Array(buffers[0]), blank: content.blank ?? null });
        this.inflight.delete(key);
        this.progress.delete(key);
        this.failures.delete(key);
        break;
      }
      case "progress":
        if (!this.inflight.has(key)) return null;
        this.progress.set(key, { done: content.done, total: content.total });
        break;
      case "error":
        this.inflight.delete(key);
        this.progress.delete(key);
        this.failures.set(key, { state: FAILED, message: content.message });
        break;
      case "cancelled": {
        // Only a job this store still waits for counts as cancelled; one the user moved away
        // from is simply forgotten, so coming back to it computes it again.
        const job = this.inflight.get(key);
        this.progress.delete(key);
        if (!job || job.id !== content.id) return null;
        this.inflight.delete(key);
        this.failures.set(key, { state: CANCELLED, message: content.message ?? "Cancelled." });
        break;
      }
      case "dropped":
        if (this.inflight.get(key)?.id === content.id) this.inflight.delete(key);
        this.progress.delete(key);
        break;
      case "scores":
        this.scores.set(key, content.error ? { error: content.error } : {
          deletion: content.deletion, insertion: content.insertion,
          road_morf: content.road_morf, road_lerf: content.road_lerf, road_error: content.road_error,
        });
        break;
      default:
        return null;
    }
    this.emit(key);
    return key;
  }
}

export function randomClientId() {
  return Math.random().toString(36).slice(2, 10);
}

export { mapKey };
