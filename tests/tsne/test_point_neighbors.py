"""Exact neighbours of single points and the share a layout keeps, against float64 references."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nbviz.tsne import TSNEError
from nbviz.tsne.point_neighbors import PointNeighbors, kept_share, layout_neighbors


def reference(X: np.ndarray, i: int, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Every distance from point i in float64, sorted (ties by index), the point itself left out."""
    X = X.astype(np.float64)
    if metric == "euclidean":
        d = np.sqrt(((X - X[i]) ** 2).sum(axis=1))
    else:
        U = X / np.linalg.norm(X, axis=1, keepdims=True)
        d = 1.0 - U @ U[i]
    d[i] = np.inf
    order = np.lexsort((np.arange(len(X)), d))[:k]
    return order, d[order]


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_neighbours_of_a_point_match_the_float64_reference_on_real_data(digits, metric):
    """Digits (integer pixels, so exact ties exist): the same neighbour set as the float64 search
    wherever the k-th distance is not tied with the (k+1)-th, same distances to float32 rounding."""
    X = digits[0].astype(np.float32)
    finder = PointNeighbors(torch.from_numpy(X))
    k = 15
    for i in (0, 17, 900, 1796):
        found, dist = finder.of_point(i, k, metric)
        want, want_dist = reference(X, i, k + 1, metric)
        assert list(found.shape) == [k] and found.dtype == torch.int64
        if want_dist[k - 1] < want_dist[k]:
            assert sorted(found.tolist()) == sorted(want[:k].tolist())
        # Distances: float32 differences summed in float64, so the relative error is a few float32 ulps
        # of the coordinates (euclidean); cosine: 1 - cos from float32 unit vectors, error ~ 1e-7 absolute.
        tolerance = 1e-6 * want_dist[:k] + 1e-9 if metric == "euclidean" else 1e-6
        np.testing.assert_allclose(dist.numpy(), want_dist[:k], rtol=0, atol=np.max(tolerance) * 4)
        assert np.all(np.diff(dist.numpy()) >= 0), "nearest first"
        assert i not in found.tolist()


def test_cosine_differs_from_euclidean_and_ignores_scale():
    """Three points where the nearest by angle is the farthest by length, and scaling a row
    changes its Euclidean neighbours but not its cosine ones."""
    X = torch.tensor([[1.0, 0.0], [10.0, 0.5], [0.7, 0.7], [0.0, 1.0]])
    finder = PointNeighbors(X)
    assert finder.of_point(0, 1, "euclidean")[0].tolist() == [2]
    indices, distances = finder.of_point(0, 1, "cosine")
    assert indices.tolist() == [1]
    assert float(distances[0]) == pytest.approx(1 - 10 / np.hypot(10, 0.5), abs=1e-7)


def test_bad_requests_raise_tsne_errors_naming_the_fix():
    finder = PointNeighbors(torch.randn(20, 3, generator=torch.Generator().manual_seed(0)))
    with pytest.raises(TSNEError, match=r"k=20 .* pass k between 1 and 19"):
        finder.of_point(0, 20)
    with pytest.raises(TSNEError, match="k=0"):
        finder.of_point(0, 0)
    with pytest.raises(TSNEError, match="unknown metric 'manhattan'; use 'euclidean' or 'cosine'"):
        finder.of_point(0, 3, "manhattan")
    with pytest.raises(TSNEError, match=r"point index 20 is not in 0..19"):
        finder.of_point(20, 3)
    with pytest.raises(TSNEError, match="whole number"):
        finder.of_point(0, 2.5)
    zero = PointNeighbors(torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    with pytest.raises(TSNEError, match=r"all-zero rows \(1 of them, e.g. row 0\); use metric='euclidean'"):
        zero.of_point(1, 1, "cosine")


def test_kept_share_counts_the_overlap_of_two_neighbour_tables():
    original = torch.tensor([[1, 2, 3], [0, 2, 4], [5, 6, 7]])
    in_layout = torch.tensor([[3, 9, 1], [4, 0, 2], [8, 9, 10]])
    assert kept_share(original, in_layout).tolist() == [2 / 3, 1.0, 0.0]


def test_a_layout_that_is_the_data_keeps_every_neighbour():
    """2-D data laid out as itself: layout neighbours = true neighbours, share 1 (no ties: random)."""
    X = torch.rand(300, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    finder = PointNeighbors(X)
    rows = torch.arange(0, 300, 7)
    original = finder.of_rows(rows, 10, "euclidean")[0]
    assert float(kept_share(original, layout_neighbors(X, rows, 10)).mean()) == 1.0
    # A layout that shuffles the points keeps about k / N of them by chance.
    shuffled = X[torch.randperm(300, generator=torch.Generator().manual_seed(2))]
    assert float(kept_share(original, layout_neighbors(shuffled, rows, 10)).mean()) < 0.2


def test_layout_neighbors_are_exact_in_a_wide_layout_and_skip_only_the_point_itself():
    """A 2-D layout 200 units wide of tight groups (neighbours ~0.003 apart): float32 products
    (||y||^2 ~ 1e4, rounding ~1e-3 against squared gaps ~1e-5) cannot rank them even centred; the
    k-d tree matches a float64 direct sum. A point with a duplicate lists the duplicate (distance
    0) first and never itself."""
    generator = torch.Generator().manual_seed(3)
    centres = 200 * torch.rand(100, 2, generator=generator, dtype=torch.float64) - 100
    layout = centres.repeat_interleave(20, dim=0) + 0.01 * torch.rand(2_000, 2, generator=generator, dtype=torch.float64)
    layout[7] = layout[8]
    rows = torch.cat([torch.arange(0, 2_000, 13), torch.tensor([7, 8])])
    found = layout_neighbors(layout, rows, 5)
    direct = ((layout[rows, None, :] - layout[None, :, :]) ** 2).sum(dim=2)
    direct[torch.arange(len(rows)), rows] = float("inf")
    expected = torch.sort(direct, dim=1, stable=True).indices[:, :5]
    assert found.dtype == torch.int64 and found.shape == (len(rows), 5)
    assert not (found == rows[:, None]).any()
    assert torch.equal(torch.sort(found, dim=1).values, torch.sort(expected, dim=1).values)
    assert int(found[-2, 0]) == 8 and int(found[-1, 0]) == 7
