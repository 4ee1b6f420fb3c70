"""Numbering points along the layout so that the gradient's gathers stay in cache.

The attraction reads y at every neighbour in P's table, and the FFT repulsion spreads every
point onto grid nodes and reads them back. With points numbered as the user gave them, each
read lands anywhere in y or the grid: at N = 250,000 the table pass was bound by those scattered
reads. Numbered along a Z-order (Morton) curve over the layout, a point's neighbours, which
after the early phase sit next to it in the layout, sit next to it in memory too, and
consecutive points touch the same grid cells.

The optimizer keeps its layout in the user's order and only P in the curve's order: each step
gathers y into that order (N x d numbers), and scatters the gradient back.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .affinities import SparseAffinities

#: Bits per axis of the Z-order key: a 1024 x 1024 (2-D) or 1024^3 (3-D) lattice over the layout.
MORTON_BITS = 10
#: Table rows whose entries are renamed per block, so the block's renamed copy stays small (a
#: million points' table holds ~140M slots).
_RELABEL_ROWS = 1 << 16


def morton_order(y: torch.Tensor, bits: int = MORTON_BITS) -> torch.Tensor:
    """Point indices sorted by Z-order key: each coordinate quantised to `bits` bits over the
    layout's bounding box, q_c = floor((y_c - min_c) / (max_c - min_c) * (2^bits - 1)), and the
    key's bit b*d + c taken from bit b of q_c. Ties keep the original order (stable sort)."""
    low = y.min(dim=0).values
    extent = (y.max(dim=0).values - low).clamp_min(torch.finfo(y.dtype).tiny)
    quantised = ((y - low) / extent * (2**bits - 1)).long()
    dim = y.shape[1]
    key = torch.zeros(y.shape[0], dtype=torch.long, device=y.device)
    for bit in range(bits):
        for axis in range(dim):
            key |= ((quantised[:, axis] >> bit) & 1) << (bit * dim + axis)
    return torch.sort(key, stable=True).indices


def inverse_permutation(order: torch.Tensor) -> torch.Tensor:
    """rank with rank[order[j]] = j."""
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel(), dtype=order.dtype, device=order.device)
    return rank


def relabelled(P: SparseAffinities, order: torch.Tensor) -> SparseAffinities:
    """P with point order[j] renamed j, as a new SparseAffinities (P is not changed).

    Row j of the new table is the old row order[j], with every entry e replaced by rank[e]
    (rank = inverse of order); the extra rows follow, sorted (stably) by their new owner so a
    point's rows stay together. The same pairs and weights, so the gradient and KL are
    unchanged up to the order of floating-point additions.
    """
    renumbered = SparseAffinities(P.table, P.weights, P.row_owner, P.n_points, P.entropy_term, P.perplexity)
    renumber_in_place(renumbered, order)
    return renumbered


def renumber_in_place(P: SparseAffinities, order: torch.Tensor) -> None:
    """Make P `relabelled(P, order)` by replacing its tensors one at a time: while the new
    table is made, the old weights are not yet copied, so at most one of the two (R, W) arrays
    exists twice (a million points' table and weights are ~0.6 GB each). Entries are renamed
    in place by blocks of rows."""
    n = P.n_points
    rank = inverse_permutation(order).to(P.table.dtype)
    new_owner_of_extra = rank.index_select(0, P.row_owner[n:])
    extra_rows = torch.sort(new_owner_of_extra, stable=True).indices
    rows = torch.cat([order.to(torch.long), extra_rows + n])
    P.row_owner = torch.cat([torch.arange(n, dtype=P.row_owner.dtype, device=P.row_owner.device),
                             new_owner_of_extra.index_select(0, extra_rows)])
    P.table = P.table.index_select(0, rows)
    for start in range(0, P.table.shape[0], _RELABEL_ROWS):
        block = P.table[start : start + _RELABEL_ROWS]
        block.copy_(rank.index_select(0, block.reshape(-1)).view_as(block))
    P.weights = P.weights.index_select(0, rows)


@dataclass(frozen=True)
class PointOrder:
    """The numbering P is kept in: internal point j is the user's point `order[j]`, and the user's
    point i is internal point `rank[i]`."""

    order: torch.Tensor
    rank: torch.Tensor

    @staticmethod
    def along(y: torch.Tensor) -> "PointOrder":
        """The Z-order numbering of layout y (see morton_order)."""
        order = morton_order(y)
        return PointOrder(order, inverse_permutation(order))

    def then(self, inner: "PointOrder") -> "PointOrder":
        """This numbering followed by `inner`, a renumbering of this one's internal points."""
        order = self.order.index_select(0, inner.order)
        return PointOrder(order, inverse_permutation(order))

    def to_internal(self, values: torch.Tensor) -> torch.Tensor:
        """Rows of `values` (in the user's order) in the internal order."""
        return values.index_select(0, self.order)

    def to_user(self, values: torch.Tensor) -> torch.Tensor:
        """Rows of `values` (in the internal order) back in the user's order."""
        return values.index_select(0, self.rank)


#: Renumber from this many points on (on the CPU). Measured on warped digits, 750 iterations on 2
#: cores: 5,000 points no gain, 10,000 about 5%, 20,000 25% (12.5 s -> 9.3 s), 250,000 23% (109 s -> 84 s).
LOCALITY_MIN_POINTS = 15_000
#: Renumber every this many iterations: the layout forms during early exaggeration and then
#: mostly expands, so a numbering stays good for a while; each costs about one table pass.
RENUMBER_EVERY = 125


def renumbering_due(iteration: int, n_points: int, device: torch.device, numbered: bool = True) -> bool:
    """Whether the optimizer renumbers P's points before this iteration: on CPU runs of at least
    LOCALITY_MIN_POINTS points, at once while P is still in the input's order (`numbered` False),
    then every RENUMBER_EVERY iterations. Renumbering the start pays where the input's order is
    unrelated to P and a PCA start already groups neighbours (a 70,000-point Gaussian mixture:
    iterations 2-250 in 15.1 s instead of 17.5 s); on the MiniLM vocabulary and 20,000 warped
    digits it measured within noise (6.1-7.8 s against 6.4-7.3 s; 3.8-4.7 s against 3.8-4.6 s)."""
    if device.type != "cpu" or n_points < LOCALITY_MIN_POINTS:
        return False
    return not numbered or (iteration > 0 and iteration % RENUMBER_EVERY == 0)
