"""k nearest neighbours of every point: exact blocked search in torch, or faiss HNSW checked by sampling.

Real embeddings (word vectors, CNN features) are nearly uniform in high dimension: there the 90th
neighbour of a point is often only ~10% farther than its first, and approximate indexes lose
many true neighbours at settings that look perfect on clustered synthetic data. So the
approximate path never trusts its settings: it measures recall on a seeded sample of queries
against exact search, raises HNSW's search breadth until the sampled recall clears the target
with a margin, and uses exact search instead when that would cost more than exact search itself.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from .errors import TSNEError

#: On the CPU exact search costs about N^2 * (D + TOPK_COST_CPU) * 1.6e-11 s on 2 cores (measured:
#: the 30,522 x 384 MiniLM vocabulary 8.4 s, 70,000 x 50 points 18 s): the top-k selection costs
#: as much as ~180 more dimensions of the product. "auto" searches exactly while that count stays
#: within EXACT_BUDGET_CPU (about 10 s there: the vocabulary stays exact), else tries HNSW, which
#: itself returns to exact search when that is cheaper at the recall it must reach.
TOPK_COST_CPU = 180
EXACT_BUDGET_CPU = 6e11
#: The same on an accelerator (exact search there runs near its matmul peak): 1M x 50 is exact.
EXACT_BUDGET_ACCELERATOR = 1e14
#: Share of each point's true k nearest neighbours an approximate search must find.
RECALL_TARGET = 0.99
#: Queries whose recall is measured against exact search to tune and check the HNSW search.
RECALL_SAMPLE = 1000
#: HNSW graph degree and build breadth (faiss's M and efConstruction), chosen by measurement with
#: k = 90 and the search breadth then raised to sampled recall 0.99 (2 cores, build + search):
#: 250,000 warped digits (50 PCs) 28 s against 45 s for M 32 / efC 128, a 70,000-point 50-D
#: Gaussian mixture 9 s against 12.5 s. M 16 / efC 64 was as fast on the digits but had to search
#: the mixture at breadth 280.
HNSW_DEGREE = 24
HNSW_BUILD_BREADTH = 64
#: Factor by which the HNSW search breadth grows until the sampled recall clears the target.
BREADTH_STEP = 1.25

# Queries per HNSW search call (bounds faiss's output arrays to a few tens of MB).
_QUERY_CHUNK = 1 << 16
# Rows per distance block: bounds the B x N block to about 64 MB of float32.
_BLOCK_ELEMENTS = 1 << 24


def index_dtype(n_points: int) -> torch.dtype:
    """int32 for indices into fewer than 2^31 points (half the memory of int64), else int64."""
    return torch.int32 if n_points < 2**31 else torch.int64


@dataclass(frozen=True)
class Neighbors:
    """The k nearest other points of every row, nearest first.

    `indices` (N, k) int32 (int64 from 2^31 points on) and `sq_distances` (N, k) float32
    (recomputed directly as sum_d (x_id - x_jd)^2 in float64, then stored in float32: half the
    memory of a million-point run's largest arrays), `method` "exact" or "hnsw", and `recall`:
    1.0 for exact search, else the recall measured on `RECALL_SAMPLE` seeded queries against
    exact search. A holder that keeps only the indices replaces sq_distances by None.
    """

    indices: torch.Tensor
    sq_distances: torch.Tensor | None
    method: str
    recall: float


def nearest_neighbors(X: torch.Tensor, k: int, method: str = "auto", seed: int = 0) -> Neighbors:
    """The k nearest other points of every row of X (a point is never its own neighbour).

    `method`: "exact" (blocked torch search on X's device), "approx" (faiss HNSW, tuned and
    checked as the module docstring says) or "auto" (exact while N^2 (D + TOPK_COST_CPU) <=
    EXACT_BUDGET_CPU, or N^2 D <= EXACT_BUDGET_ACCELERATOR off the CPU; approx above). `seed`
    picks the recall sample.
    """
    n, dim = X.shape
    if not 1 <= k < n:
        raise TSNEError(f"the neighbour search needs 1 <= k < N, got k={k} for N={n} points; "
                        "lower the perplexity (k = 3 * perplexity) or pass more points")
    if method not in ("auto", "exact", "approx"):
        raise TSNEError(f"unknown neighbour method {method!r}; use 'auto', 'exact' or 'approx'")
    method = search_method(n, dim, X.device, method)
    Xc = centred(X)
    found = _checked_hnsw_search(Xc, k, seed) if method == "approx" and n > RECALL_SAMPLE else None
    if found is None:
        indices, found_by, recall = exact_search(Xc, k), "exact", 1.0
    else:
        (indices, recall), found_by = found, "hnsw"
    indices = indices.to(index_dtype(n))
    sq_distances = pair_sq_distances(Xc, Xc, indices, dtype=torch.float32)
    _sort_rows_by_distance(sq_distances, indices)
    return Neighbors(indices, sq_distances, found_by, recall)


def _sort_rows_by_distance(sq_distances: torch.Tensor, indices: torch.Tensor) -> None:
    """Sort each row nearest first, in place and by blocks of rows (no N x k int64 permutation)."""
    block = max(1, _BLOCK_ELEMENTS // max(1, sq_distances.shape[1]))
    for start in range(0, sq_distances.shape[0], block):
        values, order = torch.sort(sq_distances[start:start + block], dim=1, stable=True)
        sq_distances[start:start + block] = values
        indices[start:start + block] = torch.gather(indices[start:start + block], 1, order)


def centred(X: torch.Tensor) -> torch.Tensor:
    """X - mean(X): the search ranks and measures distances on this copy (centring keeps the
    ranking expression well conditioned), so distances recomputed later from it agree exactly."""
    return X - X.mean(dim=0)


def search_method(n_points: int, n_features: int, device: torch.device, method: str = "auto") -> str:
    """"exact" or "approx": `method` itself, or for "auto" exact while N^2 (D + TOPK_COST_CPU) <=
    EXACT_BUDGET_CPU on the CPU (N^2 D <= EXACT_BUDGET_ACCELERATOR elsewhere)."""
    if method != "auto":
        return method
    on_cpu = device.type == "cpu"
    cost = float(n_points) * n_points * (n_features + TOPK_COST_CPU if on_cpu else n_features)
    return "exact" if cost <= (EXACT_BUDGET_CPU if on_cpu else EXACT_BUDGET_ACCELERATOR) else "approx"


def _ranking_distances(queries: torch.Tensor, base: torch.Tensor, base_sq_norms: torch.Tensor) -> torch.Tensor:
    """||b||^2 - 2 q.b for every (query, base) pair: the squared distance minus ||q||^2 (same ranking)."""
    return torch.addmm(base_sq_norms.unsqueeze(0), queries, base.T, alpha=-2.0)


def exact_search(X: torch.Tensor, k: int, queries: torch.Tensor | None = None) -> torch.Tensor:
    """Exact k-NN of the rows `queries` (default: all) among all rows of X, the query itself excluded.

    Returns (len(queries), k) int64 indices, unsorted (see search_against).
    """
    if queries is None:
        queries = torch.arange(X.shape[0], device=X.device)
    return search_against(X.index_select(0, queries), X, k, exclude=queries)


def search_against(Q: torch.Tensor, X: torch.Tensor, k: int, exclude: torch.Tensor | None = None) -> torch.Tensor:
    """Exact k-NN of each row of Q among the rows of X (unsorted (len(Q), k) int64 indices).

    Blocks of query rows are ranked against all rows of X by ||x_j||^2 - 2 q.x_j (one matmul per
    block) and topk keeps the k smallest. `exclude[q]` names a row of X that query q may not
    return (its own row when Q is a subset of X: duplicates then still list each other).
    """
    n = X.shape[0]
    sq_norms = (X * X).sum(dim=1)
    block = max(1, min(n, _BLOCK_ELEMENTS // n))
    result = torch.empty((Q.shape[0], k), dtype=torch.int64, device=X.device)
    for start in range(0, Q.shape[0], block):
        stop = min(Q.shape[0], start + block)
        scores = _ranking_distances(Q[start:stop], X, sq_norms)
        if exclude is not None:
            scores[torch.arange(stop - start, device=X.device), exclude[start:stop]] = float("inf")
        result[start:stop] = torch.topk(scores, k, dim=1, largest=False, sorted=False).indices
    return result


def _checked_hnsw_search(X: torch.Tensor, k: int, seed: int) -> tuple[torch.Tensor, float] | None:
    """HNSW search whose breadth is raised until sampled recall clears RECALL_TARGET.

    Breadth (efSearch) starts at k + 1 and grows by BREADTH_STEP (the search costs about
    linearly in it, and the target is often met well below 2k). At each breadth the sample's
    recall r_q (share
    of each sampled query's found neighbours no farther than its exact k-th neighbour, which
    counts ties fairly) must satisfy mean(r_q) - 2 std(r_q) / sqrt(m) >= RECALL_TARGET. The
    build (timed on a first slice) and the search of all N queries at that breadth (timed on the
    sample) are extrapolated; once they would exceed exact search's time (also extrapolated from
    the sample), returns None and the caller searches exactly. Else returns (indices (N, k) int32 on X's device, sampled recall).
    """
    import faiss  # loaded only when needed: a large native library

    n, dim = X.shape
    data = np.ascontiguousarray(X.detach().to("cpu", torch.float32).numpy())
    generator = torch.Generator().manual_seed(seed)
    sample = torch.randperm(n, generator=generator)[:RECALL_SAMPLE].to(X.device)
    started = time.perf_counter()
    exact_sample = exact_search(X, k, sample)
    exact_seconds = (time.perf_counter() - started) * n / sample.numel()
    kth = pair_sq_distances(X.index_select(0, sample), X, exact_sample).max(dim=1).values
    index = faiss.IndexHNSWFlat(dim, HNSW_DEGREE)
    index.hnsw.efConstruction = HNSW_BUILD_BREADTH
    # Build on a first slice, and give up before the rest if the whole build alone (its cost
    # grows about as N log N) would already take longer than exact search.
    first = max(RECALL_SAMPLE, n // 20)
    started = time.perf_counter()
    index.add(data[:first])
    build_seconds = (time.perf_counter() - started) * (n / first) * math.log(n) / math.log(first)
    if _exact_is_cheaper(build_seconds, exact_seconds):
        return None
    index.add(data[first:])
    sample_rows = sample.cpu().numpy()
    breadth = k + 1
    while True:
        index.hnsw.efSearch = breadth
        started = time.perf_counter()
        found = _search_without_self(index, data, sample_rows, k)
        search_seconds = (time.perf_counter() - started) * n / sample_rows.size
        if _exact_is_cheaper(build_seconds + search_seconds, exact_seconds):
            return None
        per_query = _sample_recall(X, sample, torch.from_numpy(found).to(X.device), kth)
        recall = float(per_query.mean())
        if recall - 2 * float(per_query.std()) / math.sqrt(per_query.numel()) >= RECALL_TARGET:
            break
        if breadth >= n:  # as broad as the data: the graph cannot do better than exact search
            return None
        breadth = min(n, math.ceil(breadth * BREADTH_STEP))
    rows = np.arange(n)
    indices = _search_without_self(index, data, rows, k)
    return torch.from_numpy(indices).to(X.device), recall


def _exact_is_cheaper(approximate_seconds: float, exact_seconds: float) -> bool:
    """Whether the extrapolated HNSW time (build and search) is no better than exact search."""
    return approximate_seconds >= exact_seconds


def _search_without_self(index, data: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """The k nearest of each listed row by the index, the row itself dropped (k + 1 asked for).

    Queries go in chunks of _QUERY_CHUNK rows so that faiss's (rows, k + 1) distance and index
    arrays stay small next to the (rows, k) result. Rows the index could not fill (-1 entries,
    a disconnected graph) repeat their nearest find.
    """
    result = torch.empty((rows.size, k), dtype=index_dtype(data.shape[0])).numpy()
    for start in range(0, rows.size, _QUERY_CHUNK):
        chunk = rows[start:start + _QUERY_CHUNK]
        _, found = index.search(data[chunk], k + 1)
        is_self = found == chunk[:, None]
        order = np.argsort(is_self, axis=1, kind="stable")  # non-self entries first, in rank order
        found = np.take_along_axis(found, order, axis=1)[:, :k]
        missing = found < 0
        if missing.any():
            found = np.where(missing, found[:, :1], found)
        result[start:start + chunk.size] = found
    return result


def _sample_recall(X: torch.Tensor, queries: torch.Tensor, found: torch.Tensor, kth: torch.Tensor) -> torch.Tensor:
    """Per query: share of found neighbours within the exact k-th neighbour's squared distance."""
    sq = pair_sq_distances(X.index_select(0, queries), X, found)
    tolerance = 1e-6 * kth.clamp_min(1e-30)  # float32 data: equal distances may differ by rounding
    return (sq <= (kth + tolerance).unsqueeze(1)).to(torch.float64).mean(dim=1)


def pair_sq_distances(
    Q: torch.Tensor, X: torch.Tensor, indices: torch.Tensor, dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """d_qm^2 = sum_d (Q_qd - X_{indices[q, m], d})^2 for every listed pair, returned in `dtype`.

    Differences are taken in the input precision (exact to rounding, no cancellation), the sum
    accumulated in float64 by blocks of rows small enough to stay in cache.
    """
    rows_total, k = indices.shape
    out = torch.empty((rows_total, k), dtype=dtype, device=X.device)
    block = max(1, (1 << 18) // max(1, k * X.shape[1]))
    for start in range(0, rows_total, block):
        stop = min(rows_total, start + block)
        others = X.index_select(0, indices[start:stop].reshape(-1)).reshape(stop - start, k, -1)
        diff = Q[start:stop].unsqueeze(1) - others
        out[start:stop] = diff.square().sum(dim=2, dtype=torch.float64)
    return out
