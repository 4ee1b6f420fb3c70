"""Repulsive t-SNE forces in O(N) by Lagrange interpolation on a grid and FFT convolution.

The FIt-SNE scheme (Linderman et al. 2019), in 2-D and (our extension) 3-D: the square (cube)
bounding box of the embedding is cut into n_boxes^d boxes with p equispaced interpolation nodes
per box and axis; unit charges are spread onto the node grid with Lagrange weights, convolved
with a kernel on the grid (a Toeplitz product done as a circulant FFT of twice the size per
axis), and read back with the same weights. Unlike FIt-SNE, the kernel is the force itself,
w^2 d (one transform of one charge, then one inverse per axis), not w^2 applied to d + 1 charges.
Gradient error against the exact sum, 250,000 points of a real layout ~215 units wide: 0.33% in
2-D (p = 5, boxes 1 unit wide), a few 1e-6 while the layout is compact. In 3-D the grid has side^3
cells, so its boxes are wider (BOX_WIDTH_3D), fewer (MIN_INTERVALS_3D .. MAX_INTERVALS_3D) and
hold p = 3 nodes: error ~2.4% on a Gaussian cloud 60 units wide.
"""
from __future__ import annotations

import functools
import math

import torch

from .native import native_interpolation

#: Lagrange nodes per box and axis. FIt-SNE uses 3; in 2-D we use 5: with the force-kernel form
#: below the transforms are cheap enough, and the layout's fine structure depends on the
#: near-field accuracy. Repulsion error against the exact sum on a 250,000-point layout of
#: warped digits ~215 units wide (boxes 1 unit): 3.9% with 3 nodes, 1.1% with 4, 0.33% with 5.
#: 20,000 warped digits end at KL 2.356 / 2.310 / 2.279 under a common P (exact repulsion:
#: 2.279; openTSNE: 2.297), 10-NN kept 0.4446 with 4 nodes, 0.4454 with 5, in 11.0 / 15.4 s;
#: 250,000 at KL 3.696 / 3.691 (openTSNE 3.693), kept 0.3557 / 0.3563 (openTSNE 0.3561,
#: means over seeds), in 64 / 80 s. In 3-D (p^3 nodes per point) 3 stay.
INTERPOLATION_POINTS = 5
INTERPOLATION_POINTS_3D = 3
#: Fewest boxes per axis. FIt-SNE uses 50; 32 keeps boxes under FINE_BOX_WIDTH for layouts up to
#: 16 units wide (repulsion error 5e-4 against the exact sum) and halves the transform cost
#: while the layout is compact (all of early exaggeration for small N).
MIN_INTERVALS = 32
#: Box side length in embedding units: FIt-SNE's 1 from FINE_GRID_MAX_POINTS points on. Below,
#: half-width boxes cut the repulsion error about 14-fold (from 0.58% to 0.041% on clusters
#: spanning 80 units); there the 4x larger grid is only used while it is cheaper than the exact sum
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
    """L_k(t) = prod_{l != k} (t - s_l) / (s_k - s_l) for nodes s_k = (k + 1/2) / p, shape (..., p).

    The p differences t - s_l are formed once and each L_k is their product without the k-th,
    scaled by the constant 1 / prod_{l != k} (s_k - s_l): p^2 elementwise operations in all.
    """
    nodes = [(k + 0.5) / p for k in range(p)]
    differences = [t - s_l for s_l in nodes]
    out = torch.empty((*t.shape, p), dtype=t.dtype, device=t.device)
    for k, s_k in enumerate(nodes):
        others = [l for l in range(p) if l != k]
        scale = 1.0 / math.prod(s_k - nodes[l] for l in others)
        if not others:
            out[..., k] = scale
            continue
        product = differences[others[0]] * scale
        for l in others[1:]:
            product = product.mul_(differences[l])
        out[..., k] = product
    return out


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


def interpolation_points(dim: int) -> int:
    """Lagrange nodes per box and axis for a dim-dimensional layout."""
    return INTERPOLATION_POINTS_3D if dim == 3 else INTERPOLATION_POINTS


def estimated_cost(span: float, n_points: int, dim: int = 2) -> float:
    """Rough cost in ns of one fft_repulsion call: 1.5 ms fixed + c M log2(M) for the M = side^d
    cells of the transforms (c = 0.8 in 2-D, 1.3 in 3-D) + 100 N (2-D) or 400 N (3-D) for spreading
    and reading.

    Fitted on a 2-core x86 CPU (medians; 2-D, 20,000 points: side 256 5.7 ms, 864 13.9 ms, 1728
    40 ms, 3200 251 ms; 250,000 points at side 256 26.5 ms; 3-D, 20,000 points: side 162 116 ms,
    288 824 ms). Only the ratio to exact_repulsion's cost per pair matters. With 5 nodes per box
    (25 per point, fitted with 4) the spreading and reading took ~92 ns per point (250,000 points
    on a compact layout, 24.1 ms a call against 16.6 ms with 4), still under the 100 N assumed.
    """
    n_boxes, _ = grid_geometry(span, n_points, dim=dim)
    cells = (2 * interpolation_points(dim) * n_boxes) ** dim
    per_cell, per_point = (0.8, 100.0) if dim == 2 else (1.3, 400.0)
    return 1.5e6 + per_cell * cells * math.log2(cells) + per_point * n_points


def _circulant_offsets(side: int, spacing: float, dim: int, dtype: torch.dtype, device: torch.device) -> list[torch.Tensor]:
    """Per axis, the signed offset d_a = a h (a < n) or (a - 2n) h (a > n) of circulant index a,
    shaped to broadcast over a side^dim grid; side = 2n for n grid nodes per axis."""
    n_nodes = side // 2
    index = torch.arange(side, device=device, dtype=dtype)
    offsets = torch.where(index < n_nodes, index, index - side) * spacing
    return [offsets.reshape([side if axis == a else 1 for a in range(dim)]) for axis in range(dim)]


def _zero_wrap_planes(kernel: torch.Tensor, dims: range) -> torch.Tensor:
    """Zero the planes a = n (offsets that no pair of nodes has) along the given axes."""
    for axis in dims:
        kernel.select(axis, kernel.shape[axis] // 2).zero_()
    return kernel


# Spectra are cached for the current grid and the one before: once the layout is wider than the
# fewest boxes the spacing is fixed and the grid only grows now and then. A large 3-D grid's
# force spectra take ~140 MB, so no more are kept.
@functools.lru_cache(maxsize=2)
def _pair_sum_weights(side: int, spacing: float, dim: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """W^(f) m_f / M: the rfftn of the side^dim circulant embedding of w(d) = 1 / (1 + |d|^2),
    times each half-spectrum entry's multiplicity m_f in the full spectrum (1 for 0 and side/2 on
    the last axis, else 2), over the M = side^dim cells, so that sum_f |G^(f)|^2 times this is
    Parseval's <G, w * G>.

    The embedding is even along every axis (offsets a and side - a hold the same value), so its
    spectrum is real.
    """
    offsets = _circulant_offsets(side, spacing, dim, dtype, device)
    kernel = (1.0 + sum(d.square() for d in offsets)).reciprocal()
    spectrum = torch.fft.rfftn(_zero_wrap_planes(kernel, range(dim))).real
    multiplicity = torch.full((side // 2 + 1,), 2.0, dtype=dtype, device=device)
    multiplicity[0] = multiplicity[-1] = 1.0
    return (spectrum * (multiplicity / side ** dim)).contiguous()


@functools.lru_cache(maxsize=2)
def _force_spectra(side: int, spacing: float, dim: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Imaginary parts of the rfftn of the circulant embeddings of the force kernel's components,
    (dim, side, ..., side/2 + 1): G_c(d) = d_c / (1 + |d|^2)^2 = w(d)^2 d_c. G_c is odd along
    axis c and even along the others, so its spectrum is i times this real array.
    """
    offsets = _circulant_offsets(side, spacing, dim, dtype, device)
    squared_weight = (1.0 + sum(d.square() for d in offsets)).reciprocal().square()
    components = torch.stack([squared_weight * d for d in offsets])
    return torch.fft.rfftn(_zero_wrap_planes(components, range(1, dim + 1)), dim=tuple(range(1, dim + 1))).imag.contiguous()


def _node_indices_and_weights(scaled: torch.Tensor, box_index: torch.Tensor, nodes: int, p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat index (N, p^d) into the unpadded nodes^d grid of each point's p^d interpolation
    nodes and their Lagrange weights (N, p^d), the products of the per-axis weights, both in
    row-major node order.

    The index is the point's first node, sum_a p b_a nodes^(d-1-a) for its box b, plus one
    constant offset per node, so no (N, p^d) integer array is built axis by axis.
    """
    n_points, dim = scaled.shape
    device = scaled.device
    weights_1d = lagrange_weights(scaled - box_index, p)  # (N, d, p)
    strides = torch.tensor([nodes ** (dim - 1 - axis) for axis in range(dim)], device=device)
    first_node = (box_index.long() * p) @ strides
    node_offsets = torch.zeros(1, dtype=torch.long, device=device)
    weights = torch.ones((n_points, 1), dtype=scaled.dtype, device=device)
    for axis in range(dim):
        node_offsets = (node_offsets.unsqueeze(1) + torch.arange(p, device=device) * strides[axis]).reshape(-1)
        weights = (weights.unsqueeze(2) * weights_1d[:, axis].unsqueeze(1)).reshape(n_points, -1)
    return first_node.unsqueeze(1) + node_offsets, weights


def _padded_rfftn(grid: torch.Tensor, side: int) -> torch.Tensor:
    """rfftn over all but the first axis of `grid` zero-padded to `side` per axis.

    The same numbers as padding first and transforming, but each 1-D pass skips what is still
    all zeros: the last axis is transformed on the grid's own rows only, the next on the
    columns that exist by then, and so on (about 3/4 of the work in 2-D).
    """
    spectrum = torch.fft.rfft(grid, n=side, dim=-1)
    for axis in range(grid.dim() - 2, 0, -1):
        spectrum = torch.fft.fft(spectrum, n=side, dim=axis)
    return spectrum


def _cropped_irfftn(spectrum: torch.Tensor, side: int) -> torch.Tensor:
    """The inverse of _padded_rfftn cut back to the first side / 2 entries per axis: each inverse
    1-D pass keeps only the half of the output that the later passes and the caller use."""
    nodes = side // 2
    for axis in range(1, spectrum.dim() - 1):
        spectrum = torch.fft.ifft(spectrum, dim=axis).narrow(axis, 0, nodes)
    return torch.fft.irfft(spectrum, n=side, dim=-1)[..., :nodes]


def fft_repulsion(y: torch.Tensor, box_width: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Unnormalised repulsion r_i = sum_j w_ij^2 (y_i - y_j) and Z = sum_{i != j} w_ij, w = 1/(1+|y_i-y_j|^2).

    For a 2-D or 3-D layout y. Unit charges are spread onto the grid with Lagrange weights
    (grid G); the repulsion is the field of the force kernel G_c(d) = w(d)^2 d_c convolved with
    them, read back at each point with the same weights: r_ic ~ sum_j G_c(y_i - y_j). That is one
    forward transform and d inverse ones, where FIt-SNE's form r_i = y_i phi_1 - phi_y (phi
    from w^2 and charges 1, y_1 .. y_d) needs d + 1 of each. At equal nodes per box it is about
    as accurate (G varies faster than w^2: 3.1% against 2.2% error on one 20,000-point layout 60 units wide, 3 nodes each);
    the saved transforms pay for INTERPOLATION_POINTS = 5 in 2-D. Z needs only a total: with the same weights for
    spreading and reading, sum_i sum_j w_ij ~ <G, w * G> = (1/M) sum_f |G^(f)|^2 w^(f)
    (Parseval on the M = side^d circulant), then Z = that - N. Grid: see grid_geometry. The
    spreading and reading run in C where they can (nbviz.tsne.native), else in torch.
    Returns (r (N, d), Z 0-d float64 tensor).
    """
    n_points, dim = y.shape
    p = interpolation_points(dim)
    low = y.min()
    span = float(y.max() - low)
    n_boxes, box = grid_geometry(span, n_points, box_width, dim)
    nodes = n_boxes * p  # per axis; the circulant doubles it to side = 2 * nodes
    side = 2 * nodes
    interpolation = native_interpolation(y)
    if interpolation is not None:
        grid = interpolation.spread(y, float(low), box, n_boxes, p)
    else:
        scaled = (y - low) / box
        box_index = scaled.floor().clamp_(0, n_boxes - 1)
        node_index, weights = _node_indices_and_weights(scaled, box_index, nodes, p)
        node_index = node_index.reshape(-1)
        grid = torch.zeros((1, nodes ** dim), dtype=y.dtype, device=y.device)
        grid.index_add_(1, node_index, weights.reshape(1, -1))
    spectrum = _padded_rfftn(grid.reshape(1, *([nodes] * dim)), side)

    spacing = box / p
    pair_weights = _pair_sum_weights(side, spacing, dim, y.dtype, y.device)
    power = spectrum[0].real.square() + spectrum[0].imag.square()
    z = power.mul_(pair_weights).sum(dtype=torch.float64) - n_points

    force = _force_spectra(side, spacing, dim, y.dtype, y.device)  # the spectra are i * force
    fields = _cropped_irfftn(torch.complex(-spectrum.imag * force, spectrum.real * force), side)
    if interpolation is not None:
        return interpolation.gather(y, float(low), box, n_boxes, p, fields.reshape(dim, -1)), z
    at_points = fields.reshape(dim, -1).index_select(1, node_index).reshape(dim, n_points, p ** dim)
    return at_points.mul_(weights).sum(dim=2).T, z
