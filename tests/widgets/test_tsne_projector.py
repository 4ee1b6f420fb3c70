"""TSNEScatter's projector tools in the kernel: search (the same answers as the browser's search
module, run in node), highlight / focus checks, true neighbours, the kept readout, colour by number."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import traitlets

from nbviz.tsne import TSNEError
from nbviz.widgets.tsne_projector import encode_color
from nbviz.widgets.tsne_search import SearchQueryError, search_points

REPO = Path(__file__).resolve().parents[2]
TEXTS = ["Paris", "##ing", "parisian", "42", "un", "running", "", "Ünïcode", "a/b", "[CLS]"]
CODES = np.array([0, 1, 0, 2, 1, 1, 2, 0, 1, 1], dtype="<u2")
NAMES = ["city", "piece", "number"]
QUERIES = ["paris", "  PARIS ", "ing", "numb", "ünï", "", "   ", "/^p/", "/^##|^\\d+$/", "/IN/", "/",
           "a/b", "/\\[cls\\]/", "[cls]", "/^$/", "/(un|ci)/", "zzz", "/x*/"]


def js_search(texts: list[str], codes: list[int] | None, names: list[str], queries: list[str]) -> list[dict]:
    """Run js/src/tsne/search.js in node on the same inputs: [{indices, error}, ...] per query."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (it runs the JS unit tests too)")
    script = (
        f"import {{ SearchIndex }} from {json.dumps((REPO / 'js/src/tsne/search.js').as_uri())};\n"
        "let input = ''; process.stdin.on('data', (c) => { input += c; });\n"
        "process.stdin.on('end', () => { const a = JSON.parse(input);\n"
        "  const index = new SearchIndex(a.texts, a.codes ? Uint16Array.from(a.codes) : null, a.names, a.texts.length);\n"
        "  process.stdout.write(JSON.stringify(a.queries.map((q) => index.search(q)))); });\n"
    )
    payload = json.dumps({"texts": texts, "codes": codes, "names": names, "queries": queries})
    done = subprocess.run([node, "--input-type=module", "-e", script], input=payload, capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def python_search(texts, codes, names, query) -> dict:
    try:
        return {"indices": search_points(query, texts, codes, names, len(texts)), "error": ""}
    except SearchQueryError as exc:
        return {"indices": [], "error": str(exc)}


def test_python_and_browser_search_agree_on_hand_made_cases():
    js = js_search(TEXTS, CODES.tolist(), NAMES, QUERIES)
    for query, browser in zip(QUERIES, js):
        kernel = python_search(TEXTS, CODES, NAMES, query)
        assert kernel["indices"] == browser["indices"], query
        assert bool(kernel["error"]) == bool(browser["error"]), query
    by_query = {q: python_search(TEXTS, CODES, NAMES, q)["indices"] for q in QUERIES}
    assert by_query["paris"] == [0, 2] and by_query["  PARIS "] == [0, 2]
    assert by_query["numb"] == [3, 6], "label names are searched too"
    assert by_query["/^p/"] == [0, 1, 2, 4, 5, 8, 9], "'piece' is a label name starting with p"
    assert by_query["a/b"] == [8] and by_query["/"] == [8]
    assert by_query[""] == [] and by_query["   "] == []
    assert by_query["/^$/"] == [], "an empty text is no match (points without text match by label only)"


def test_python_and_browser_search_agree_on_the_minilm_vocabulary():
    """30,522 real WordPiece tokens (subwords, accents, CJK, punctuation): identical index lists."""
    from nbviz.data import text_embeddings

    _, tokens = text_embeddings()
    queries = ["##ing", "the", "/^[0-9]+$/", "/^##/", "/^\\[unused1\\d\\]$/", "É", "/é|ü/", "/^.$/", "!", "/(/", "//"]
    js = js_search(tokens, None, [], queries)
    for query, browser in zip(queries, js):
        kernel = python_search(tokens, None, [], query)
        assert kernel["indices"] == browser["indices"], query
        assert bool(kernel["error"]) == bool(browser["error"]), query
    assert len(python_search(tokens, None, [], "/^##/")["indices"]) > 5000


@pytest.fixture
def digits_scatter(tsne_digits_small):
    """A TSNEScatter of 240 digits (labels = the digit, texts "digit <d>"), not started; closed after."""
    from nbviz import TSNEScatter

    X, y = tsne_digits_small
    w = TSNEScatter(X, labels=y, texts=[f"digit {v}" for v in y], autostart=False, random_state=0, n_iter=60)
    yield w, X, y
    w.close()


def test_invalid_and_empty_regex_raise_and_keep_the_highlight(digits_scatter):
    w, _, y = digits_scatter
    hits = w.search("DIGIT 7")
    assert hits == [i for i, v in enumerate(y) if v == 7] and w.highlight == hits
    assert w.search("/^digit [12]$/") == [i for i, v in enumerate(y) if v in (1, 2)]
    kept = list(w.highlight)
    with pytest.raises(SearchQueryError, match=r"invalid regular expression /\(/"):
        w.search("/(/")
    with pytest.raises(SearchQueryError, match="is empty"):
        w.search("//")
    assert w.highlight == kept
    assert w.search("") == [] and w.highlight == []
    # Label names are searched: labels are the digit values, so "/^3$/" finds the 3s.
    assert w.search("/^3$/") == [i for i, v in enumerate(y) if v == 3]


def test_trait_checks_reject_bad_values_and_keep_the_old_one(digits_scatter):
    w, _, _ = digits_scatter
    w.highlight = [5, 3, 3]
    assert w.highlight == [3, 5]
    with pytest.raises(traitlets.TraitError, match=r"highlight holds point indices outside 0..239 \(e.g. 240\)"):
        w.highlight = [1, 240]
    with pytest.raises(traitlets.TraitError, match="outside"):
        w.highlight = [-1]
    assert w.highlight == [3, 5]
    with pytest.raises(traitlets.TraitError, match=r"focus must be a point index in 0..239 or -1"):
        w.focus = 240
    with pytest.raises(traitlets.TraitError, match="neighbor_k must be in 1..239"):
        w.neighbor_k = 240
    with pytest.raises(traitlets.TraitError, match="neighbor_metric must be 'euclidean' or 'cosine'"):
        w.neighbor_metric = "l1"
    with pytest.raises(traitlets.TraitError, match="hidden_labels holds point indices outside 0..9"):
        w.hidden_labels = [10]
    with pytest.raises(traitlets.TraitError, match="unknown colormap 'nope'"):
        w.colormap = "nope"
    with pytest.raises(TSNEError, match="k=240"):
        w.neighbors_of(0, k=240)
    with pytest.raises(TSNEError, match="unknown metric 'l1'"):
        w.neighbors_of(0, metric="l1")


def test_focus_publishes_the_exact_neighbours_and_k_and_metric_follow(digits_scatter):
    w, X, _ = digits_scatter
    X64 = X.astype(np.float64)
    w.focus = 11
    d = np.sqrt(((X64 - X64[11]) ** 2).sum(axis=1))
    d[11] = np.inf
    assert len(w.focus_neighbors) == 10
    np.testing.assert_allclose(w.focus_distances, np.sort(d)[:10], rtol=1e-6)
    assert np.all(d[w.focus_neighbors] <= np.sort(d)[9] * (1 + 1e-6))
    w.neighbor_metric = "cosine"
    U = X64 / np.linalg.norm(X64, axis=1, keepdims=True)
    c = 1 - U @ U[11]
    c[11] = np.inf
    np.testing.assert_allclose(w.focus_distances, np.sort(c)[:10], atol=1e-6)
    w.neighbor_k = 4
    assert len(w.focus_neighbors) == 4
    w.focus = -1
    assert w.focus_neighbors == [] and w.focus_distances == []


def test_kept_share_readout_matches_a_direct_count(digits_scatter):
    """N <= the sample: every point counts; the readout equals the mean overlap computed here."""
    w, X, _ = digits_scatter
    w.start()
    assert w.wait(timeout=120)
    layout = w.embedding.astype(np.float64)
    X64 = X.astype(np.float64)
    total, tied = 0.0, 0
    for i in range(len(X)):
        dx = ((X64 - X64[i]) ** 2).sum(axis=1); dx[i] = np.inf
        dl = ((layout - layout[i]) ** 2).sum(axis=1); dl[i] = np.inf
        total += len(set(np.argsort(dx, kind="stable")[:10]) & set(np.argsort(dl, kind="stable")[:10])) / 10
        # Integer pixels: the 10th and 11th true distances can tie exactly, and then either
        # point is a correct 10th neighbour (the count of that point may differ by 0.1).
        tied += np.sort(dx)[9] == np.sort(dx)[10]
    assert w.kept_sample == len(X)
    assert w.kept_share == pytest.approx(total / len(X), abs=0.1 * tied / len(X) + 1e-12)
    assert 0.2 < w.kept_share < 1.0


def test_color_by_number_is_encoded_with_its_range_and_bad_colors_are_refused():
    raw, span = encode_color([3, np.nan, -1.5, np.inf], 4)
    values = np.frombuffer(raw, dtype="<f4")
    assert span == [-1.5, 3.0]
    assert values[0] == 3 and np.isnan(values[1]) and np.isnan(values[3])
    with pytest.raises(ValueError, match="color has 3 values for 4 points"):
        encode_color([1, 2, 3], 4)
    with pytest.raises(ValueError, match="for categories pass labels= instead"):
        encode_color(["a", "b"], 2)
    with pytest.raises(ValueError, match="no finite value"):
        encode_color([np.nan, np.nan], 2)


def test_the_readout_stays_off_above_its_budget_and_neighbors_kept_still_answers(tsne_digits_small, monkeypatch):
    from nbviz import TSNEScatter
    from nbviz.widgets import tsne_projector

    monkeypatch.setattr(tsne_projector, "KEPT_BUDGET", 1.0)
    X, _ = tsne_digits_small
    w = TSNEScatter(X, autostart=False, random_state=0, n_iter=20)
    try:
        assert w.kept_share == -1.0
        assert 0.0 < w.neighbors_kept(k=10) < 1.0
    finally:
        w.close()
