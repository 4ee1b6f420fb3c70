// Model -> view wiring shared by the widgets: each synced trait names the parts of the view it
// affects; a change marks those parts, and the view updates only them, once per microtask however
// many traits changed together (a kernel message that sets image_index and target updates the map
// once, for the pair, instead of once for a half-changed state).

/**
 * Listen to `change:<trait>` for each trait of `effects` ({ trait: [part, ...] }) and, once per
 * microtask, run the updater of every part the changes marked, in the order of `updaters`
 * ([[part, fn], ...]). Returns `unbind`, which removes every listener and drops a pending update.
 */
export function bindTraits(model, effects, updaters) {
  const known = new Set(updaters.map(([part]) => part));
  for (const [trait, parts] of Object.entries(effects)) {
    for (const part of parts) {
      if (!known.has(part)) throw new Error(`trait "${trait}" names the view part "${part}", which has no updater`);
    }
  }
  let pending = null;
  let bound = true;
  const flush = () => {
    const parts = pending;
    pending = null;
    if (bound && parts) runParts(parts, updaters);
  };
  const listeners = Object.entries(effects).map(([trait, parts]) => {
    const listener = () => {
      if (!pending) {
        pending = new Set();
        queueMicrotask(flush);
      }
      for (const part of parts) pending.add(part);
    };
    model.on(`change:${trait}`, listener);
    return [`change:${trait}`, listener];
  });
  return () => {
    bound = false;
    pending = null;
    for (const [event, listener] of listeners) model.off(event, listener);
  };
}

/** Run the updater of each part in the Set `parts`, in the order of `updaters` ([[part, fn], ...]). */
export function runParts(parts, updaters) {
  for (const [part, update] of updaters) if (parts.has(part)) update();
}

/** Every part of `updaters`, as a Set: for the first full update of a new view. */
export function allParts(updaters) {
  return new Set(updaters.map(([part]) => part));
}
