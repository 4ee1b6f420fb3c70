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

from .neighbors import index_dtype

#: Bisection stops once |H_i - log(perplexity)| <= this for every row (H in nats).
ENTROPY_TOLERANCE = 1e-5
_MAX_BISECTION_STEPS = 200
# Cost of one extra table row (its owner gather and final index_add_) in table slots.
_EXTRA_ROW_COST = 8
# Widest table considered: far above any typical degree (3 * perplexity neighbours each way).
_MAX_WIDTH = 4096
# Table widths above this are multiples of it. The compiled attraction kernel runs each row in
# vectors of 8 (AVX2) or 16 (AVX-512) float32 lanes, and a width that is not a multiple adds a
# masked remainder per row that costs as much as several full vectors: the pass took 35.6 ms at
# W = 52 and 27.2 ms at W = 48 (same slots) on a 70,000-point P, 20.5 against 17.2 ms on the MiniLM
# vocabulary's (W = 99 against 96; 2 cores, AVX2). Small widths (tiny perplexities) stay free.
_WIDTH_MULTIPLE = 16
# Entries per block of the blocked passes (calibration, mutual-pair search, table filling):
# 8 MB of float64, so the work arrays stay small next to the N x k results at any N.
_BLOCK_ELEMENTS = 1 << 20


def calibrate_conditional(
    sq_distances: torch.Tensor, perplexity: float, dtype: torch.dtype = torch.float64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Conditional probabilities p_{j|i} = exp(-beta_i d_ij^2) / sum_l exp(-beta_i d_il^2).

    beta_i is found by vectorised bisection in float64 so that the entropy
    H_i = -sum_j p_{j|i} log p_{j|i} = log(sum_j w_ij) + beta_i sum_j p_{j|i} d_ij^2
    matches log(perplexity) within ENTROPY_TOLERANCE (distances are shifted by the row
    minimum first, which leaves p unchanged and keeps the largest weight at exactly 1).
    Rows whose target is out of reach (e.g. all distances equal) end at the closest end.
    Rows are calibrated in blocks of about _BLOCK_ELEMENTS entries, so the float64 work arrays
    stay small whatever N is. Returns (p (N, k) in `dtype` with rows summing to 1, beta (N,) float64).
    """
    n, k = sq_distances.shape
    p = torch.empty((n, k), dtype=dtype, device=sq_distances.device)
    beta = torch.empty(n, dtype=torch.float64, device=sq_distances.device)
    for rows in _row_blocks(n, k):
        p[rows], beta[rows] = _calibrate_rows(sq_distances[rows], perplexity)
    return p, beta


def _calibrate_rows(sq_distances: torch.Tensor, perplexity: float) -> tuple[torch.Tensor, torch.Tensor]:
    """calibrate_conditional on one block of rows."""
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


def joint_probabilities(
    indices: torch.Tensor, conditional: torch.Tensor, perplexity: float, dtype: torch.dtype = torch.float64,
) -> SparseAffinities:
    """Symmetrise p_{j|i} on the kNN graph into p_ij = (p_{j|i} + p_{i|j}) / 2N, stored sparse.

    Point i's slots hold first its own k neighbours j, with p_ij = (p_{j|i} + p_{i|j}) / 2N where
    p_{i|j} is nonzero only when i is also among j's neighbours (a mutual pair, found by binary
    search of i in j's sorted neighbour list), then the points l that list i while i does not
    list them, with p_il = p_{i|l} / 2N. The values are renormalised to sum to 1 (sums in
    float64) and stored in `dtype`; indices are int32 below 2^31 points. Everything is done by
    blocks of rows: peak memory is the table plus a few N x k arrays, never an N x N matrix or a
    sorted (2 N k)-edge list.
    """
    n, k = indices.shape
    device = indices.device
    neighbours = indices.to(index_dtype(n))
    reverse, mutual = _reverse_conditionals(neighbours, conditional)
    incoming = torch.zeros(n, dtype=torch.int64, device=device)
    total = torch.zeros((), dtype=torch.float64, device=device)
    for rows in _row_blocks(n, k):
        one_way = ~mutual[rows]
        incoming += torch.bincount(neighbours[rows][one_way], minlength=n)
        block = conditional[rows].to(torch.float64)
        total += block.sum() + reverse[rows].sum(dtype=torch.float64) + block[one_way].sum()
    layout = _TableLayout(incoming + k, n, dtype)
    total = float(total)  # sum of p_{j|i} + p_{i|j} over ordered pairs: 2N up to rounding
    entropy = 0.0
    filled = k + torch.zeros(n, dtype=torch.int64, device=device)  # next free slot of each point
    for rows in _row_blocks(n, k):
        owners = torch.arange(rows.start, rows.stop, device=device).unsqueeze(1).expand(-1, k)
        forward = (conditional[rows].to(torch.float64) + reverse[rows]) / total
        layout.place(owners, torch.arange(k, device=device).expand_as(owners), neighbours[rows], forward)
        entropy += float(torch.xlogy(forward, forward).sum())
        one_way = ~mutual[rows]
        destinations = neighbours[rows][one_way].long()
        slots = filled[destinations] + _rank_among_equal(destinations)
        filled += torch.bincount(destinations, minlength=n)
        backward = conditional[rows][one_way].to(torch.float64) / total
        layout.place(destinations, slots, owners[one_way], backward)
        entropy += float(torch.xlogy(backward, backward).sum())
    return SparseAffinities(
        table=layout.table, weights=layout.weights, row_owner=layout.row_owner, n_points=n,
        entropy_term=entropy, perplexity=perplexity,
    )


def _row_blocks(n: int, width: int) -> list[slice]:
    """Slices of rows holding about _BLOCK_ELEMENTS entries of an (n, width) array each."""
    rows = max(1, _BLOCK_ELEMENTS // max(1, width))
    return [slice(start, min(n, start + rows)) for start in range(0, n, rows)]


def _rank_among_equal(values: torch.Tensor) -> torch.Tensor:
    """For each entry, how many earlier entries hold the same value (0 for the first of each)."""
    ordered, order = torch.sort(values, stable=True)
    position = torch.arange(values.numel(), device=values.device)
    first = torch.searchsorted(ordered, ordered)  # index of the first equal value in sorted order
    rank = torch.empty_like(position)
    rank[order] = position - first
    return rank


def _reverse_conditionals(neighbours: torch.Tensor, conditional: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For every kNN edge i -> j: (p_{i|j} or 0 when i is not among j's neighbours, whether it is).

    Each row's neighbour list is sorted once; then, by blocks of rows i, the sorted lists of
    their neighbours j are gathered and i is binary-searched in each (N k^2 gathered entries in
    all, in blocks of about _BLOCK_ELEMENTS).
    """
    n, k = neighbours.shape
    sorted_rows = torch.empty_like(neighbours)
    ranks = torch.empty((n, k), dtype=torch.int16 if k < 2**15 else torch.int64, device=neighbours.device)
    for rows in _row_blocks(n, k):
        values, order = torch.sort(neighbours[rows], dim=1)
        sorted_rows[rows], ranks[rows] = values, order.to(ranks.dtype)
    reverse = torch.zeros_like(conditional)
    mutual = torch.zeros((n, k), dtype=torch.bool, device=neighbours.device)
    for rows in _row_blocks(n, k * k):
        others = neighbours[rows].long()
        lists = sorted_rows[others]  # (rows, k, k): the sorted neighbour list of each neighbour
        me = torch.arange(rows.start, rows.stop, device=neighbours.device, dtype=neighbours.dtype)
        me = me.view(-1, 1, 1).expand(-1, k, 1).contiguous()
        position = torch.searchsorted(lists, me).clamp_max_(k - 1)
        found = (lists.gather(2, position) == me).squeeze(2)
        slot = ranks[others, position.squeeze(2)].long()
        reverse[rows] = torch.where(found, conditional[others, slot], 0.0)
        mutual[rows] = found
    return reverse, mutual


class _TableLayout:
    """Where each slot of each point goes in the (R, W) table, and the table being filled.

    Point i's slot s (0 <= s < degree_i) lies in row i at column s while s < W, else in row
    extra_start[i] + s // W - 1 at column s % W; W minimises the table's cost (_table_width).
    Unfilled slots keep pointing at their owner with weight 0; weights are stored in `dtype`.
    """

    def __init__(self, degree: torch.Tensor, n: int, dtype: torch.dtype):
        self.width = _table_width(degree)
        extra = torch.div(degree - 1, self.width, rounding_mode="floor").clamp_min(0)
        self.extra_start = n + torch.cumsum(extra, 0) - extra
        points = torch.arange(n, device=degree.device, dtype=index_dtype(n))
        self.row_owner = torch.cat([points, torch.repeat_interleave(points, extra)])
        self.table = self.row_owner.unsqueeze(1).repeat(1, self.width)
        self.weights = torch.zeros(self.table.shape, dtype=dtype, device=degree.device)

    def place(self, owners: torch.Tensor, slots: torch.Tensor, others: torch.Tensor, values: torch.Tensor) -> None:
        """Write p(owner, other) = value into slot `slots` of each owner (all of one shape)."""
        chunk = torch.div(slots, self.width, rounding_mode="floor")
        row = torch.where(chunk == 0, owners, self.extra_start[owners] + chunk - 1)
        column = slots - chunk * self.width
        self.table[row, column] = others.to(self.table.dtype)
        self.weights[row, column] = values.to(self.weights.dtype)


def _table_width(degree: torch.Tensor) -> int:
    """The W minimising sum_i ceil(d_i / W) W + _EXTRA_ROW_COST * (ceil(d_i / W) - 1) over the
    point degrees d_i, searched over 1.._WIDTH_MULTIPLE and the multiples of _WIDTH_MULTIPLE up
    to max d rounded up to one (at most _MAX_WIDTH), with one term per distinct degree (hub
    points of real embeddings reach degrees in the tens of thousands: a term per degree value
    would make a max-degree-squared array)."""
    values, counts = torch.unique(degree, return_counts=True)
    values, counts = values.to(torch.float64), counts.to(torch.float64)
    widest = min(-(-int(values.max()) // _WIDTH_MULTIPLE) * _WIDTH_MULTIPLE, _MAX_WIDTH)
    every = torch.arange(1, widest + 1, dtype=torch.float64, device=degree.device)
    widths = every[(every <= _WIDTH_MULTIPLE) | (every % _WIDTH_MULTIPLE == 0)]
    rows_needed = torch.ceil(values.unsqueeze(0) / widths.unsqueeze(1)).clamp_min(1)  # (widths, distinct degrees)
    cost = (counts * rows_needed).sum(1) * widths + _EXTRA_ROW_COST * (counts * (rows_needed - 1)).sum(1)
    return int(widths[torch.argmin(cost)])
