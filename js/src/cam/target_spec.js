// The classes a map explains, as the kernel writes them in map keys (nbviz/widgets/cam_targets.py):
// "281" one class, "281+285" classes summed, "281-285" one against another, "281+282-285" both.

/** The target spec of `target` with `extra` classes summed and an optional `versus` class (null: none). */
export function targetSpec(target, extra = [], versus = null) {
  const summed = [target, ...(extra ?? [])].join("+");
  return versus === null || versus === undefined ? summed : `${summed}-${versus}`;
}

/** Inverse of targetSpec: "281+282-285" -> { target: 281, extra: [282], versus: 285 }. */
export function parseSpec(spec) {
  const [summed, versus] = String(spec).split("-");
  const [target, ...extra] = summed.split("+").map(Number);
  return { target, extra, versus: versus === undefined ? null : Number(versus) };
}

/** The classes the explorer's traits choose now: { target, extra, versus }. */
export function currentChoice(get) {
  return { target: get("target"), extra: get("extra_targets") ?? [], versus: get("versus") ?? null };
}

/** How a choice reads: "tabby + tiger cat vs. Egyptian cat". */
export function choiceLabel(names, { target, extra = [], versus = null }) {
  const name = (i) => names[i] ?? `class ${i}`;
  const summed = [target, ...extra].map(name).join(" + ");
  return versus === null ? summed : `${summed} vs. ${name(versus)}`;
}

/**
 * The choice after a click on class `i`: a plain click chooses `i` alone (keeping the versus class
 * unless it is `i`); a modifier-click (Ctrl / Cmd / Shift) adds `i` to the chosen classes, or
 * removes it if chosen (the last chosen class stays).
 */
export function clickChoice({ target, extra = [], versus = null }, i, modifier) {
  if (!modifier) return { target: i, extra: [], versus: versus === i ? null : versus };
  const chosen = [target, ...extra];
  if (chosen.includes(i)) {
    if (chosen.length === 1) return { target, extra, versus };
    const rest = chosen.filter((k) => k !== i);
    return { target: rest[0], extra: rest.slice(1), versus };
  }
  return { target, extra: [...extra, i], versus: versus === i ? null : versus };
}
