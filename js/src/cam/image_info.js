// Images of a lazy collection (Python `LazyImages`): the kernel sends each one's photo, name,
// probabilities and top classes when a view first asks for it, instead of all of them up front.
import { toFloat32Array } from "../lib/dataview_float32.js";

export class ImageInfo {
  /** `send(content)` posts to the kernel; `offline`: no kernel (a report), so never ask. */
  constructor({ send, offline }) {
    this.send = send;
    this.offline = offline;
    this.entries = new Map(); // index -> { bytes, mime, name, probs, topk }
    this.waiting = new Map(); // index -> { promise, resolve, reject }
    this.listeners = new Set();
  }

  /** The received entry for image `index`, or undefined. */
  get(index) {
    return this.entries.get(index);
  }

  /** A promise of image `index`'s entry, asking the kernel once. */
  fetch(index) {
    if (this.entries.has(index)) return Promise.resolve(this.entries.get(index));
    if (this.offline) return Promise.reject(new Error(`image ${index} is not saved in this report`));
    let wait = this.waiting.get(index);
    if (!wait) {
      wait = {};
      wait.promise = new Promise((resolve, reject) => { wait.resolve = resolve; wait.reject = reject; });
      this.waiting.set(index, wait);
      this.send({ type: "image", index });
    }
    return wait.promise;
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Handle a kernel message; returns true when it was an image reply. */
  receive(content, buffers = []) {
    if (!content || content.type !== "image") return false;
    const index = content.index;
    const entry = {
      bytes: buffers[0], mime: content.mime ?? "image/jpeg", name: content.name ?? `image ${index}`,
      probs: buffers[1] ? toFloat32Array(buffers[1]) : null, topk: content.topk ?? [],
    };
    this.entries.set(index, entry);
    this.waiting.get(index)?.resolve(entry);
    this.waiting.delete(index);
    for (const fn of this.listeners) fn(index);
    return true;
  }

  /** Forget a request the kernel answered with an error, so a later view can ask again. */
  fail(index, message) {
    this.waiting.get(index)?.reject(new Error(message));
    this.waiting.delete(index);
  }
}
