"""Renumbering points along the layout (nbviz.tsne.locality) changes where numbers sit, not what is computed."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nbviz.tsne import TSNE, locality
from nbviz.tsne.affinities import calibrate_conditional, joint_probabilities
from nbviz.tsne.gradients import gradient
from nbviz.tsne.locality import PointOrder, morton_order, relabelled, renumbering_due
from nbviz.tsne.neighbors import nearest_neighbors


@pytest.fixture(scope="module")
def affinities():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(600, 6, generator=g)
    found = nearest_neighbors(X, 30, "exact")
    conditional, _ = calibrate_conditional(found.sq_distances, 10.0, dtype=torch.float32)
    return joint_probabilities(found.indices, conditional, 10.0, dtype=torch.float32)


def test_morton_order_walks_the_z_curve():
    # one bit per axis: key = q_x + 2 q_y, so the curve visits (0,0), (1,0), (0,1), (1,1)
    corners = torch.tensor([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    assert morton_order(corners, bits=1).tolist() == [3, 2, 1, 0]
    # two bits: the four quadrants of a 4 x 4 lattice are visited one after another
    lattice = torch.tensor([[x, y] for y in range(4) for x in range(4)], dtype=torch.float32)
    walk = lattice[morton_order(lattice, bits=2)].tolist()
    assert walk[:4] == [[0, 0], [1, 0], [0, 1], [1, 1]]
    assert walk[4:8] == [[2, 0], [3, 0], [2, 1], [3, 1]]
    assert walk[-1] == [3, 3]


def test_relabelled_p_is_the_same_matrix_renumbered(affinities):
    P = affinities
    assert P.table.shape[0] > P.n_points, "the test needs extra rows (points of high degree)"
    order = torch.randperm(P.n_points, generator=torch.Generator().manual_seed(2))
    renumbered = relabelled(P, order)
    dense, dense_renumbered = P.to_dense(), renumbered.to_dense()
    assert torch.equal(dense_renumbered, dense[order][:, order])
    n = P.n_points
    assert torch.equal(renumbered.row_owner[:n], torch.arange(n, dtype=renumbered.row_owner.dtype))
    extra_owners = renumbered.row_owner[n:]
    assert bool((extra_owners[1:] >= extra_owners[:-1]).all()), "a point's extra rows stay together"
    assert renumbered.table.dtype == P.table.dtype and renumbered.weights.dtype == P.weights.dtype


def test_two_renumberings_undo_to_the_original_tensors(affinities):
    P = affinities
    first = PointOrder(order := torch.randperm(P.n_points), locality.inverse_permutation(order))
    second = PointOrder.along(torch.randn(P.n_points, 2))
    twice = relabelled(relabelled(P, first.order), second.order)
    both = first.then(second)
    assert torch.equal(twice.to_dense(), P.to_dense()[both.order][:, both.order])
    back = relabelled(twice, both.rank)
    assert torch.equal(back.table, P.table)
    assert torch.equal(back.weights, P.weights)
    assert torch.equal(back.row_owner, P.row_owner)


@pytest.mark.parametrize("method", ["exact", "fft"])
def test_the_gradient_does_not_depend_on_the_numbering(affinities, method):
    P = affinities
    y = torch.randn(P.n_points, 2, generator=torch.Generator().manual_seed(3)) * 8
    numbering = PointOrder.along(y)
    plain, z = gradient(y, P, 12.0, method)
    renumbered, z_renumbered = gradient(numbering.to_internal(y), relabelled(P, numbering.order), 12.0, method)
    # float32 sums in another order: a few ulps of the largest terms
    assert torch.allclose(numbering.to_user(renumbered), plain, rtol=0, atol=1e-5 * float(plain.abs().max()))
    assert float(z_renumbered) == pytest.approx(float(z), rel=1e-6)


def test_renumbering_is_due_on_the_cpu_at_once_then_every_few_iterations_from_the_size_on():
    cpu, n = torch.device("cpu"), locality.LOCALITY_MIN_POINTS
    every = locality.RENUMBER_EVERY
    assert [renumbering_due(i, n, cpu) for i in (0, 1, every, 2 * every, every + 1)] == [False, False, True, True, False]
    # P still in the input's order (a fresh run, or a new perplexity): at once, whatever the iteration
    assert renumbering_due(0, n, cpu, numbered=False) and renumbering_due(every + 1, n, cpu, numbered=False)
    assert not renumbering_due(every, n - 1, cpu) and not renumbering_due(0, n - 1, cpu, numbered=False)
    assert not renumbering_due(every, n, torch.device("meta"), numbered=False)


def test_a_renumbered_run_takes_the_same_path(digits, monkeypatch):
    X = digits[0][:700]
    settings = dict(perplexity=20, random_state=0, method="fft", n_iter=60, early_exaggeration_iter=30)
    plain = TSNE(**settings).optimizer(X)
    monkeypatch.setattr(locality, "LOCALITY_MIN_POINTS", 2)
    monkeypatch.setattr(locality, "RENUMBER_EVERY", 3)
    run = TSNE(**settings).optimizer(X)
    plain.run(10)
    run.run(10)
    assert run._order is not None, "the run renumbered its points"
    assert not torch.equal(run._order.order, torch.arange(len(X)))
    # the layout and every public read-out stay in the input's order; over a few steps the paths
    # differ only by float32 sums taken in another order (t-SNE's gains amplify that later on)
    span = float(plain.embedding.abs().max())
    assert np.abs(run.embedding.numpy() - plain.embedding.numpy()).max() < 1e-4 * span
    assert torch.equal(run.affinities.table, plain.affinities.table)
    assert torch.equal(run.affinities.weights, plain.affinities.weights)
    assert run.kl_divergence() == pytest.approx(plain.kl_divergence(), rel=1e-5)
    assert run.exact_kl_divergence() == pytest.approx(plain.exact_kl_divergence(), rel=1e-5)
    # to the end, both runs reach the same quality
    plain.run(50)
    run.run(50)
    assert run.exact_kl_divergence() == pytest.approx(plain.exact_kl_divergence(), rel=0.01)
    # a new perplexity rebuilds P in the input's order, and the run goes on renumbering
    run.set_perplexity(10)
    assert run._order is None
    run.run(3)
    assert run._order is not None and np.isfinite(run.embedding.numpy()).all()
