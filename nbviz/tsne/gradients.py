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
from collections.abc import Iterator

import torch

from .affinities import SparseAffinities
from .fft_repulsion import estimated_cost, fft_repulsion
from .native import native_exact_repulsion
from .scratch import scratch

# Pairs per block in the exact repulsion and the KL sum. On the CPU, 1 MB float32 arrays stay in
# cache. On an accelerator each block costs a handful of kernel launches, so blocks are as large
# as memory comfortably allows (16M pairs: about 200 MB of work arrays in 2-D).
CPU_BLOCK_ELEMENTS = 1 << 18
ACCELERATOR_BLOCK_ELEMENTS = 1 << 24


def block_elements(device: torch.device) -> int:
    """Pairs per block for the blocked loops on `device` (see CPU_BLOCK_ELEMENTS)."""
    return CPU_BLOCK_ELEMENTS if device.type == "cpu" else ACCELERATOR_BLOCK_ELEMENTS


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


def _table_blocks(y: torch.Tensor, owner: torch.Tensor, table: torch.Tensor, name: str) -> Iterator[tuple]:
    """Blocks of neighbour-table rows that stay in cache, in reused work arrays (see scratch).

    Yields (start, stop, D, S) for rows [start, stop): D_c = y_{owner, c} - y_{table, c} formed
    directly, shape (dim, rows, W), and S = sum_c D_c^2, shape (rows, W). Both are overwritten
    by the next block.
    """
    n_rows, width = table.shape
    dim = y.shape[1]
    block = min(n_rows, max(1, block_elements(y.device) // max(1, width)))
    own = y[owner].T.contiguous().unsqueeze(2)
    coords = y.T.contiguous()
    work = scratch(name, (dim + 1, block * width), y.dtype, y.device)
    for start in range(0, n_rows, block):
        stop = min(n_rows, start + block)
        rows = stop - start
        diffs = work[:dim, : rows * width]
        torch.index_select(coords, 1, table[start:stop].reshape(-1), out=diffs)
        diffs = diffs.view(dim, rows, width)
        torch.sub(own[:, start:stop], diffs, out=diffs)
        squared = work[dim, : rows * width].view(rows, width)
        torch.mul(diffs[0], diffs[0], out=squared)
        for c in range(1, dim):
            squared.addcmul_(diffs[c], diffs[c])
        yield start, stop, diffs, squared


def attraction_table_eager(y: torch.Tensor, owner: torch.Tensor, table: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """attraction_table for eager torch, by cache-sized blocks: pw = P / (1 + S), a_c = sum_m pw D_c."""
    out = torch.empty((y.shape[1], table.shape[0]), dtype=y.dtype, device=y.device)
    for start, stop, diffs, pw in _table_blocks(y, owner, table, "attraction"):
        pw.add_(1.0)
        torch.div(weights[start:stop], pw, out=pw)
        torch.sum(diffs.mul_(pw), dim=2, out=out[:, start:stop])
    return out.T


def attraction(y: torch.Tensor, P: SparseAffinities, table_kernel=attraction_table_eager) -> torch.Tensor:
    """a_i = sum_j p_ij w_ij (y_i - y_j): per table row, then extra rows added to their owners.

    The extra rows go in by scatter_add_ with an expanded int64 index: on the CPU, index_add
    along dim 0 with int32 indices copies row by row and took 20x longer (19 ms against 1 ms for
    373k extra rows at N = 250,000)."""
    per_row = table_kernel(y, P.row_owner, P.table, P.weights)
    n = P.n_points
    if per_row.shape[0] == n:
        return per_row
    owners = P.row_owner[n:].long().unsqueeze(1).expand(-1, per_row.shape[1])
    return per_row[:n].clone().scatter_add_(0, owners, per_row[n:])


def exact_repulsion(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """r_i = sum_j w_ij^2 (y_i - y_j) and Z = sum_{i != j} w_ij, exactly, over each pair once.

    w is symmetric, so only pairs j >= i are formed, by blocks of rows i in [s, e) against
    columns j in [s, N). Per coordinate the differences D_c = y_ic - y_jc are formed directly
    (never through ||a||^2 + ||b||^2 - 2ab), w = 1 / (1 + sum_c D_c^2), and each block adds
    sum_j w^2 D_c to its rows and, for the columns right of the diagonal square, -sum_i w^2 D_c
    to those columns (the pair's force on j is the opposite of its force on i). Row sums of w
    are kept the same way and added up in float64 for Z. Blocks of about block_elements(device)
    pairs (cache-sized on the CPU, few launches on a GPU) reuse the same work arrays.
    Returns (r (N, dim), Z 0-d float64).
    """
    n, dim = y.shape
    repulsion = torch.zeros((dim, n), dtype=y.dtype, device=y.device)
    row_sums = torch.zeros((1, n), dtype=y.dtype, device=y.device)
    coords = y.T.contiguous()
    pairs = block_elements(y.device)
    first_rows = min(n, max(1, pairs // max(1, n)))
    work = scratch("repulsion", (dim + 1, min(pairs + n, n * n)), y.dtype, y.device)
    start = 0
    while start < n:
        width = n - start
        rows = min(width, max(first_rows, pairs // width))
        stop = start + rows
        block = work[:, : rows * width].view(dim + 1, rows, width)
        diffs, w = block[:dim], block[dim]
        torch.sub(coords[:, start:stop, None], coords[:, None, start:], out=diffs)
        torch.mul(diffs[0], diffs[0], out=w)
        for c in range(1, dim):
            w.addcmul_(diffs[c], diffs[c])
        w.add_(1.0).reciprocal_()
        _add_row_and_column_sums(w.unsqueeze(0), row_sums, start, stop, sign=1.0)
        w.square_()
        _add_row_and_column_sums(diffs.mul_(w), repulsion, start, stop, sign=-1.0)
        start = stop
    return repulsion.T, row_sums.sum(dtype=torch.float64) - n  # the n diagonal terms have w_ii = 1


def _add_row_and_column_sums(block: torch.Tensor, into: torch.Tensor, start: int, stop: int, sign: float) -> None:
    """into[:, start:stop] += block.sum(2); into[:, stop:] += sign * block[:, :, stop - start:].sum(1).

    block (channels, i in [start, stop), j in [start, N)): its left square holds both (i, j)
    and (j, i), so only the columns right of it add their transposed contribution."""
    into[:, start:stop] += block.sum(dim=2)
    if stop < into.shape[1]:
        into[:, stop:].add_(block[:, :, stop - start:].sum(dim=1), alpha=sign)


#: exact_repulsion's cost per pair in the units of fft_repulsion.estimated_cost (ns, measured:
#: 9 ms at N = 1797 on 2 cores).
EXACT_COST_PER_PAIR = 2.8
#: The same for 3-D layouts (measured on 2 cores: 17.5 ms at N = 5,000, 279 ms at 20,000); with the
#: 3-D grid's cost this puts the switch to the grid near 50,000 points.
EXACT_COST_PER_PAIR_3D = 0.9


def choose_repulsion(y: torch.Tensor, method: str) -> str:
    """'exact' or 'fft' for this layout: as asked, or for 'auto' whichever is estimated cheaper.

    exact ~ 2.8 N^2 ns in 2-D, 0.9 N^2 ns in 3-D (measured), FFT ~ 1.5 ms + 5 M log2(M) / 2 for
    its M = side^d cells + 100 N (2-D) or 400 N (3-D), the side growing with the layout's span:
    small N goes exact once the layout spreads out, large N always FFT.
    """
    if method != "auto":
        return method
    n, dim = y.shape
    if dim not in (2, 3):
        return "exact"
    exact_cost = (EXACT_COST_PER_PAIR if dim == 2 else EXACT_COST_PER_PAIR_3D) * n * n
    if exact_cost < estimated_cost(0.0, n, dim):  # cheaper than any grid
        return "exact"
    span = float(y.max() - y.min())
    return "fft" if estimated_cost(span, n, dim) < exact_cost else "exact"


def repulsion(y: torch.Tensor, method: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(r, Z) by the exact sum or the FFT scheme ('exact' | 'fft' | 'auto', see choose_repulsion);
    the exact sum by the C loop of nbviz.tsne.native where it applies, else exact_repulsion."""
    if choose_repulsion(y, method) == "fft":
        return fft_repulsion(y)
    exact = native_exact_repulsion(y) or exact_repulsion
    return exact(y)


def log_kernel_expectation(y: torch.Tensor, P: SparseAffinities) -> float:
    """sum_ij p_ij log w_ij = -sum_ij p_ij log(1 + |y_i - y_j|^2).

    Terms in y's precision (log1p is accurate to a few ulps), each block summed by torch's
    cascade summation, and the block totals accumulated in float64.
    """
    total = 0.0
    for start, stop, _, squared in _table_blocks(y, P.row_owner, P.table, "kl"):
        terms = squared.log1p_().mul_(P.weights[start:stop].to(y.dtype))
        total -= float(terms.sum(dtype=torch.float64) if y.device.type != "cpu" else terms.sum())
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
