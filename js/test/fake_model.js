// A stand-in for an anywidget model: traits with on/off/get/set/save_changes/send, and change
// events fired the way the widget manager fires them (one per changed trait, synchronously).

export class FakeModel {
  constructor(traits = {}) {
    this.traits = { ...traits };
    this.handlers = new Map();
    this.sent = [];
    this.saves = 0;
  }

  on(event, handler) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(handler);
  }

  off(event, handler) {
    this.handlers.get(event)?.delete(handler);
  }

  get(name) {
    return this.traits[name];
  }

  set(name, value) {
    this.traits[name] = value;
    for (const handler of this.handlers.get(`change:${name}`) ?? []) handler();
  }

  save_changes() {
    this.saves += 1;
  }

  send(content) {
    this.sent.push(content);
  }

  /** Number of handlers still listening (0 after a clean dispose). */
  listenerCount() {
    let count = 0;
    for (const set of this.handlers.values()) count += set.size;
    return count;
  }
}

/** Resolve after the current microtasks (where ViewParts runs a batch). */
export const nextMicrotask = () => new Promise((resolve) => queueMicrotask(resolve));
