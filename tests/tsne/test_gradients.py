"""Gradients and KL: exact against autograd, FFT against exact, attraction against a dense sum."""
from __future__ import annotations

import math

import numpy as np
import torch

from nbviz.tsne import TSNE
from nbviz.tsne.fft_repulsion import fft_friendly, fft_repulsion, interpolation_points, lagrange_weights
import pytest

from nbviz.tsne import gradients
from nbviz.tsne.gradients import attraction, attraction_table, exact_repulsion, gradient, kl_divergence
from tsne_testdata import gaussian_blobs


def _affinities(n, seed=0, perplexity=8.0):
    X, _ = gaussian_blobs(n, 6, 3, seed=seed)
    return TSNE(perplexity=perplexity, random_state=seed).optimizer(X).affinities


def _dense_kl(y, P):
    diff = y.unsqueeze(1) - y.unsqueeze(0)
    w = 1.0 / (1.0 + diff.square().sum(-1))
    w = w * (1 - torch.eye(len(y), dtype=y.dtype))
    q = w / w.sum()
    mask = P > 0
    return (P[mask] * torch.log(P[mask] / q[mask])).sum()


def test_exact_gradient_equals_autograd_of_kl():
    P = _affinities(80)
    P64 = P.to(torch.device("cpu"), torch.float64)
    dense = P64.to_dense()
    y = (torch.randn(80, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 3).requires_grad_(True)
    _dense_kl(y, dense).backward()
    ours, z = gradient(y.detach(), P64, 1.0, "exact")
    reference = y.grad / 4  # the engine works in openTSNE's units, dKL/dy / 4
    assert torch.linalg.norm(ours - reference) / torch.linalg.norm(reference) < 1e-5
    assert math.isclose(kl_divergence(y.detach(), P64, float(z)), float(_dense_kl(y.detach(), dense)), rel_tol=1e-7)


@pytest.mark.parametrize("pairs", [1, 50, 997, 1 << 18])
@pytest.mark.parametrize("dim", [2, 3])
def test_exact_repulsion_is_the_dense_sum_for_any_block_size(monkeypatch, pairs, dim):
    """Blocks of one row up to the whole triangle (as on a GPU) give r_i = sum_j w_ij^2 (y_i - y_j)
    and Z = sum_{i != j} w_ij of the dense float64 formula."""
    monkeypatch.setattr(gradients, "CPU_BLOCK_ELEMENTS", pairs)
    y = torch.randn(301, dim, dtype=torch.float64, generator=torch.Generator().manual_seed(dim)) * 4
    diff = y.unsqueeze(1) - y.unsqueeze(0)
    w = (1.0 / (1.0 + diff.square().sum(-1))) * (1 - torch.eye(301, dtype=torch.float64))
    repulsion, z = exact_repulsion(y)
    torch.testing.assert_close(repulsion, ((w * w).unsqueeze(-1) * diff).sum(1), rtol=1e-12, atol=1e-14)
    assert math.isclose(float(z), float(w.sum()), rel_tol=1e-12)


def test_exaggerated_gradient_scales_only_the_attraction():
    P = _affinities(60, seed=2).to(torch.device("cpu"), torch.float64)
    dense = P.to_dense()
    y = (torch.randn(60, 2, dtype=torch.float64) * 2).requires_grad_(True)
    diff = y.unsqueeze(1) - y.unsqueeze(0)
    w = 1.0 / (1.0 + diff.square().sum(-1))
    off = 1 - torch.eye(60, dtype=torch.float64)
    # alpha * (-sum p log w) + log Z: the exaggerated objective up to constants
    objective = -7.0 * (dense * torch.log(w)).sum() + torch.log((w * off).sum())
    objective.backward()
    ours, _ = gradient(y.detach(), P, 7.0, "exact")
    assert torch.linalg.norm(ours - y.grad / 4) / torch.linalg.norm(y.grad / 4) < 1e-10


def test_attraction_equals_dense_sum_including_extra_rows():
    P = _affinities(150, seed=3)
    assert P.table.shape[0] > 150, "hub points continue on extra rows"
    y = torch.randn(150, 2) * 5
    dense = P.to_dense().float()
    diff = y.unsqueeze(1) - y.unsqueeze(0)
    expected = ((dense / (1 + diff.square().sum(-1))).unsqueeze(-1) * diff).sum(1)
    torch.testing.assert_close(attraction(y, P), expected, rtol=1e-4, atol=1e-9)
    torch.testing.assert_close(attraction(y, P, attraction_table), expected, rtol=1e-4, atol=1e-9)


def _clustered_layout(n, seed):
    """A t-SNE-like layout: 10 tight clusters spread over about +-40."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(10, 2, generator=g) * 20
    return centres[torch.randint(0, 10, (n,), generator=g)] + torch.randn(n, 2, generator=g) * 2


def test_fft_gradient_within_one_percent_of_exact_at_2000_points():
    X, _ = gaussian_blobs(2000, 10, 10, seed=4)
    P = TSNE(random_state=0).optimizer(X).affinities
    for y in (_clustered_layout(2000, 0), torch.randn(2000, 2) * 1e-4, torch.randn(2000, 2) * 3):
        exact, z_exact = gradient(y, P, 1.0, "exact")
        fft, z_fft = gradient(y, P, 1.0, "fft")
        assert torch.linalg.norm(fft - exact) / torch.linalg.norm(exact) < 1e-2
        assert abs(float(z_fft) / float(z_exact) - 1) < 1e-3


def test_fft_repulsion_terms_match_exact_in_float64():
    y = _clustered_layout(500, 1).double()
    rep_fft, z_fft = fft_repulsion(y)
    rep_exact, z_exact = exact_repulsion(y)
    assert torch.linalg.norm(rep_fft - rep_exact) / torch.linalg.norm(rep_exact) < 5e-3
    assert abs(float(z_fft / z_exact) - 1) < 1e-3


def test_fft_repulsion_in_2d_converges_to_exact_at_the_order_of_its_nodes():
    """Lagrange interpolation with p nodes per box (p = 5 in 2-D): halving the box cuts the error
    about 2^p-fold."""
    y = _clustered_layout(3000, 3).double() * 2  # clusters of std 4 over ~150 units: a late layout
    rep_exact, z_exact = exact_repulsion(y)
    errors = []
    for box in (1.0, 0.5):
        rep_fft, z_fft = fft_repulsion(y, box_width=box)
        errors.append(float(torch.linalg.norm(rep_fft - rep_exact) / torch.linalg.norm(rep_exact)))
        assert abs(float(z_fft / z_exact) - 1) < 1e-3
    p = interpolation_points(2)
    assert errors[0] < 0.02, errors  # p = 5: measured 0.36% and 0.012%, a ratio of 29 against 2^5 = 32
    assert errors[0] / errors[1] > 2 ** p / 2, errors


def test_padded_transforms_equal_transforms_of_the_padded_grid():
    from nbviz.tsne.fft_repulsion import _cropped_irfftn, _padded_rfftn

    g = torch.Generator().manual_seed(5)
    for dim in (2, 3):
        grid = torch.randn(2, *([6] * dim), generator=g, dtype=torch.float64)
        padded = torch.zeros(2, *([12] * dim), dtype=torch.float64)
        padded[(slice(None),) + (slice(0, 6),) * dim] = grid
        axes = tuple(range(1, dim + 1))
        spectrum = _padded_rfftn(grid, 12)
        torch.testing.assert_close(spectrum, torch.fft.rfftn(padded, dim=axes))
        torch.testing.assert_close(_cropped_irfftn(spectrum, 12), grid)


def test_lagrange_weights_reproduce_quadratics_and_sum_to_one():
    t = torch.linspace(0, 1, 11, dtype=torch.float64)
    weights = lagrange_weights(t, 3)
    nodes = torch.tensor([1 / 6, 1 / 2, 5 / 6], dtype=torch.float64)
    torch.testing.assert_close(weights.sum(-1), torch.ones_like(t))
    torch.testing.assert_close((weights * nodes**2).sum(-1), t**2)


def test_fft_friendly_sizes():
    assert [fft_friendly(n) for n in (50, 51, 61, 97, 128)] == [50, 54, 64, 100, 128]


def _clustered_layout_3d(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(20, 3, generator=g) * 5
    return centres[torch.randint(0, 20, (n,), generator=g)] + torch.randn(n, 3, generator=g)


def test_fft_repulsion_in_3d_converges_to_exact_at_third_order():
    """Quadratic Lagrange interpolation: the error falls as spacing^3 (box 1.5 -> 1.0: 3.4x)."""
    y = _clustered_layout_3d(1500, 2).double()
    rep_exact, z_exact = exact_repulsion(y)
    errors = []
    for box in (1.5, 1.0):  # node spacing 0.5 (the default 3-D grid) and 1/3
        rep_fft, z_fft = fft_repulsion(y, box_width=box)
        errors.append(float(torch.linalg.norm(rep_fft - rep_exact) / torch.linalg.norm(rep_exact)))
        assert abs(float(z_fft / z_exact) - 1) < 5e-3
    assert errors[0] < 0.06, errors
    assert errors[0] / errors[1] > 2.5, errors


def test_3d_runs_choose_the_fft_grid_once_it_is_cheaper():
    from nbviz.tsne.gradients import choose_repulsion

    assert choose_repulsion(_clustered_layout_3d(500, 0), "auto") == "exact"
    assert choose_repulsion(_clustered_layout_3d(200_000, 0) * 0.3, "auto") == "fft"
    X, _ = gaussian_blobs(800, 10, 5, seed=1)
    kl = {}
    for method in ("fft", "exact"):
        run = TSNE(n_components=3, method=method, n_iter=300, random_state=0)
        layout = run.fit_transform(X)
        assert layout.shape == (800, 3) and np.isfinite(layout).all()
        kl[method] = run.kl_divergence_
    # A gradient a few percent off (like Barnes-Hut's) reaches about the same optimum.
    assert kl["fft"] <= 1.05 * kl["exact"], kl
