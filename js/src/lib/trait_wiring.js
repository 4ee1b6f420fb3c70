// Model -> view wiring shared by the widgets. A view is a list of parts, each with one updater;
// each synced trait names the parts it affects. A change marks those parts, and the view updates
// only them, once per microtask however many traits changed together (a kernel message that sets
// image_index and target updates the map once, for the pair, not once for a half-changed state).

export class ViewParts {
  /** `updaters`: [[part, fn], ...] in the order a batch runs them (data before what shows it). */
  constructor(updaters) {
    this.updaters = updaters;
    this.names = new Set(updaters.map(([part]) => part));
    if (this.names.size !== updaters.length) throw new Error("each view part needs exactly one updater");
    this.pending = null;
    this.listeners = [];
    this.disposed = false;
  }

  /** Update the parts in `parts` (an iterable of names) now, in updater order. */
  updateNow(parts) {
    const wanted = new Set(parts);
    this.check(wanted, "updateNow");
    for (const [part, update] of this.updaters) if (wanted.has(part)) update();
  }

  /** Update every part now: the first render of a view. */
  updateAll() {
    this.updateNow(this.names);
  }

  /** Update the parts in `parts` at the end of this microtask, together with any others marked. */
  mark(parts) {
    if (this.disposed) return;
    this.check(parts, "mark");
    if (!this.pending) {
      this.pending = new Set();
      queueMicrotask(() => this.flush());
    }
    for (const part of parts) this.pending.add(part);
  }

  /** Run the batch marked so far (ViewParts calls this at the end of the microtask). */
  flush() {
    const parts = this.pending;
    this.pending = null;
    if (parts && !this.disposed) this.updateNow(parts);
  }

  /** On `change:<trait>` of each trait in `effects` ({ trait: [part, ...] }), mark its parts. */
  bindTraits(model, effects) {
    for (const [trait, parts] of Object.entries(effects)) {
      this.check(parts, `trait "${trait}"`);
      const listener = () => this.mark(parts);
      model.on(`change:${trait}`, listener);
      this.listeners.push([model, `change:${trait}`, listener]);
    }
  }

  /** Remove every trait listener and drop a pending update. */
  dispose() {
    this.disposed = true;
    this.pending = null;
    for (const [model, event, listener] of this.listeners) model.off(event, listener);
    this.listeners = [];
  }

  /** Throw, naming `where`, if `parts` names a part that has no updater. */
  check(parts, where) {
    for (const part of parts) {
      if (!this.names.has(part)) throw new Error(`${where} names the view part "${part}", which has no updater`);
    }
  }
}
