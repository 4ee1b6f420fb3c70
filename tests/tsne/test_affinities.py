"""Affinities: neighbour search, perplexity calibration, and the sparse symmetric P."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.neighbors import NearestNeighbors

from nbviz.tsne.affinities import calibrate_conditional, joint_probabilities, perplexity_of_rows
from nbviz.tsne.neighbors import nearest_neighbors
from tsne_testdata import gaussian_blobs


def test_exact_neighbours_match_sklearn_and_distances_are_direct():
    X, _ = gaussian_blobs(400, 12, 5, seed=1)
    found = nearest_neighbors(torch.from_numpy(X), 15, method="exact")
    indices, sq = found.indices, found.sq_distances
    assert (found.method, found.recall) == ("exact", 1.0)
    ref_dist, ref_idx = NearestNeighbors(n_neighbors=16).fit(X).kneighbors(X)
    for i in range(len(X)):
        assert set(indices[i].tolist()) == set(ref_idx[i, 1:].tolist())
    np.testing.assert_allclose(sq.numpy(), ref_dist[:, 1:] ** 2, rtol=1e-5)
    assert torch.all(sq[:, 1:] >= sq[:, :-1]), "rows must be sorted nearest first"


def test_duplicates_never_list_a_point_as_its_own_neighbour():
    X = np.repeat(np.arange(10, dtype=np.float32).reshape(5, 2), 4, axis=0)  # every row 4 times
    found = nearest_neighbors(torch.from_numpy(X), 3, method="exact")
    indices, sq = found.indices, found.sq_distances
    assert not torch.any(indices == torch.arange(len(X)).unsqueeze(1))
    assert torch.all(sq == 0), "the 3 copies of each row are its nearest neighbours"


@pytest.mark.parametrize("perplexity", [5.0, 30.0])
def test_calibrated_rows_reach_the_perplexity(perplexity):
    X, _ = gaussian_blobs(500, 10, 4, seed=3)
    k = int(3 * perplexity)
    sq = nearest_neighbors(torch.from_numpy(X), k, method="exact").sq_distances
    p, beta = calibrate_conditional(sq, perplexity)
    # direct computation from beta and the raw distances, independent of the bisection code
    d = sq.numpy()
    w = np.exp(-beta.numpy()[:, None] * d)
    direct = w / w.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(p.numpy(), direct, rtol=1e-10, atol=1e-14)
    achieved = np.exp(-(direct * np.log(np.where(direct > 0, direct, 1.0))).sum(axis=1))
    assert np.max(np.abs(achieved - perplexity)) < 1e-3
    assert torch.allclose(perplexity_of_rows(p), torch.from_numpy(achieved))


def test_unreachable_perplexity_stays_finite():
    sq = torch.zeros((4, 6), dtype=torch.float64)  # all neighbours at the same distance: H = log 6 always
    p, _ = calibrate_conditional(sq, 2.0)
    assert torch.allclose(p, torch.full_like(p, 1 / 6))


def test_joint_probabilities_match_opentsne_exact():
    from openTSNE.affinity import PerplexityBasedNN

    X, _ = gaussian_blobs(300, 8, 3, seed=4)
    k = 30
    found = nearest_neighbors(torch.from_numpy(X), k, method="exact")
    indices, sq = found.indices, found.sq_distances
    conditional, _ = calibrate_conditional(sq, 10.0)
    P = joint_probabilities(indices, conditional, 10.0)
    ours = P.to_dense().numpy()
    theirs = PerplexityBasedNN(X.astype(np.float64), perplexity=10.0, method="exact", n_jobs=1).P.toarray()
    np.testing.assert_allclose(ours, ours.T, atol=1e-15)
    assert math.isclose(ours.sum(), 1.0, rel_tol=1e-12)
    assert np.array_equal(ours > 0, theirs > 0)
    np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=1e-12)
    expected_entropy = float((ours[ours > 0] * np.log(ours[ours > 0])).sum())
    assert math.isclose(P.entropy_term, expected_entropy, rel_tol=1e-10)


def test_table_packing_keeps_every_edge_including_hub_rows():
    """A star: point 0 is everyone's first neighbour, so its row is far wider than the others;
    the hub continues on extra rows and the table still holds exactly (C + C^T) / 2N."""
    n, k = 200, 2
    rng = np.random.default_rng(5)
    second = np.array([int(rng.choice(np.setdiff1d(np.arange(1, n), [i]))) for i in range(n)])
    indices = np.stack([np.where(np.arange(n) == 0, 1, 0), second], axis=1)
    indices[0, 1] = 2
    conditional = rng.random((n, k))
    conditional /= conditional.sum(1, keepdims=True)
    C = np.zeros((n, n))
    np.add.at(C, (np.repeat(np.arange(n), k), indices.reshape(-1)), conditional.reshape(-1))
    packed = joint_probabilities(torch.from_numpy(indices), torch.from_numpy(conditional), 1.0)
    assert packed.table.shape[1] < n - 1, "the hub row must not set the width"
    assert packed.table.shape[0] > n and (packed.row_owner[n:] == 0).float().mean() > 0.6, "the hub continues on extra rows"
    assert torch.equal(packed.row_owner[:n].long(), torch.arange(n))
    expected = (C + C.T) / (2 * n)
    np.testing.assert_allclose(packed.to_dense().numpy(), expected / expected.sum(), rtol=1e-12)


def test_symmetrisation_equals_the_dense_formula_on_an_asymmetric_graph():
    """(C + C^T) / 2N normalised, for a random kNN-like graph with one-sided and two-sided edges,
    a hub listed by everyone, and duplicates of a point listing each other."""
    n, k = 400, 7
    rng = np.random.default_rng(11)
    others = [np.setdiff1d(np.arange(n), [0, i, 2, 3]) for i in range(n)]
    indices = np.stack([np.concatenate([[0 if i else 1], rng.choice(others[i], size=k - 1, replace=False)]) for i in range(n)])
    indices[2, 1], indices[3, 1] = 3, 2  # a mutual pair beside the hub everyone lists first
    conditional = rng.random((n, k))
    conditional /= conditional.sum(1, keepdims=True)
    C = np.zeros((n, n))
    np.add.at(C, (np.repeat(np.arange(n), k), indices.reshape(-1)), conditional.reshape(-1))
    expected = (C + C.T) / (2 * n)
    expected /= expected.sum()
    P = joint_probabilities(torch.from_numpy(indices), torch.from_numpy(conditional), 5.0)
    np.testing.assert_allclose(P.to_dense().numpy(), expected, rtol=1e-12, atol=1e-18)
    positive = expected[expected > 0]
    assert math.isclose(P.entropy_term, float((positive * np.log(positive)).sum()), rel_tol=1e-12)


def test_table_width_minimises_the_slot_cost_even_with_huge_hubs():
    """W = argmin_W sum_i ceil(d_i / W) W + 8 (ceil(d_i / W) - 1) over W in 1..16 and the multiples
    of 16, checked by brute force over every such W, on degrees like the MiniLM vocabulary's P:
    most near 2k, a few hubs with tens of thousands."""
    from nbviz.tsne.affinities import _EXTRA_ROW_COST, _WIDTH_MULTIPLE, _table_width

    rng = np.random.default_rng(0)
    degree = rng.integers(90, 260, size=30_000)
    degree[:40] = rng.integers(5_000, 24_000, size=40)
    values, counts = np.unique(degree, return_counts=True)
    every = np.arange(1, degree.max() + _WIDTH_MULTIPLE)
    widths = every[(every <= _WIDTH_MULTIPLE) | (every % _WIDTH_MULTIPLE == 0)][:, None]
    rows_needed = np.maximum(1, np.ceil(values[None, :] / widths))
    cost = (counts * rows_needed * widths).sum(1) + _EXTRA_ROW_COST * (counts * (rows_needed - 1)).sum(1)
    chosen = _table_width(torch.from_numpy(degree))
    assert chosen == int(widths[np.argmin(cost), 0])
    assert chosen % _WIDTH_MULTIPLE == 0, "degrees near 2k fill vector-multiple rows"


def test_small_degrees_keep_a_table_no_wider_than_they_need():
    """Degrees of at most 16 (tiny perplexities) get one row each, exactly as wide as the largest."""
    from nbviz.tsne.affinities import _table_width

    assert _table_width(torch.tensor([3, 5, 5, 4])) == 5
    assert _table_width(torch.tensor([1, 1])) == 1
