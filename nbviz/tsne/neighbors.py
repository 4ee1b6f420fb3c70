"""k nearest neighbours of every point: exact (chunked matmul) or inverted-file approximate."""
from __future__ import annotations

import math

import torch

#: Above this many points the exact O(N^2 D) search costs more than the rest of the run
#: (on the CPU; a GPU does the exact search up to EXACT_NEIGHBOURS_MAX_POINTS_GPU).
EXACT_NEIGHBOURS_MAX_POINTS = 12_000
EXACT_NEIGHBOURS_MAX_POINTS_GPU = 400_000

# Rows per distance block: bounds the B x N block to about 64 MB of float32.
_BLOCK_ELEMENTS = 1 << 24


def nearest_neighbours(
    X: torch.Tensor, k: int, method: str = "auto", seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """The k nearest other points of every row of X, sorted nearest first.

    Returns (indices (N, k) int64, squared distances (N, k) float64), where the squared
    distances are recomputed directly as sum_d (x_id - x_jd)^2 in float64 (the search itself
    ranks by ||x_j||^2 - 2 x_i.x_j, which is fine for ranking but cancels for values).
    `method`: "exact", "approx" (inverted file over k-means cells) or "auto" (exact up to
    EXACT_NEIGHBOURS_MAX_POINTS points, or EXACT_NEIGHBOURS_MAX_POINTS_GPU on CUDA).
    """
    n = X.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must be in [1, N-1], got k={k} for N={n}")
    if method == "auto":
        limit = EXACT_NEIGHBOURS_MAX_POINTS_GPU if X.device.type == "cuda" else EXACT_NEIGHBOURS_MAX_POINTS
        method = "exact" if n <= limit else "approx"
    Xc = X - X.mean(dim=0)  # centring keeps the ranking expression well conditioned
    if method == "exact":
        indices = _exact_search(Xc, k)
    elif method == "approx":
        indices = _inverted_file_search(Xc, k, seed)
    else:
        raise ValueError(f"unknown neighbour method {method!r}; use 'auto', 'exact' or 'approx'")
    sq_distances = _direct_squared_distances(Xc, indices)
    sq_distances, order = torch.sort(sq_distances, dim=1, stable=True)
    return torch.gather(indices, 1, order), sq_distances


def _ranking_distances(queries: torch.Tensor, base: torch.Tensor, base_sq_norms: torch.Tensor) -> torch.Tensor:
    """||b||^2 - 2 q.b for every (query, base) pair: the squared distance minus ||q||^2 (same ranking)."""
    return torch.addmm(base_sq_norms.unsqueeze(0), queries, base.T, alpha=-2.0)


def _exact_search(X: torch.Tensor, k: int) -> torch.Tensor:
    """Exact k-NN by blocks of rows: rank all N columns, drop the point itself, keep the k smallest."""
    n = X.shape[0]
    sq_norms = (X * X).sum(dim=1)
    block = max(1, min(n, _BLOCK_ELEMENTS // n))
    result = torch.empty((n, k), dtype=torch.int64, device=X.device)
    for start in range(0, n, block):
        stop = min(n, start + block)
        scores = _ranking_distances(X[start:stop], X, sq_norms)
        rows = torch.arange(stop - start, device=X.device)
        scores[rows, rows + start] = float("inf")  # a point is not its own neighbour, even among duplicates
        result[start:stop] = torch.topk(scores, k, dim=1, largest=False, sorted=False).indices
    return result


def _kmeans(X: torch.Tensor, n_cells: int, seed: int, n_rounds: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    """Lloyd's k-means (centres start at a seeded random sample): (cell id of every point, centres)."""
    n = X.shape[0]
    generator = torch.Generator(device="cpu").manual_seed(seed)
    start = torch.randperm(n, generator=generator)[:n_cells].to(X.device)
    centres = X[start].clone()
    for _ in range(n_rounds):
        assignment = _assign(X, centres)
        counts = torch.bincount(assignment, minlength=n_cells).to(X.dtype)
        sums = torch.zeros_like(centres).index_add_(0, assignment, X)
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled].unsqueeze(1)
    return _assign(X, centres), centres


def _assign(X: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Index of the nearest centre for every row: argmin_c ||c||^2 - 2 x.c."""
    sq = (centres * centres).sum(dim=1)
    block = max(1, _BLOCK_ELEMENTS // max(1, centres.shape[0]))
    return torch.cat([
        _ranking_distances(X[s:s + block], centres, sq).argmin(dim=1) for s in range(0, X.shape[0], block)
    ])


def _inverted_file_search(X: torch.Tensor, k: int, seed: int, probe_fraction: float = 0.1) -> torch.Tensor:
    """Approximate k-NN: points of each k-means cell search only the nearest cells to that cell.

    About sqrt(N) cells; each cell's queries are ranked exactly against the members of the
    closest cells (by centre distance) until at least `probe_fraction` * N candidates, so the
    cost is about probe_fraction of the exact search.
    """
    n = X.shape[0]
    n_cells = max(1, int(math.sqrt(n)))
    assignment, centres = _kmeans(X, n_cells, seed)
    order = torch.argsort(assignment, stable=True)
    sizes = torch.bincount(assignment, minlength=n_cells)
    members = list(torch.split(order, sizes.tolist()))
    centre_sq = (centres * centres).sum(dim=1)
    centre_rank = torch.argsort(_ranking_distances(centres, centres, centre_sq), dim=1)
    sizes_list = sizes.tolist()
    want = max(k + 1, int(probe_fraction * n))
    sq_norms = (X * X).sum(dim=1)
    result = torch.empty((n, k), dtype=torch.int64, device=X.device)
    for cell in range(n_cells):
        queries = members[cell]
        if queries.numel() == 0:
            continue
        # the cell's own members come first, so a point's own score sits on the block diagonal
        picked, total = [queries], sizes_list[cell]
        for other in centre_rank[cell].tolist():
            if total >= want:
                break
            if other != cell and sizes_list[other]:
                picked.append(members[other])
                total += sizes_list[other]
        candidates = torch.cat(picked)
        scores = _ranking_distances(X.index_select(0, queries), X.index_select(0, candidates), sq_norms[candidates])
        scores.diagonal()[:] = float("inf")
        top = torch.topk(scores, min(k, candidates.numel() - 1), dim=1, largest=False, sorted=False).indices
        result[queries] = candidates[top]
    return result


def _direct_squared_distances(X: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """d_ij^2 = sum_d (x_id - x_jd)^2 for every listed pair (i, indices[i, m]), returned as float64.

    Differences are taken in the input precision (exact to rounding, no cancellation), the sum
    accumulated by blocks of rows small enough to stay in cache.
    """
    n, k = indices.shape
    out = torch.empty((n, k), dtype=torch.float64, device=X.device)
    block = max(1, (1 << 18) // max(1, k * X.shape[1]))
    for start in range(0, n, block):
        stop = min(n, start + block)
        others = X.index_select(0, indices[start:stop].reshape(-1)).reshape(stop - start, k, -1)
        diff = X[start:stop].unsqueeze(1) - others
        out[start:stop] = diff.square().sum(dim=2, dtype=torch.float64)
    return out
