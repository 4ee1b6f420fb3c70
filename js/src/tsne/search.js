// Search over the points' texts and label names. The rules are nbviz.widgets.tsne_search's, so the
// box and `scatter.search()` in Python find exactly the same points:
// - the query is trimmed; an empty query matches nothing (and is no error);
// - "/pattern/" is a case-insensitive regular expression found anywhere in the text; "//" and a
//   pattern that does not compile are errors (shown inline; nothing is highlighted);
// - anything else is a case-insensitive substring (both sides lower-cased);
// - a point matches when its text or its label's name matches.

/** True for "/pattern/" queries (at least the two slashes), after trimming. */
export function isRegex(query) {
  const q = query.trim();
  return q.length >= 2 && q.startsWith("/") && q.endsWith("/");
}

/**
 * The matcher of `query`: { test(text, lowered) -> bool } or null for an empty query, plus an
 * `error` message (and a null matcher) for "//" or an invalid pattern. `lowered` is the text
 * lower-cased once in advance (SearchIndex keeps it), so a keystroke costs one pass.
 */
export function queryMatcher(query) {
  const q = query.trim();
  if (!q) return { matcher: null, error: "" };
  if (isRegex(q)) {
    const pattern = q.slice(1, -1);
    if (!pattern) return { matcher: null, error: "The regular expression // is empty: write a pattern between the slashes, e.g. /^un/" };
    let regex;
    try {
      regex = new RegExp(pattern, "i");
    } catch (error) {
      return { matcher: null, error: `Invalid regular expression /${pattern}/: ${error.message}` };
    }
    return { matcher: { test: (text) => regex.test(text) }, error: "" };
  }
  const needle = q.toLowerCase();
  return { matcher: { test: (text, lowered) => lowered.includes(needle) }, error: "" };
}

/** The searchable strings of a plot: texts (and their lower-cased copies) and label names. */
export class SearchIndex {
  constructor(texts, codes, names, n) {
    this.texts = texts || [];
    this.lowered = this.texts.map((t) => (t ? t.toLowerCase() : ""));
    this.codes = codes;
    this.names = names || [];
    this.loweredNames = this.names.map((t) => t.toLowerCase());
    this.n = n;
  }

  /** { indices: sorted matching point indices, error } for `query` (rules above). */
  search(query) {
    const { matcher, error } = queryMatcher(query);
    if (!matcher) return { indices: [], error };
    const labelHit = this.names.map((name, c) => matcher.test(name, this.loweredNames[c]));
    const anyLabel = labelHit.some(Boolean);
    const indices = [];
    for (let i = 0; i < this.n; i += 1) {
      const text = this.texts[i];
      if ((text && matcher.test(text, this.lowered[i])) || (anyLabel && this.codes && labelHit[this.codes[i]])) indices.push(i);
    }
    return { indices, error: "" };
  }
}
