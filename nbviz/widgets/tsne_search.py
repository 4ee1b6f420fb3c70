"""Search over the points' texts and label names, with the same rules as the front end's search box.

Rules (js/src/tsne/search.js applies the same ones, so Python and the browser agree exactly):
- the query is trimmed; an empty query matches nothing;
- `/pattern/` is a regular expression, case-insensitive, found anywhere in the text (not anchored);
  `//` (an empty pattern) and a pattern that does not compile are errors;
- anything else is a case-insensitive substring (both sides lower-cased);
- a point matches when its text or the name of its label matches.
Regular expressions use the syntax both Python's `re` and JavaScript understand (classes, groups,
alternation, quantifiers, anchors); dialect-only syntax may match differently on the two sides.
"""
from __future__ import annotations

import re
from typing import Callable, Sequence

import numpy as np


class SearchQueryError(ValueError):
    """A search query that cannot be run (an empty or invalid regular expression)."""


def is_regex(query: str) -> bool:
    """True for `/pattern/` queries (at least the two slashes), after trimming."""
    query = query.strip()
    return len(query) >= 2 and query.startswith("/") and query.endswith("/")


def query_matcher(query: str) -> Callable[[str], bool] | None:
    """A predicate text -> bool for `query`, or None for an empty query (nothing matches).

    Raises SearchQueryError for `//` or a pattern that does not compile, naming the problem.
    """
    query = query.strip()
    if not query:
        return None
    if is_regex(query):
        pattern = query[1:-1]
        if not pattern:
            raise SearchQueryError("the regular expression // is empty: write a pattern between the slashes, e.g. /^un/")
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise SearchQueryError(f"invalid regular expression /{pattern}/: {exc}") from exc
        return lambda text: compiled.search(text) is not None
    needle = query.lower()
    return lambda text: needle in text.lower()


def search_points(query: str, texts: Sequence[str], label_codes: np.ndarray | None,
                  label_names: Sequence[str], n_points: int) -> list[int]:
    """Sorted indices of the points whose text or label name matches `query` (rules above)."""
    matches = query_matcher(query)
    if matches is None:
        return []
    label_hit = [matches(name) for name in label_names]
    hits = []
    for i in range(n_points):
        if i < len(texts) and texts[i] and matches(texts[i]):
            hits.append(i)
        elif label_codes is not None and label_hit and label_hit[int(label_codes[i])]:
            hits.append(i)
    return hits
