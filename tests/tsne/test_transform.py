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
