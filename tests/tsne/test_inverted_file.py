"""The inverted-file search (inverted_file.py): exact within the lists a point probes, the recall
its plan counts before the search equal to the recall measured after it, on real embeddings;
rows with too few candidates searched exactly; the hand-over when it would cost too much."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from test_tiled_search import check_true_neighbours

from nbviz.tsne import inverted_file as ivf
from nbviz.tsne import native
from nbviz.tsne import neighbors as knn


@pytest.fixture(scope="module")
def vocabulary_components():
    """The all-MiniLM-L6-v2 word-embedding matrix (29,523 real token vectors) on its 50 leading
    principal components: real embeddings with enough rows for 115 lists of 256."""
    from nbviz.data import text_embeddings

    matrix, _ = text_embeddings(special=False)
    X = knn.centred(torch.from_numpy(matrix))
    _, _, components = torch.linalg.svd(X[::7].double(), full_matrices=False)
    return (X.double() @ components[:50].T).float().contiguous()


def direct_sq_distances(X: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    return (X.double().unsqueeze(1) - X.double()[indices.long()]).square().sum(dim=2)


@pytest.mark.parametrize("build", ["openmp_build", "serial_build"])
def test_probing_every_list_finds_the_true_neighbours(request, build, monkeypatch, digits):
    """All 1,797 digits in lists of about 64 (28 lists), each point probing all of them, on 1 to
    3 threads: the inverted file is then an exact search (its rows gathered from all lists, each
    skipping itself in its own list), so it returns the true 30 nearest up to float32 ties,
    with distances that are the direct sums."""
    built = request.getfixturevalue(build)
    X = knn.centred(torch.from_numpy(digits[0]))
    monkeypatch.setattr(ivf, "POINTS_PER_LIST", 64)
    lists = ivf.inverted_lists(X, seed=0)
    assert lists.centroids.shape[0] == 28 and int(lists.sizes.sum()) == len(X)
    previous = torch.get_num_threads()
    try:
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            indices, sq_distances, short = ivf.inverted_file_search(X, lists, 28, 30, native.native_tile_selection(built))
            assert short.numel() == 0
            check_true_neighbours(X, indices, 30)
            torch.testing.assert_close(sq_distances.double(), direct_sq_distances(X, indices), rtol=1e-6, atol=1e-3)
    finally:
        torch.set_num_threads(previous)


def test_probes_start_with_the_own_list_and_follow_the_centroids_by_distance(monkeypatch, digits):
    """Each point's first probe is its own list (its nearest centroid); the others are its nearest
    centroids among the 8p nearest its own, in order of distance."""
    X = knn.centred(torch.from_numpy(digits[0]))
    monkeypatch.setattr(ivf, "POINTS_PER_LIST", 32)
    lists = ivf.inverted_lists(X, seed=0)
    rows = torch.arange(0, len(X), 5)
    probes = lists.probes(X, rows, 6)
    assert torch.equal(probes[:, 0], lists.assignment[rows])
    assert all(len(set(row)) == 6 for row in probes.tolist())
    to_centroids = torch.cdist(X[rows].double(), lists.centroids.double())
    assert torch.equal(torch.argmin(to_centroids, dim=1), lists.assignment[rows]), "own list: nearest centroid"
    distances = torch.gather(to_centroids, 1, probes[:, 1:])
    assert torch.all(distances[:, 1:] >= distances[:, :-1] - 1e-9)
    # with 48 candidate centroids for 6 probes of 56 lists, most points get their true nearest six
    truth = torch.topk(to_centroids, 6, largest=False).indices
    agree = np.mean([set(a) == set(b) for a, b in zip(probes.tolist(), truth.tolist())])
    assert agree > 0.9


def test_the_plan_counts_the_recall_the_search_then_measures_on_real_embeddings(monkeypatch, vocabulary_components):
    """The vocabulary's 50 leading components, k = 90, with the cost hand-over off: the search
    picks the fewest probes whose sampled recall clears 0.99, the recall it reports (measured on
    its result) is at least what the plan counted for the same rows, and the true recall of
    3,000 other rows against exact search clears the target too."""
    X = vocabulary_components
    plans = []
    real_plan = knn.plan_probes
    monkeypatch.setattr(knn, "plan_probes", lambda *args: plans.append(real_plan(*args)) or plans[-1])
    monkeypatch.setattr(knn, "_exact_is_cheaper", lambda *seconds: False)
    found = knn.nearest_neighbors(X, 90, "approx", seed=0)
    assert found.method == "ivf"
    plan = plans[0]
    r = plan.sample_recall
    assert r.mean() - 2 * r.std() / math.sqrt(r.size) >= knn.RECALL_TARGET
    smaller = [p for p in ivf.PROBES if p < plan.probes]
    if smaller:  # the probe count before it would not have cleared the target
        sample = knn.recall_sample(knn.centred(X), 90, 0)
        monkeypatch.setattr(ivf, "PROBES", (smaller[-1],))
        assert ivf.plan_probes(ivf.inverted_lists(knn.centred(X), 0), knn.centred(X), sample.queries, sample.exact, knn.RECALL_TARGET) is None
    assert found.recall >= r.mean() - 1e-12
    rows = torch.randperm(len(X), generator=torch.Generator().manual_seed(5))[:3000]
    Xc = knn.centred(X)
    exact = knn.search_against(Xc[rows], Xc, 90, exclude=rows)
    kth = knn.pair_sq_distances(Xc[rows], Xc, exact).max(dim=1).values
    got = knn.pair_sq_distances(Xc[rows], Xc, found.indices[rows])
    assert float((got <= (kth * (1 + 1e-6)).unsqueeze(1)).double().mean()) >= knn.RECALL_TARGET
    assert not torch.any(found.indices[rows] == rows.unsqueeze(1))
    assert torch.all(found.sq_distances[:, 1:] >= found.sq_distances[:, :-1])
    torch.testing.assert_close(found.sq_distances[rows].double(), direct_sq_distances(Xc, found.indices)[rows],
                               rtol=1e-6, atol=1e-4)


def test_rows_with_fewer_candidates_than_k_are_searched_exactly(monkeypatch, digits):
    """Lists of about 16 digits and 4 probes give most points fewer than k = 90 candidates: the
    search names those rows, and nearest_neighbors fills them by exact search."""
    X = knn.centred(torch.from_numpy(np.concatenate([digits[0], digits[0][::-1] + 0.25])))
    monkeypatch.setattr(ivf, "POINTS_PER_LIST", 16)
    monkeypatch.setattr(ivf, "MIN_LISTS", 2)
    lists = ivf.inverted_lists(X, seed=0)
    probes = lists.probes(X, torch.arange(len(X)), 4)
    candidates = lists.sizes[probes].sum(dim=1) - 1
    _, _, short = ivf.inverted_file_search(X, lists, 4, 90, native.native_tile_selection())
    assert torch.equal(torch.sort(short).values, torch.nonzero(candidates < 90).view(-1))
    assert 0 < short.numel() < len(X)
    monkeypatch.setattr(ivf, "PROBES", (4,))
    monkeypatch.setattr(knn, "RECALL_TARGET", 0.0)
    monkeypatch.setattr(knn, "_exact_is_cheaper", lambda *seconds: False)
    searches = []
    real_search = knn.inverted_file_search
    monkeypatch.setattr(knn, "inverted_file_search", lambda *args: searches.append(real_search(*args)) or searches[-1])
    found = knn.nearest_neighbors(X, 90, "approx", seed=0)
    assert found.method == "ivf"
    short = searches[0][2]
    assert short.numel() > 0
    exact = knn.nearest_neighbors(X, 90, "exact")
    torch.testing.assert_close(found.sq_distances[short], exact.sq_distances[short], rtol=1e-6, atol=1e-4)


def test_the_inverted_file_hands_over_when_it_would_cost_as_much_as_exact_search(monkeypatch, vocabulary_components):
    """Its estimate (k-means plus N x candidates x (2D + SELECTION_COST) x SECONDS_PER_PAIR_UNIT)
    is compared with exact search's: where it is not cheaper HNSW's own checks follow."""
    estimates, tried = [], []
    monkeypatch.setattr(knn, "_exact_is_cheaper", lambda approx, exact: estimates.append((approx, exact)) or True)
    monkeypatch.setattr(knn, "_checked_hnsw_search", lambda *args: tried.append(args) or None)
    found = knn.nearest_neighbors(vocabulary_components, 30, "approx", seed=0)
    assert found.method == "exact" and found.recall == 1.0
    assert len(estimates) == 1 and len(tried) == 1
