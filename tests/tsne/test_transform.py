"""Placing new points into a fitted embedding (TSNE.transform)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nbviz.tsne import TSNE, TSNEError
from nbviz.tsne.transform import TransformSettings, place_points, placement_gradient


@pytest.fixture(scope="module")
def held_out_digits():
    from nbviz.data import digits

    X, y = digits()
    order = np.random.default_rng(0).permutation(len(X))
    test, train = order[:300], order[300:]
    model = TSNE(random_state=0, n_iter=500).fit(X[train])
    return model, X[train], y[train], X[test], y[test]


def test_held_out_digits_land_in_their_class_cluster(held_out_digits):
    model, _, y_train, X_test, y_test = held_out_digits
    placed = model.transform(X_test)
    assert placed.shape == (300, 2) and np.isfinite(placed).all()
    reference = model.embedding_
    nearest = np.argsort(((placed[:, None, :] - reference[None]) ** 2).sum(2), axis=1)[:, :10]
    votes = np.array([np.bincount(row, minlength=10).argmax() for row in y_train[nearest]])
    assert (votes == y_test).mean() >= 0.9


def test_transform_leaves_the_fitted_layout_alone(held_out_digits):
    model = held_out_digits[0]
    before = model.embedding_.copy()
    model.transform(held_out_digits[3][:20])
    np.testing.assert_array_equal(model.embedding_, before)


def test_placement_gradient_is_the_formula():
    """Against a float64 dense evaluation of g_i = a sum_j p_j|i w_ij (y_i - r_j) - sum_j w_ij^2 (y_i - r_j) / Z_i."""
    generator = torch.Generator().manual_seed(3)
    reference = torch.randn(700, 2, generator=generator, dtype=torch.float64) * 5
    y = torch.randn(6, 2, generator=generator, dtype=torch.float64) * 5
    neighbors = torch.randint(0, 700, (6, 4), generator=generator)
    p = torch.rand(6, 4, generator=generator, dtype=torch.float64)
    p /= p.sum(1, keepdim=True)
    got = placement_gradient(y, reference, neighbors, p, 1.5)
    for i in range(6):
        d = y[i] - reference
        w = 1 / (1 + (d ** 2).sum(1))
        attract = sum(p[i, m] * w[neighbors[i, m]] * d[neighbors[i, m]] for m in range(4))
        expected = 1.5 * attract - (w[:, None] ** 2 * d).sum(0) / w.sum()
        torch.testing.assert_close(got[i], expected, rtol=1e-12, atol=1e-12)


def test_a_new_point_equal_to_a_reference_point_starts_beside_it():
    """With one duplicate among well separated points, the start is the median of its neighbours."""
    data = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    layout = torch.tensor([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0]])
    placed = place_points(data, layout, data[:1], TransformSettings(perplexity=1.0, init_neighbors=1, n_iter=0))
    torch.testing.assert_close(placed, layout[:1])


def test_transform_before_fit_says_to_fit():
    with pytest.raises(TSNEError, match=r"not fitted yet.*fit\(X\)"):
        TSNE().transform(np.zeros((3, 4)))


def test_transform_with_other_columns_names_both_counts(held_out_digits):
    with pytest.raises(TSNEError, match=r"5 features but the embedding was fitted on 64"):
        held_out_digits[0].transform(np.zeros((3, 5), dtype=np.float32))


@pytest.mark.parametrize("settings, message", [
    ({"perplexity": 0}, "perplexity must be a positive"),
    ({"momentum": 1.0}, r"momentum must be in \[0, 1\)"),
    ({"n_iter": -1}, "n_iter must be an int >= 0"),
    ({"speed": 2}, "unknown transform setting"),
])
def test_bad_transform_settings_are_named(held_out_digits, settings, message):
    with pytest.raises(TSNEError, match=message):
        held_out_digits[0].transform(held_out_digits[3][:3], **settings)


@pytest.fixture(scope="module")
def grown_run(held_out_digits):
    """An optimizer fitted on the training digits, then grown by the 300 held-out ones."""
    _, X_train, _, X_test, _ = held_out_digits
    run = TSNE(random_state=0, n_iter=500).optimizer(X_train)
    run.run(500)
    before = run.embedding.clone()
    seen: list[int] = []
    placed = run.add_points(X_test, callback=lambda iteration, _: seen.append(iteration))
    return run, before, placed, seen


def test_add_points_places_like_transform_and_keeps_the_fitted_points(grown_run, held_out_digits):
    run, before, placed, seen = grown_run
    _, X_train, y_train, X_test, y_test = held_out_digits
    n = len(X_train)
    assert run.n_points == n + 300 and run.data.shape == (n + 300, 64)
    torch.testing.assert_close(run.embedding[:n], before, rtol=0, atol=0)
    torch.testing.assert_close(run.embedding[n:], placed, rtol=0, atol=0)
    assert seen == list(range(1, 251))
    reference = before.numpy()
    nearest = np.argsort(((placed.numpy()[:, None, :] - reference[None]) ** 2).sum(2), axis=1)[:, :10]
    votes = np.array([np.bincount(row, minlength=10).argmax() for row in y_train[nearest]])
    assert (votes == y_test).mean() >= 0.9


def test_a_grown_run_optimises_every_point_against_a_p_over_all_of_them(grown_run):
    run = grown_run[0]
    n = run.n_points
    P = run.affinities
    assert P.n_points == n and int(run.neighbors.max()) >= n - 300  # old points found new neighbours
    assert run.neighbors.shape == (n, 90)
    iteration = run.iteration
    start = run.embedding.clone()
    run.run(20)
    assert run.iteration == iteration + 20
    moved = (run.embedding - start).norm(dim=1)
    assert float(moved[n - 300:].min()) > 0 and np.isfinite(run.kl_divergence())


def test_add_points_with_the_wrong_columns_changes_nothing(held_out_digits):
    _, X_train, *_ = held_out_digits
    run = TSNE(random_state=0, n_iter=10).optimizer(X_train[:200])
    run.run(10)
    before, P = run.embedding.clone(), run.affinities
    with pytest.raises(TSNEError, match="63 features but the embedding was fitted on 64"):
        run.add_points(X_train[:5, :63])
    with pytest.raises(TSNEError, match="new points are invalid"):
        run.add_points(np.full((3, 64), np.nan))
    assert run.n_points == 200 and run.affinities is P
    torch.testing.assert_close(run.embedding, before, rtol=0, atol=0)


def test_restart_after_add_points_starts_the_new_points_beside_their_neighbours(held_out_digits):
    _, X_train, *_ = held_out_digits
    # Digits are small integers, so squared distances tie often; a tie at the 25th neighbour would
    # make the expected set depend on the search's tie order (threads, CPU). Jitter removes ties.
    jitter = np.random.default_rng(1).normal(scale=1e-3, size=(100, X_train.shape[1])).astype(np.float32)
    data = np.concatenate([X_train[:100] + jitter, X_train[:1] + jitter[:1]])  # the new row duplicates row 0
    run = TSNE(random_state=0, n_iter=10, perplexity=5).optimizer(data[:100])
    start = torch.from_numpy(run.initial_embedding)
    run.run(10)
    run.add_points(data[100:], TransformSettings(n_iter=5))
    run.restart()
    assert run.embedding.shape == (101, 2)
    nearest = ((torch.from_numpy(data[:100]) - torch.from_numpy(data[100])) ** 2).sum(1).argsort()[:25]
    expected = start[nearest].median(dim=0).values
    torch.testing.assert_close(torch.from_numpy(run.initial_embedding[100]), expected, rtol=0, atol=0)
