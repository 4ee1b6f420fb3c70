import assert from "node:assert/strict";
import test from "node:test";

import { searchKeyAction } from "../src/lib/search_keys.js";

const press = (key, count, active = -1, query = "cat") => searchKeyAction({ key, query, count, active });

test("Enter picks the highlighted match, else the only one, else submits", () => {
  assert.deepEqual(press("Enter", 5, 2), { action: "pick", active: 2 });
  assert.deepEqual(press("Enter", 1), { action: "pick", active: 0 });
  assert.deepEqual(press("Enter", 5), { action: "submit", active: -1 });
  assert.deepEqual(press("Enter", 0), { action: "submit", active: -1 });
  // A highlight left over from a longer list no longer counts.
  assert.deepEqual(press("Enter", 3, 7), { action: "submit", active: -1 });
});

test("arrows move through the list and stop at its ends; up from the first returns to the box", () => {
  assert.deepEqual(press("ArrowDown", 3), { action: "move", active: 0 });
  assert.deepEqual(press("ArrowDown", 3, 0), { action: "move", active: 1 });
  assert.deepEqual(press("ArrowDown", 3, 2), { action: "move", active: 2 });
  assert.deepEqual(press("ArrowUp", 3, 2), { action: "move", active: 1 });
  assert.deepEqual(press("ArrowUp", 3, 0), { action: "move", active: -1 });
  assert.deepEqual(press("ArrowUp", 3), { action: "move", active: -1 });
  assert.deepEqual(press("ArrowDown", 0), { action: null, active: -1 });
});

test("Escape clears a box with text and leaves an empty one to the page", () => {
  assert.deepEqual(press("Escape", 3, 1), { action: "clear", active: -1 });
  assert.deepEqual(press("Escape", 0, -1, ""), { action: null, active: -1 });
});

test("other keys are typing", () => {
  assert.deepEqual(press("a", 3, 1), { action: null, active: 1 });
  assert.deepEqual(press("Tab", 3), { action: null, active: -1 });
});
