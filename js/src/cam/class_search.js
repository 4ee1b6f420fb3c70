// Which classes the class panel lists: the top-k predictions, or every class whose name matches
// the search text, most probable first.

/**
 * Indices of classes whose name contains every word of `query` (case-insensitive), sorted by
 * probability (descending, ties by index), at most `limit`. Returns { indices, total }.
 */
export function searchClasses(names, probs, query, limit = 60) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const hits = [];
  names.forEach((name, i) => {
    const text = String(name).toLowerCase();
    if (words.every((w) => text.includes(w))) hits.push(i);
  });
  const p = (i) => (probs ? probs[i] : 0);
  hits.sort((a, b) => p(b) - p(a) || a - b);
  return { indices: hits.slice(0, limit), total: hits.length };
}
