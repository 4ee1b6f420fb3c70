"""Placing new points into a fitted embedding, the reference points fixed (openTSNE's `transform`).

Each new point i is placed on its own: its input affinities are p_{j|i} over its k = 3 * perplexity
nearest reference points (bandwidth calibrated to the perplexity, rows summing to 1), its output
similarities q_{j|i} = w_ij / Z_i with w_ij = 1 / (1 + |y_i - r_j|^2) and Z_i = sum_j w_ij over
ALL reference points r_j. Minimising sum_j p_{j|i} log(p_{j|i} / q_{j|i}) gives (divided by 4):

  g_i = alpha sum_j p_{j|i} w_ij (y_i - r_j) - (1 / Z_i) sum_j w_ij^2 (y_i - r_j)

New points neither attract nor repel each other. Defaults are openTSNE's: perplexity 5, start at
the median of the 25 nearest reference points' positions, 250 iterations at learning rate 0.1,
exaggeration 1.5, momentum 0.8, each point's gradient clipped to norm 0.25.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from .affinities import calibrate_conditional
from .config import check_positive
from .descent import momentum_step
from .errors import TSNEError
from .neighbors import pair_sq_distances, search_against

# Reference points per block of the repulsion sum: keeps each (new, block) array cache-sized.
_BLOCK_PAIRS = 1 << 18


@dataclass(frozen=True)
class TransformSettings:
    """openTSNE's defaults for placing new points (see the module docstring)."""

    perplexity: float = 5.0
    init_neighbors: int = 25
    n_iter: int = 250
    learning_rate: float = 0.1
    exaggeration: float = 1.5
    momentum: float = 0.8
    max_grad_norm: float = 0.25

    def __post_init__(self) -> None:
        for name in ("perplexity", "learning_rate", "exaggeration", "max_grad_norm"):
            check_positive(name, getattr(self, name))
        if not 0 <= self.momentum < 1:
            raise TSNEError(f"momentum must be in [0, 1), got {self.momentum!r}")
        for name, minimum in (("init_neighbors", 1), ("n_iter", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise TSNEError(f"{name} must be an int >= {minimum}, got {value!r}")


@dataclass(frozen=True)
class ReferenceNeighbors:
    """For each new point, its nearest reference points (nearest first) and their affinities.

    `indices` (M, k) with k = max(init_neighbors, 3 * perplexity) capped at the reference size;
    `p` (M, k_p) holds p_{j|i} over the first k_p = 3 * perplexity of them (rows sum to 1).
    """

    indices: torch.Tensor
    p: torch.Tensor

    def starting_positions(self, reference_layout: torch.Tensor, init_neighbors: int) -> torch.Tensor:
        """Each new point's start: the coordinate-wise median of its `init_neighbors` nearest
        reference points' positions in `reference_layout`."""
        return reference_layout[self.indices[:, :init_neighbors]].median(dim=1).values.clone()


def reference_neighbors(
    reference_data: torch.Tensor, new_data: torch.Tensor, settings: TransformSettings = TransformSettings(),
) -> ReferenceNeighbors:
    """Exact nearest reference rows of each new row and the calibrated p_{j|i} (module docstring)."""
    n_reference = reference_data.shape[0]
    if new_data.ndim != 2 or new_data.shape[1] != reference_data.shape[1]:
        got = new_data.shape[1] if new_data.ndim == 2 else f"shape {tuple(new_data.shape)}"
        raise TSNEError(f"the new points have {got} features but the embedding was fitted on "
                        f"{reference_data.shape[1]}; pass rows with the same columns, in the same order")
    if n_reference < 2:
        raise TSNEError(f"placing points needs a reference of at least 2 points, got {n_reference}")
    affinity_k = min(n_reference, max(1, int(3 * settings.perplexity)))
    perplexity = min(settings.perplexity, max(1.0, affinity_k / 3))  # as in fitting: 3 * perplexity <= k
    k = min(n_reference, max(settings.init_neighbors, affinity_k))
    centre = reference_data.mean(dim=0)
    base, queries = reference_data - centre, new_data.to(reference_data) - centre
    indices = search_against(queries, base, k)
    sq = pair_sq_distances(queries, base, indices)
    sq, order = torch.sort(sq, dim=1, stable=True)
    indices = torch.gather(indices, 1, order)
    p, _ = calibrate_conditional(sq[:, :affinity_k], perplexity)
    return ReferenceNeighbors(indices, p)


def place_points(
    reference_data: torch.Tensor,
    reference_layout: torch.Tensor,
    new_data: torch.Tensor,
    settings: TransformSettings = TransformSettings(),
    callback: Callable[[int, torch.Tensor], Any] | None = None,
    neighbors: ReferenceNeighbors | None = None,
) -> torch.Tensor:
    """Layout (M, n_components) of the M rows of new_data against the fixed reference layout.

    `callback(iteration, layout)` runs after each iteration (a truthy return stops early); the
    layout tensor is changed in place by the next iteration, so copy it to keep it.
    `neighbors`: the result of `reference_neighbors` for these rows, when already computed.
    """
    if neighbors is None:
        neighbors = reference_neighbors(reference_data, new_data, settings)
    p = neighbors.p.to(reference_layout.dtype)
    attract_to = neighbors.indices[:, : p.shape[1]]
    layout = neighbors.starting_positions(reference_layout, settings.init_neighbors)
    update, gains = torch.zeros_like(layout), torch.ones_like(layout)
    for iteration in range(settings.n_iter):
        grad = placement_gradient(layout, reference_layout, attract_to, p, settings.exaggeration)
        norms = grad.norm(dim=1, keepdim=True)
        grad.mul_(settings.max_grad_norm / norms.clamp_min(settings.max_grad_norm))
        momentum_step(layout, update, gains, grad, settings.learning_rate, settings.momentum, None)
        if callback is not None and callback(iteration + 1, layout):
            break
    return layout


def placement_gradient(
    y: torch.Tensor, reference: torch.Tensor, neighbors: torch.Tensor, p: torch.Tensor, exaggeration: float,
) -> torch.Tensor:
    """g_i = alpha sum_j p_{j|i} w_ij (y_i - r_j) - (1/Z_i) sum_j w_ij^2 (y_i - r_j) (module docstring).

    The attraction runs over each point's listed neighbours; the repulsion and Z_i over every
    reference point, by blocks of reference rows, as matrix products:
    |y_i - r_j|^2 = |y_i|^2 + |r_j|^2 - 2 y_i.r_j and sum_j w_ij^2 (y_i - r_j) = y_i sum_j w_ij^2 - (W^2 R)_i
    (no M x B x n_components array; the rounding of the expanded square is far below w's scale).
    """
    diffs = y.unsqueeze(1) - reference[neighbors]
    w = 1.0 / (1.0 + diffs.square().sum(dim=2))
    attraction = ((p * w).unsqueeze(2) * diffs).sum(dim=1)
    weighted = torch.zeros_like(y)
    w2_total = torch.zeros((y.shape[0], 1), dtype=y.dtype, device=y.device)
    z = torch.zeros((y.shape[0], 1), dtype=torch.float64, device=y.device)
    y_sq = y.square().sum(dim=1, keepdim=True)
    block = max(1, _BLOCK_PAIRS // max(1, y.shape[0]))
    for start in range(0, reference.shape[0], block):
        r = reference[start:start + block]
        sq = torch.addmm(y_sq + r.square().sum(dim=1), y, r.T, alpha=-2.0).clamp_min_(0.0)
        wb = sq.add_(1.0).reciprocal_()
        z += wb.sum(dim=1, keepdim=True, dtype=torch.float64)
        wb.square_()
        w2_total += wb.sum(dim=1, keepdim=True)
        weighted += wb @ r
    repulsion = y * w2_total - weighted
    return exaggeration * attraction - repulsion / z.to(y.dtype)
