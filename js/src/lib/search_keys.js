// The keyboard of a search box with a list of matches under it (the CAM class search, the t-SNE
// point search): plain values in, the action out, so each rule is unit-tested without a DOM.

/**
 * What `key`, pressed in a search box, does. `count` is the number of matches listed, `active`
 * the highlighted one (-1: none), `query` the box's text. Returns { action, active }:
 * - "pick": choose match `active` (Enter on the highlighted match, or on the only one);
 * - "submit": Enter with several matches and none highlighted (the box's own Enter action);
 * - "move": highlight match `active` (ArrowDown / ArrowUp; up from the first returns to the box, -1);
 * - "clear": empty the box (Escape with text in it);
 * - null: the key is not the search box's (typing, or Escape in an empty box).
 */
export function searchKeyAction({ key, query, count, active }) {
  const current = active >= 0 && active < count ? active : -1;
  switch (key) {
    case "Enter":
      if (current >= 0) return { action: "pick", active: current };
      if (count === 1) return { action: "pick", active: 0 };
      return { action: "submit", active: current };
    case "ArrowDown":
      if (count === 0) return { action: null, active: -1 };
      return { action: "move", active: Math.min(current + 1, count - 1) };
    case "ArrowUp":
      if (count === 0) return { action: null, active: -1 };
      return { action: "move", active: current <= 0 ? -1 : current - 1 };
    case "Escape":
      return query ? { action: "clear", active: -1 } : { action: null, active: current };
    default:
      return { action: null, active: current };
  }
}
