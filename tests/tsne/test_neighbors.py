"""Neighbour search on real embeddings: recall against exact search, and the search's choices."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nbviz.tsne import TSNE, TSNEError
from nbviz.tsne import neighbors as knn
from nbviz.tsne.faiss_settings import FAISS_SETTINGS, faiss_settings


@pytest.fixture(scope="module")
def vocabulary():
    """The all-MiniLM-L6-v2 word-embedding matrix without placeholder tokens (29,523 x 384, real)."""
    from nbviz.data import text_embeddings

    matrix, _ = text_embeddings(special=False)
    return torch.from_numpy(matrix)


def true_recall(X: torch.Tensor, found: torch.Tensor, k: int) -> float:
    """Share of found neighbours no farther than each point's exact k-th neighbour (ties count)."""
    Xc = X - X.mean(dim=0)
    exact = knn.exact_search(Xc, k)
    kth = knn.pair_sq_distances(Xc, Xc, exact).max(dim=1).values
    got = knn.pair_sq_distances(Xc, Xc, found)
    return float((got <= (kth * (1 + 1e-6)).unsqueeze(1)).double().mean())


def test_the_vocabulary_is_hard_for_approximate_search(vocabulary):
    """Why the recall check exists: the 90th neighbour is barely farther than the 1st."""
    found = knn.nearest_neighbors(vocabulary[:5000], 90, "exact")
    ratio = (found.sq_distances[:, -1] / found.sq_distances[:, 0]).sqrt().median()
    assert float(ratio) < 1.3


def test_approx_on_real_word_embeddings_keeps_recall(vocabulary):
    """approx on the 384-d vocabulary: HNSW cannot beat exact search's cost at 0.99 recall there,
    so the sampled check must hand over to exact search (recall 1), never return a poor graph."""
    found = knn.nearest_neighbors(vocabulary, 90, "approx", seed=0)
    assert true_recall(vocabulary, found.indices, 90) >= knn.RECALL_TARGET
    assert found.method == "exact" and found.recall == 1.0


def test_hnsw_reaches_the_target_on_real_data(digits, monkeypatch):
    """With the cost hand-over off, HNSW itself on the digits (real images, 1,797 x 64; its
    sample is 1,000 of them) reaches recall >= 0.99 against exact search, and the recall it
    reports from its sample agrees with the truth."""
    X = torch.from_numpy(digits[0])
    monkeypatch.setattr(knn, "_exact_is_cheaper", lambda *seconds: False)
    found = knn.nearest_neighbors(X, 90, "approx", seed=0)
    assert found.method == "hnsw"
    recall = true_recall(X, found.indices, 90)
    assert recall >= knn.RECALL_TARGET
    assert abs(found.recall - recall) < 0.01
    assert not torch.any(found.indices == torch.arange(len(X)).unsqueeze(1))
    assert torch.all(found.sq_distances[:, 1:] >= found.sq_distances[:, :-1])
    Xc = knn.centred(X)  # faiss's float32 distances are the direct sums, to float32 rounding
    direct = knn.pair_sq_distances(Xc, Xc, found.indices)
    assert torch.allclose(found.sq_distances.double(), direct, rtol=1e-5, atol=0)


def test_hnsw_raises_its_breadth_until_the_sample_clears_the_target(digits, monkeypatch):
    """A target of 1.0 forces every step of efSearch (k + 1, then x BREADTH_STEP rounded up)
    until the sample has no miss."""
    X = torch.from_numpy(digits[0])
    breadths = []
    original = knn._search_without_self

    def spy(index, *args, **kwargs):
        breadths.append(index.hnsw.efSearch)
        return original(index, *args, **kwargs)

    monkeypatch.setattr(knn, "_exact_is_cheaper", lambda *seconds: False)
    monkeypatch.setattr(knn, "_search_without_self", spy)
    monkeypatch.setattr(knn, "RECALL_TARGET", 1.0)
    found = knn.nearest_neighbors(X, 30, "approx", seed=1)
    assert breadths[0] == 31
    assert all(b == math.ceil(a * knn.BREADTH_STEP) for a, b in zip(breadths[:-2], breadths[1:-1]))
    assert breadths[-1] == breadths[-2], "all points are searched at the breadth the sample accepted"
    assert found.recall == 1.0 and true_recall(X, found.indices, 30) > 0.999


def test_hnsw_can_hand_over_to_exact_search_before_building_the_rest_of_its_graph(digits, monkeypatch):
    """The second cost check (the first slice's build plus its search of the sample at breadth
    k + 1, both extrapolated to all points) comes before the rest of the graph is built: a
    hand-over there leaves the graph at its first slice (1,000 of the 1,797 digits)."""
    import faiss

    X = torch.from_numpy(digits[0])
    verdicts, estimates, made = iter([False, True]), [], []
    real = faiss.IndexHNSWFlat
    monkeypatch.setattr(faiss, "IndexHNSWFlat", lambda *args: made.append(real(*args)) or made[-1])
    monkeypatch.setattr(knn, "_exact_is_cheaper", lambda approx, exact: estimates.append(approx) or next(verdicts))
    found = knn.nearest_neighbors(X, 30, "approx", seed=0)
    assert found.method == "exact" and found.recall == 1.0
    assert len(estimates) == 2 and estimates[1] > estimates[0], "the second estimate adds the search"
    assert made[0].ntotal == knn.RECALL_SAMPLE


def test_auto_uses_exact_search_within_the_budget():
    X = torch.randn(2000, 20, generator=torch.Generator().manual_seed(0))
    assert knn.nearest_neighbors(X, 10, "auto").method == "exact"
    budget_n = int((knn.EXACT_BUDGET_CPU / (384 + knn.TOPK_COST_CPU)) ** 0.5)
    assert budget_n >= 30_522, "the whole MiniLM vocabulary must stay exact on the CPU"
    low_dim_n = int((knn.EXACT_BUDGET_CPU / (50 + knn.TOPK_COST_CPU)) ** 0.5)
    assert 110_000 <= low_dim_n < 125_000, ("110,000 x 50 points stay exact (about 5 s on 2 cores); "
                                           "from 125,000 x 50 HNSW is the faster")


def test_search_against_picks_faiss_only_for_large_float32_searches_on_the_cpu(monkeypatch):
    calls = []
    monkeypatch.setattr(knn, "_faiss_search_against", lambda *args: calls.append("faiss"))
    monkeypatch.setattr(knn, "_torch_search_against", lambda *args: calls.append("torch"))
    monkeypatch.setattr(knn, "FAISS_MIN_PAIRS", 100)
    knn.search_against(torch.zeros(10, 3), torch.zeros(10, 3), 2)
    knn.search_against(torch.zeros(9, 3), torch.zeros(11, 3), 2)
    knn.search_against(torch.zeros(10, 3, dtype=torch.float64), torch.zeros(10, 3, dtype=torch.float64), 2)
    assert calls == ["faiss", "torch", "torch"]


def float32_rank_tolerance(X: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Per query row: how far apart two true squared distances can be and still swap ranks when
    ranked by float32 dot products of D terms, each off by at most D eps ||q|| ||x||:
    tol = 4 D eps (||q||^2 + max ||x||^2)."""
    sq_norms = X.double().square().sum(dim=1)
    return 4 * X.shape[1] * torch.finfo(torch.float32).eps * (sq_norms[rows] + sq_norms.max())


def test_faiss_settings_are_ours_only_inside_the_search():
    """Our searches set faiss's process-wide brute-force settings (see FAISS_SETTINGS) and give
    the user's values back afterwards, also when the search fails; a batch of 7 queries (on
    faiss's BLAS path only under our setting) still finds the true 5 nearest neighbours, and 1,000 (their
    40 by faiss's reservoir under our setting) the true 40."""
    import faiss

    names = list(FAISS_SETTINGS)
    before = {name: getattr(faiss.cvar, name) for name in names}
    users = {name: 12345 + i for i, name in enumerate(names)}

    def current() -> dict:
        return {name: getattr(faiss.cvar, name) for name in names}

    try:
        for name, value in users.items():
            setattr(faiss.cvar, name, value)
        seen = []
        with faiss_settings():
            seen.append(current())
        assert seen == [FAISS_SETTINGS] and current() == users
        with pytest.raises(RuntimeError, match="mid-search"):
            with faiss_settings():
                raise RuntimeError("mid-search")
        assert current() == users
        X = torch.randn(3000, 8, generator=torch.Generator().manual_seed(1))
        rows = torch.arange(7)
        found = knn._faiss_search_against(X[rows], X, 5, rows)
        assert current() == users
        true_sq = torch.cdist(X[rows].double(), X.double()).square()
        true_sq[rows, rows] = float("inf")
        kth = torch.sort(true_sq, dim=1).values[:, 4]
        assert not torch.any(found == rows.unsqueeze(1))
        assert torch.all(torch.gather(true_sq, 1, found) <= (kth + float32_rank_tolerance(X, rows)).unsqueeze(1))
        queries = torch.arange(0, 3000, 3)
        found = knn._faiss_search_against(X[queries], X, 40, queries)
        true_sq = torch.cdist(X[queries].double(), X.double()).square()
        true_sq[torch.arange(len(queries)), queries] = float("inf")
        kth = torch.sort(true_sq, dim=1).values[:, 39]
        assert not torch.any(found == queries.unsqueeze(1))
        assert all(len(set(row)) == 40 for row in found.tolist())
        assert torch.all(torch.gather(true_sq, 1, found) <= (kth + float32_rank_tolerance(X, queries)).unsqueeze(1))
    finally:
        for name, value in before.items():
            setattr(faiss.cvar, name, value)


def test_brute_force_matches_the_torch_search_on_real_embeddings(vocabulary):
    """faiss's brute force (float32 on the CPU) and the blocked torch search (every other case)
    both find the true 30 nearest neighbours of 500 vocabulary rows among 8,000, up to ties that
    float32 ranking cannot resolve. Truth: every distance in float64. Both rank by float32 dot
    products of D terms, each off by at most D eps ||q|| ||x||, so a point can only be swapped
    with the true k-th one when their true squared distances are within
    tol = 4 D eps (||q||^2 + max ||x||^2) of each other."""
    X = knn.centred(vocabulary[:8000])
    rows = torch.arange(0, 8000, 16)
    k = 30
    true_sq = torch.cdist(X[rows].double(), X.double()).square()
    true_sq[torch.arange(len(rows)), rows] = float("inf")
    ranked = torch.sort(true_sq, dim=1).values
    kth, next_one = ranked[:, k - 1], ranked[:, k]
    tol = float32_rank_tolerance(X, rows)
    # The vocabulary's 30th and 31st neighbours are often nearly tied: the bound (0.2% of the
    # spread between 1st and 30th) settles 72 of the 500 rows; every row gets the distance check.
    resolvable = next_one - kth > 2 * tol
    assert int(resolvable.sum()) >= 50
    truth = torch.topk(true_sq, k, dim=1, largest=False).indices
    for search in (knn._faiss_search_against, knn._torch_search_against):
        found = search(X[rows], X, k, rows)
        assert found.shape == (500, k) and found.dtype == torch.int64
        assert not torch.any(found == rows.unsqueeze(1)), "a row never lists itself"
        assert all(len(set(row)) == k for row in found.tolist())
        assert torch.all(torch.gather(true_sq, 1, found) <= (kth + tol).unsqueeze(1))
        for got, want, clear in zip(found.tolist(), truth.tolist(), resolvable.tolist()):
            assert not clear or set(got) == set(want)


@pytest.mark.parametrize("search", [knn._faiss_search_against, knn._torch_search_against])
def test_brute_force_lets_duplicates_list_each_other(search):
    """exclude drops only the query's own row: an exact copy of a point is its nearest neighbour."""
    X = torch.randn(300, 8, generator=torch.Generator().manual_seed(2))
    X[7] = X[3]
    rows = torch.arange(300)
    found = search(X, X, 1, rows)
    assert int(found[3, 0]) == 7 and int(found[7, 0]) == 3
    assert not torch.any(found[:, 0] == rows)


def test_drop_listed_removes_each_rows_own_point_whatever_its_place():
    """HNSW answers k + 1 finds per point; each row keeps the k others in rank order. Row 0: the
    point first (the usual case, a slice); row 1: a duplicate found before it; row 2: the point
    missing (k + 1 others: the farthest goes); row 3: a short search (-1 padding repeats the
    nearest find)."""
    found = np.array([[0, 5, 6, 7], [9, 1, 4, 8], [3, 4, 5, 6], [3, 8, -1, -1]], dtype=np.int64)
    distances = (found * 10.0 + np.arange(4)).astype(np.float32)
    listed = np.array([0, 1, 2, 3])
    kept, kept_distances = knn._drop_listed(found.copy(), distances.copy(), listed, 3)
    assert kept.tolist() == [[5, 6, 7], [9, 4, 8], [3, 4, 5], [8, 8, 8]]
    assert kept_distances.tolist() == [[51, 62, 73], [90, 42, 83], [30, 41, 52], [81, 81, 81]]


def test_cluster_order_puts_similar_points_next_to_each_other(digits):
    """The HNSW build order lists every point once, and on the digits (real images, 7 k-means
    clusters) neighbours in the order are closer than in the input's: the mean step between
    consecutive points is about 0.74 of the input order's (seeds 0-3), where a shuffle gives 1.02."""
    X = np.ascontiguousarray(digits[0], dtype=np.float32)
    order = knn._cluster_order(X, seed=0)
    assert sorted(order.tolist()) == list(range(len(X)))

    def mean_step(rows):
        return float(np.linalg.norm(np.diff(rows, axis=0), axis=1).mean())

    assert mean_step(X[order]) < 0.85 * mean_step(X)
    few = np.zeros((knn.POINTS_PER_CLUSTER + 5, 3), dtype=np.float32)
    assert np.array_equal(knn._cluster_order(few, seed=0), np.arange(len(few))), "one cluster: input order"


def test_fitted_tsne_exposes_the_neighbours_of_its_p(digits):
    X, _ = digits
    model = TSNE(perplexity=10, n_iter=5, random_state=0).fit(X[:300])
    assert model.neighbors_.shape == (300, 30) and model.neighbors_.dtype == np.int64
    exact = knn.nearest_neighbors(torch.from_numpy(X[:300]), 30, "exact").indices.numpy()
    assert all(set(a) == set(b) for a, b in zip(model.neighbors_, exact))
    assert model.n_features_in_ == 64


@pytest.mark.parametrize("k", [0, 50])
def test_k_outside_the_data_is_a_clear_error(k):
    with pytest.raises(TSNEError, match=r"1 <= k < N.*perplexity"):
        knn.nearest_neighbors(torch.zeros(50, 3), k)


def test_unknown_method_is_a_clear_error():
    with pytest.raises(TSNEError, match="'auto', 'exact' or 'approx'"):
        knn.nearest_neighbors(torch.zeros(50, 3), 5, "annoy")
