"""Input affinities: per-point Gaussian bandwidths by bisection, then a sparse symmetric P.

P is stored as a fixed-width neighbour table: row i of an (R, W) table lists up to W
neighbours of its owner point; points with more than W symmetric neighbours continue on
extra rows appended after the first N (R - N of them, usually a few percent). Gathering
from a dense table is several times faster than scattering over an edge list, and the
extra rows keep the width near the typical degree even when a few hub points have
hundreds of neighbours.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

#: Bisection stops once |H_i - log(perplexity)| <= this for every row (H in nats).
ENTROPY_TOLERANCE = 1e-5
_MAX_BISECTION_STEPS = 200
# Cost of one extra table row (its owner gather and final index_add_) in table slots.
_EXTRA_ROW_COST = 8
# Widest table considered: far above any typical degree (3 * perplexity neighbours each way).
_MAX_WIDTH = 4096


def calibrate_conditional(sq_distances: torch.Tensor, perplexity: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Conditional probabilities p_{j|i} = exp(-beta_i d_ij^2) / sum_l exp(-beta_i d_il^2).

    beta_i is found by vectorised bisection in float64 so that the entropy
    H_i = -sum_j p_{j|i} log p_{j|i} = log(sum_j w_ij) + beta_i sum_j p_{j|i} d_ij^2
    matches log(perplexity) within ENTROPY_TOLERANCE (distances are shifted by the row
    minimum first, which leaves p unchanged and keeps the largest weight at exactly 1).
    Rows whose target is out of reach (e.g. all distances equal) end at the closest end.
    Returns (p (N, k) float64 with rows summing to 1, beta (N,) float64).
    """
    d = sq_distances.to(torch.float64)
    d = d - d.min(dim=1, keepdim=True).values
    n = d.shape[0]
    target = math.log(perplexity)
    spread = d.mean(dim=1)
    beta = torch.where(spread > 0, 1.0 / spread.clamp_min(1e-300), torch.ones_like(spread))
    low = torch.zeros_like(beta)
    high = torch.full_like(beta, math.inf)
    active = torch.arange(n, device=d.device)
    for _ in range(_MAX_BISECTION_STEPS):
        if active.numel() == 0:
            break
        b, da = beta[active], d[active]
        weights = torch.exp(-b.unsqueeze(1) * da)
        total = weights.sum(dim=1)
        entropy = torch.log(total) + b * (weights * da).sum(dim=1) / total
        excess = entropy - target
        converged = excess.abs() <= ENTROPY_TOLERANCE
        too_flat = excess > 0  # entropy too high: narrow the kernel (larger beta)
        lo, hi = low[active], high[active]
        lo = torch.where(too_flat, b, lo)
        hi = torch.where(too_flat, hi, b)
        stepped = torch.where(torch.isinf(hi), b * 2.0, (lo + hi) * 0.5)
        keep = ~converged
        low[active], high[active] = lo, hi
        beta[active] = torch.where(keep, stepped, b)
        active = active[keep]
    weights = torch.exp(-beta.unsqueeze(1) * d)
    return weights / weights.sum(dim=1, keepdim=True), beta


def perplexity_of_rows(p: torch.Tensor) -> torch.Tensor:
    """exp(H_i) with H_i = -sum_j p_ij log p_ij (0 log 0 = 0), computed in float64."""
    p = p.to(torch.float64)
    terms = torch.where(p > 0, p * torch.log(p.clamp_min(1e-300)), torch.zeros_like(p))
    return torch.exp(-terms.sum(dim=1))


@dataclass
class SparseAffinities:
    """Symmetric joint probabilities p_ij = (p_{j|i} + p_{i|j}) / 2N, sum_ij p_ij = 1.

    `table` (R, W) holds neighbour indices and `weights` (R, W) the matching p_ij for the point
    `row_owner[r]` (row_owner[:N] = 0..N-1; rows N.. continue the rows of high-degree points).
    Unused slots point at the owner itself with weight 0. Each undirected pair appears under
    both of its points. `entropy_term` is sum_ij p_ij log p_ij (float64), the constant part of
    the KL divergence.
    """

    table: torch.Tensor
    weights: torch.Tensor
    row_owner: torch.Tensor
    n_points: int
    entropy_term: float
    perplexity: float

    def to_dense(self) -> torch.Tensor:
        """The N x N matrix P (for tests and small N only)."""
        n = self.n_points
        dense = torch.zeros((n, n), dtype=torch.float64, device=self.table.device)
        rows = self.row_owner.long().unsqueeze(1).expand_as(self.table)
        dense.index_put_((rows.reshape(-1), self.table.long().reshape(-1)), self.weights.reshape(-1).double(), accumulate=True)
        return dense

    def to(self, device: torch.device, dtype: torch.dtype) -> "SparseAffinities":
        """A copy with index tensors on `device` and probabilities in `dtype`."""
        return SparseAffinities(
            self.table.to(device), self.weights.to(device, dtype), self.row_owner.to(device),
            self.n_points, self.entropy_term, self.perplexity,
        )


def joint_probabilities(indices: torch.Tensor, conditional: torch.Tensor, perplexity: float) -> SparseAffinities:
    """Symmetrise p_{j|i} on the kNN graph into p_ij = (p_{j|i} + p_{i|j}) / 2N, stored sparse."""
    n, k = indices.shape
    device = indices.device
    rows = torch.arange(n, device=device).repeat_interleave(k)
    cols = indices.reshape(-1)
    values = conditional.reshape(-1).to(torch.float64) / (2.0 * n)
    both = torch.sparse_coo_tensor(
        torch.stack([torch.cat([rows, cols]), torch.cat([cols, rows])]),
        torch.cat([values, values]), (n, n), check_invariants=False,
    ).coalesce()
    e_rows, e_cols = both.indices()
    e_vals = both.values()
    e_vals = e_vals / e_vals.sum()
    entropy_term = float((e_vals * torch.log(e_vals)).sum())
    return _pack_table(n, e_rows, e_cols, e_vals, entropy_term, perplexity)


def _table_width(degree: torch.Tensor) -> int:
    """The W minimising sum_i ceil(d_i / W) W + _EXTRA_ROW_COST * (ceil(d_i / W) - 1) over the
    point degrees d_i, searched over 1..min(max d, _MAX_WIDTH) with one term per distinct degree
    (hub points of real embeddings reach degrees in the tens of thousands: a term per degree
    value would make a max-degree-squared array)."""
    values, counts = torch.unique(degree, return_counts=True)
    values, counts = values.to(torch.float64), counts.to(torch.float64)
    widths = torch.arange(1, max(2, min(int(values.max()), _MAX_WIDTH) + 1), dtype=torch.float64, device=degree.device)
    rows_needed = torch.ceil(values.unsqueeze(0) / widths.unsqueeze(1)).clamp_min(1)  # (widths, distinct degrees)
    cost = (counts * rows_needed).sum(1) * widths + _EXTRA_ROW_COST * (counts * (rows_needed - 1)).sum(1)
    return int(widths[torch.argmin(cost)])


def _pack_table(n, rows, cols, values, entropy_term, perplexity) -> SparseAffinities:
    """Lay row-sorted edges into an (R, W) table; a point of degree d takes ceil(d / W) rows.

    W minimises the slots sum_i ceil(d_i / W) * W plus _EXTRA_ROW_COST per extra row.
    """
    device = rows.device
    degree = torch.bincount(rows, minlength=n)
    width = _table_width(degree)
    starts = torch.cumsum(degree, 0) - degree
    position = torch.arange(rows.numel(), device=device) - starts[rows]
    chunk = position // width  # 0 for the first W edges of a point, 1 for the next W, ...
    extra_per_point = torch.div(degree - 1, width, rounding_mode="floor").clamp_min(0)
    extra_start = n + torch.cumsum(extra_per_point, 0) - extra_per_point
    table_row = torch.where(chunk == 0, rows, extra_start[rows] + chunk - 1)
    n_rows = n + int(extra_per_point.sum())
    row_owner = torch.cat([torch.arange(n, device=device), torch.repeat_interleave(torch.arange(n, device=device), extra_per_point)])
    table = row_owner.unsqueeze(1).repeat(1, width)
    weights = torch.zeros((n_rows, width), dtype=torch.float64, device=device)
    table[table_row, position % width] = cols
    weights[table_row, position % width] = values
    return SparseAffinities(
        table=table, weights=weights, row_owner=row_owner, n_points=n, entropy_term=entropy_term, perplexity=perplexity,
    )
