"""The t-SNE gradient and KL divergence, in openTSNE's units.

With w_ij = 1 / (1 + |y_i - y_j|^2), Z = sum_{k != l} w_kl and q_ij = w_ij / Z:
  KL(P || Q) = sum_ij p_ij log(p_ij / q_ij)
  dKL/dy_i   = 4 sum_j (p_ij - q_ij) w_ij (y_i - y_j)
The functions here return the gradient divided by 4, with the attraction multiplied by the
exaggeration alpha:  g_i = alpha sum_j p_ij w_ij (y_i - y_j) - (1/Z) sum_j w_ij^2 (y_i - y_j),
which is what openTSNE's learning rate N / alpha is calibrated for.
"""
from __future__ import annotations

import math

import torch

from .affinities import SparseAffinities
from .fft_repulsion import estimated_cost, fft_repulsion

# Pairs per block in the exact repulsion and the KL sum: 1 MB float32 arrays stay in cache.
_EXACT_BLOCK_ELEMENTS = 1 << 18


def attraction_table(y: torch.Tensor, owner: torch.Tensor, table: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Per table row r: a_r = sum_m P[r, m] w(o, table[r, m]) (y_o - y_table[r, m]), o = owner[r].

    Written per coordinate on contiguous (R, W) arrays: D_c = y_oc - y_{table, c},
    pw = P / (1 + sum_c D_c^2), a_rc = sum_m pw D_c. torch.compile fuses it into one loop.
    """
    own = y[owner]
    diffs = [own[:, c].unsqueeze(1) - y[:, c][table] for c in range(y.shape[1])]
    squared = diffs[0] * diffs[0]
    for d in diffs[1:]:
        squared = squared + d * d
    pw = weights / (1.0 + squared)
    return torch.stack([(pw * d).sum(dim=1) for d in diffs], dim=1)


def attraction_table_eager(y: torch.Tensor, owner: torch.Tensor, table: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """attraction_table for eager torch: the same sums by blocks of rows that stay in cache,
    with in-place updates to avoid allocating (R, W) temporaries."""
    n_rows, width = table.shape
    block = max(1, _EXACT_BLOCK_ELEMENTS // max(1, width))
    out = torch.empty((n_rows, y.shape[1]), dtype=y.dtype, device=y.device)
    own = y[owner]
    columns = [y[:, c] for c in range(y.shape[1])]
    for start in range(0, n_rows, block):
        stop = min(n_rows, start + block)
        rows = table[start:stop]
        diffs = [own[start:stop, c, None] - col[rows] for c, col in enumerate(columns)]
        pw = diffs[0] * diffs[0]
        for d in diffs[1:]:
            pw.addcmul_(d, d)
        pw.add_(1.0)
        torch.div(weights[start:stop], pw, out=pw)
        for c, d in enumerate(diffs):
            out[start:stop, c] = torch.linalg.vecdot(pw, d)
    return out


def attraction(y: torch.Tensor, P: SparseAffinities, table_kernel=attraction_table_eager) -> torch.Tensor:
    """a_i = sum_j p_ij w_ij (y_i - y_j): per table row, then extra rows added to their owners."""
    per_row = table_kernel(y, P.row_owner, P.table, P.weights)
    n = P.n_points
    if per_row.shape[0] == n:
        return per_row
    return per_row[:n].index_add(0, P.row_owner[n:], per_row[n:])


def exact_repulsion(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """r_i = sum_j w_ij^2 (y_i - y_j) and Z = sum_{i != j} w_ij, exactly, by blocks of rows.

    Per coordinate the differences D_c = y_ic - y_jc are formed directly (never through
    ||a||^2 + ||b||^2 - 2ab), w = 1 / (1 + sum_c D_c^2), and r_ic = sum_j w_ij^2 D_c,ij.
    Blocks of about _EXACT_BLOCK_ELEMENTS pairs stay in cache. Returns (r, Z as float64).
    """
    n, dim = y.shape
    block = max(1, _EXACT_BLOCK_ELEMENTS // max(1, n))
    repulsion = torch.empty_like(y)
    z = torch.zeros((), dtype=torch.float64, device=y.device)
    columns = [y[:, c] for c in range(dim)]
    for start in range(0, n, block):
        stop = min(n, start + block)
        diffs = [col[start:stop, None] - col for col in columns]
        w = diffs[0] * diffs[0]
        for d in diffs[1:]:
            w.addcmul_(d, d)
        w.add_(1.0).reciprocal_()
        z = z + w.sum(dtype=torch.float64)
        w.square_()
        for c, d in enumerate(diffs):
            repulsion[start:stop, c] = torch.linalg.vecdot(w, d)
    return repulsion, z - n  # the n diagonal terms have w_ii = 1


#: exact_repulsion's cost per pair in the units of fft_repulsion.estimated_cost (ns, measured).
EXACT_COST_PER_PAIR = 9.0


def choose_repulsion(y: torch.Tensor, method: str) -> str:
    """'exact' or 'fft' for this layout: as asked, or for 'auto' whichever is estimated cheaper.

    exact ~ 9 N^2, FFT ~ 12 side^2 log2(side) + 100 N (side grows with the layout's span), so
    small N goes exact once the layout spreads out and large N always goes FFT.
    """
    if method != "auto":
        return method
    n = y.shape[0]
    if y.shape[1] != 2:
        return "exact"
    if EXACT_COST_PER_PAIR * n * n < 100.0 * n:
        return "exact"
    span = float(y.max() - y.min())
    return "fft" if estimated_cost(span, n) < EXACT_COST_PER_PAIR * n * n else "exact"


def repulsion(y: torch.Tensor, method: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(r, Z) by the exact sum or the FFT scheme ('exact' | 'fft' | 'auto', see choose_repulsion)."""
    return fft_repulsion(y) if choose_repulsion(y, method) == "fft" else exact_repulsion(y)


def log_kernel_expectation(y: torch.Tensor, P: SparseAffinities) -> float:
    """sum_ij p_ij log w_ij = -sum_ij p_ij log(1 + |y_i - y_j|^2), accumulated in float64."""
    n_rows, width = P.table.shape
    total = 0.0
    block = max(1, _EXACT_BLOCK_ELEMENTS // max(1, width * y.shape[1]))
    for start in range(0, n_rows, block):
        own = y[P.row_owner[start:start + block]].unsqueeze(1)
        diff = (own - y[P.table[start:start + block]]).to(torch.float64)
        total -= float((P.weights[start:start + block].to(torch.float64) * torch.log1p(diff.square().sum(dim=2))).sum())
    return total


def kl_divergence(y: torch.Tensor, P: SparseAffinities, z: float) -> float:
    """KL(P || Q) = sum p log p - sum p log w + log Z   (sum p = 1; true KL, no exaggeration)."""
    if P.n_points < 2 or z <= 0:
        return 0.0
    return P.entropy_term - log_kernel_expectation(y, P) + math.log(z)


def gradient(
    y: torch.Tensor, P: SparseAffinities, exaggeration: float, method: str, table_kernel=attraction_table_eager
) -> tuple[torch.Tensor, torch.Tensor]:
    """g_i = alpha sum_j p_ij w_ij (y_i - y_j) - r_i / Z  (dKL/dy_i / 4 at alpha = 1); returns (g, Z)."""
    rep, z = repulsion(y, method)
    attract = attraction(y, P, table_kernel)
    return exaggeration * attract - rep / z.to(y.dtype), z
