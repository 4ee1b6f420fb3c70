"""Repulsive t-SNE forces in O(N) by Lagrange interpolation on a grid and FFT convolution.

The FIt-SNE scheme (Linderman et al. 2019), in 2-D and (our extension) 3-D: the square (cube)
bounding box of the embedding is cut into n_boxes^d boxes with p equispaced interpolation nodes
per box and axis; point charges are spread onto the node grid with Lagrange weights, convolved
with the kernel on the grid (a Toeplitz product done as a circulant FFT of twice the size per
axis), and read back with the same weights. In 3-D the grid has side^3 cells, so its boxes are
wider (BOX_WIDTH_3D) and fewer (MIN_INTERVALS_3D .. MAX_INTERVALS_3D): gradient error ~1% where
the 2-D grid gives ~0.3%.
"""
from __future__ import annotations

import functools
import math

import torch

INTERPOLATION_POINTS = 3
#: Fewest boxes per axis. FIt-SNE uses 50; 32 keeps boxes under FINE_BOX_WIDTH for layouts up to
#: 16 units wide (gradient error ~3e-3 against the exact sum) and halves the transform cost
#: while the layout is compact (all of early exaggeration for small N).
MIN_INTERVALS = 32
#: Box side length in embedding units: FIt-SNE's 1 from FINE_GRID_MAX_POINTS points on. Below,
#: half-width boxes cut the gradient error about 8-fold (from ~2% to ~0.2% on layouts spanning
#: 80 units); there the 4x larger grid is only used while it is cheaper than the exact sum
#: (see gradients.repulsion), i.e. mostly while the layout is still compact.
BOX_WIDTH = 1.0
FINE_BOX_WIDTH = 0.5
FINE_GRID_MAX_POINTS = 5_000
#: Upper bound on boxes per axis so that points shooting off cannot blow up the grid.
MAX_INTERVALS = 400
#: The 3-D grid (side^3 cells): boxes 1.5 units wide, 12 to 48 per axis (at most 288^3 cells).
BOX_WIDTH_3D = 1.5
MIN_INTERVALS_3D = 12
MAX_INTERVALS_3D = 48


def fft_friendly(n: int) -> int:
    """The smallest m >= n whose only prime factors are 2, 3 and 5 (fast FFT sizes)."""
    m = max(1, n)
    while True:
        r = m
        for prime in (2, 3, 5):
            while r % prime == 0:
                r //= prime
        if r == 1:
            return m
        m += 1


def lagrange_weights(t: torch.Tensor, p: int) -> torch.Tensor:
    """L_k(t) = prod_{l != k} (t - s_l) / (s_k - s_l) for nodes s_k = (k + 1/2) / p, shape (..., p)."""
    nodes = [(k + 0.5) / p for k in range(p)]
    out = []
    for k, s_k in enumerate(nodes):
        value = torch.ones_like(t)
        for l, s_l in enumerate(nodes):
            if l != k:
                value = value * ((t - s_l) / (s_k - s_l))
        out.append(value)
    return torch.stack(out, dim=-1)


def grid_geometry(span: float, n_points: int, box_width: float | None = None, dim: int = 2) -> tuple[int, float]:
    """(boxes per axis, box side) for an embedding whose bounding square (cube) has side `span`.

    2-D: boxes are `box_width` wide (FINE_BOX_WIDTH below FINE_GRID_MAX_POINTS points, else
    BOX_WIDTH) and at least MIN_INTERVALS per axis; 3-D: BOX_WIDTH_3D wide, MIN_INTERVALS_3D to
    MAX_INTERVALS_3D per axis. Counts are rounded up to an FFT-friendly size. Once the span exceeds
    the fewest boxes the box side stays exactly box_width, so the kernel (and its cached
    spectrum) only changes when the grid grows.
    """
    if dim == 3:
        box_width, fewest, most = box_width or BOX_WIDTH_3D, MIN_INTERVALS_3D, MAX_INTERVALS_3D
    else:
        if box_width is None:
            box_width = FINE_BOX_WIDTH if n_points < FINE_GRID_MAX_POINTS else BOX_WIDTH
        fewest, most = MIN_INTERVALS, MAX_INTERVALS
    if span >= fewest * box_width:
        n_boxes = fft_friendly(min(most, math.ceil(span / box_width * (1 + 1e-6))))
        return n_boxes, max(box_width, span / n_boxes * (1 + 1e-6))
    return fewest, max(span, 1e-12) / fewest


def estimated_cost(span: float, n_points: int, dim: int = 2) -> float:
    """Rough cost in ns of one fft_repulsion call: ~1.5 ms fixed + 5 M log2(M) for the M = side^d
    cells of the transforms + 100 N (2-D) or 400 N (3-D: 27 nodes per point) for spreading and reading.

    Fitted on a 2-core x86 CPU (2-D side 192: 3 ms, 648: 15 ms, 1632: 160 ms); only the ratio to
    exact_repulsion's cost per pair matters.
    """
    n_boxes, _ = grid_geometry(span, n_points, dim=dim)
    cells = (2 * INTERPOLATION_POINTS * n_boxes) ** dim
    return 1.5e6 + 2.5 * cells * math.log2(cells) + (100.0 if dim == 2 else 400.0) * n_points


@functools.lru_cache(maxsize=8)
def _kernel_spectrum(side: int, spacing: float, power: int, dim: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """rfftn of the side^dim circulant embedding of K(d) = (1 + |d|^2 h^2)^-power.

    side = 2n for n grid nodes per axis; offset index a stands for a (a < n) or a - 2n (a > n),
    and the unused wrap-around planes a = n are zero. Cached: once the embedding is wider than
    the fewest boxes the spacing is fixed and only the grid size changes, rarely.
    """
    n_nodes = side // 2
    offsets = torch.arange(side, device=device, dtype=dtype)
    offsets = (torch.where(offsets < n_nodes, offsets, offsets - side) * spacing).square()
    squared = offsets.unsqueeze(1) + offsets.unsqueeze(0)
    if dim == 3:
        squared = squared.unsqueeze(2) + offsets
    kernel = (1.0 + squared).reciprocal() ** power
    for axis in range(dim):
        kernel.select(axis, n_nodes).zero_()
    return torch.fft.rfftn(kernel)


@functools.lru_cache(maxsize=8)
def _half_spectrum_weights(side: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Multiplicities of the rfftn last-axis entries in the full spectrum: 1 for 0 and side/2, else 2."""
    weights = torch.full((side // 2 + 1,), 2.0, dtype=dtype, device=device)
    weights[0] = 1.0
    weights[-1] = 1.0
    return weights


def _node_indices_and_weights(scaled: torch.Tensor, box_index: torch.Tensor, side: int, p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat grid index (N p^d,) of each point's p^d interpolation nodes and their Lagrange
    weights (1, N, p^d): the products of the per-axis weights, in row-major node order."""
    n_points, dim = scaled.shape
    weights_1d = lagrange_weights(scaled - box_index, p)  # (N, d, p)
    node_1d = box_index.long().unsqueeze(-1) * p + torch.arange(p, device=scaled.device)  # (N, d, p)
    flat, weights = node_1d[:, 0], weights_1d[:, 0]
    for axis in range(1, dim):
        flat = (flat.unsqueeze(-1) * side + node_1d[:, axis].reshape(n_points, *([1] * axis), p))
        weights = weights.unsqueeze(-1) * weights_1d[:, axis].reshape(n_points, *([1] * axis), p)
    return flat.reshape(-1), weights.reshape(1, n_points, p ** dim)


def fft_repulsion(y: torch.Tensor, box_width: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Unnormalised repulsion r_i = sum_j w_ij^2 (y_i - y_j) and Z = sum_{i != j} w_ij, w = 1/(1+|y_i-y_j|^2).

    For a 2-D or 3-D layout y. Charges c = 1, y_1, ..., y_d are spread onto the grid with
    Lagrange weights (grid G_c), convolved with K2 = w^2 on the grid, and read back:
    phi_c(y_i) = sum_j K2(y_i, y_j) c_j, so r_i = y_i phi_1 - (phi_1..phi_d). Z needs only a
    total: with the same weights for spreading and reading, sum_i sum_j w_ij ~ <G_1, K1 * G_1> =
    (1/M) sum_f |G_1^(f)|^2 K1^(f) (Parseval on the M = side^d circulant), then Z = that - N.
    This avoids both an inverse transform and the |y|^2-charge expansion, which would cancel in
    float32 once the embedding is wide. Grid: see grid_geometry. Returns (r (N, d), Z 0-d float64 tensor).
    """
    n_points, dim = y.shape
    p = INTERPOLATION_POINTS
    low = y.min()
    span = float(y.max() - low)
    n_boxes, box = grid_geometry(span, n_points, box_width, dim)
    side = 2 * n_boxes * p
    axes = tuple(range(1, dim + 1))
    scaled = (y - low) / box
    box_index = scaled.floor().clamp_(0, n_boxes - 1)
    flat_index, weights = _node_indices_and_weights(scaled, box_index, side, p)

    charges = torch.cat([torch.ones_like(y[:, :1]), y], dim=1).T.unsqueeze(2)  # (d + 1, N, 1)
    grid = torch.zeros((dim + 1, side ** dim), dtype=y.dtype, device=y.device)
    grid.index_add_(1, flat_index, (charges * weights).reshape(dim + 1, -1))
    spectrum = torch.fft.rfftn(grid.reshape(dim + 1, *([side] * dim)), dim=axes)

    spacing = box / p
    k2 = _kernel_spectrum(side, spacing, 2, dim, y.dtype, y.device)
    k1 = _kernel_spectrum(side, spacing, 1, dim, y.dtype, y.device)
    potentials = torch.fft.irfftn(spectrum * k2, s=[side] * dim, dim=axes).reshape(dim + 1, -1)
    at_points = (potentials.index_select(1, flat_index).reshape(dim + 1, n_points, p ** dim) * weights).sum(dim=2)
    repulsion = y * at_points[0].unsqueeze(1) - at_points[1:].T

    power = spectrum[0].real.square() + spectrum[0].imag.square()
    pair_sum = (power * k1.real * _half_spectrum_weights(side, y.dtype, y.device)).sum(dtype=torch.float64)
    z = pair_sum / side ** dim - n_points
    return repulsion, z
