// Test and measurement hook of a test build (see js/build.mjs): when each map key was painted
// on the main canvas, and a promise for the next paint of a key. Not in production bundles.

export class PaintLog {
  constructor(currentKey) {
    this.paints = [];
    this.painted = null;
    this.waiters = [];
    this.currentKey = currentKey;
  }

  /** Record that `key` was painted at `time` (performance.now()). */
  note(key, time) {
    this.painted = key;
    this.paints.push({ key, time });
    if (this.paints.length > 200) this.paints.shift();
    for (let i = this.waiters.length - 1; i >= 0; i -= 1) {
      if (this.waiters[i].key === key) this.waiters.splice(i, 1)[0].resolve(time);
    }
  }

  /** Resolves with the paint time of `key`: now if it is on screen, else when it is painted. */
  waitForPaint(key) {
    if (this.painted === key) return Promise.resolve(performance.now());
    return new Promise((resolve) => this.waiters.push({ key, resolve }));
  }
}
