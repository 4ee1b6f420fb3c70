"""Neighbour search on real embeddings: recall against exact search, and the search's choices."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nbviz.tsne import TSNE, TSNEError
from nbviz.tsne import neighbors as knn


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


def test_hnsw_raises_its_breadth_until_the_sample_clears_the_target(digits, monkeypatch):
    """A target of 1.0 forces every step of efSearch (k + 1, then x BREADTH_STEP rounded up)
    until the sample has no miss."""
    X = torch.from_numpy(digits[0])
    breadths = []
    original = knn._search_without_self

    def spy(index, data, rows, k):
        breadths.append(index.hnsw.efSearch)
        return original(index, data, rows, k)

    monkeypatch.setattr(knn, "_exact_is_cheaper", lambda *seconds: False)
    monkeypatch.setattr(knn, "_search_without_self", spy)
    monkeypatch.setattr(knn, "RECALL_TARGET", 1.0)
    found = knn.nearest_neighbors(X, 30, "approx", seed=1)
    assert breadths[0] == 31
    assert all(b == math.ceil(a * knn.BREADTH_STEP) for a, b in zip(breadths[:-2], breadths[1:-1]))
    assert breadths[-1] == breadths[-2], "all points are searched at the breadth the sample accepted"
    assert found.recall == 1.0 and true_recall(X, found.indices, 30) > 0.999


def test_auto_uses_exact_search_within_the_budget():
    X = torch.randn(2000, 20, generator=torch.Generator().manual_seed(0))
    assert knn.nearest_neighbors(X, 10, "auto").method == "exact"
    budget_n = int((knn.EXACT_BUDGET_CPU / (384 + knn.TOPK_COST_CPU)) ** 0.5)
    assert budget_n >= 30_522, "the whole MiniLM vocabulary must stay exact on the CPU"
    low_dim_n = int((knn.EXACT_BUDGET_CPU / (50 + knn.TOPK_COST_CPU)) ** 0.5)
    assert low_dim_n < 70_000, "70,000 x 50 points (exact: 18 s on 2 cores) must try HNSW"


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
