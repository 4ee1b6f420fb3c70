"""k nearest neighbours of every point: exact brute-force search, or an approximate search checked by sampling.

Real embeddings (word vectors, CNN features) are nearly uniform in high dimension: there the 90th
neighbour of a point is often only ~10% farther than its first, and approximate indexes lose
many true neighbours at settings that look perfect on clustered synthetic data. So the
approximate path never trusts its settings: it measures recall on a seeded sample of queries
against exact search (recall_sample) and uses exact search instead when reaching the target
would cost as much as exact search itself. On the CPU it first tries inverted lists
(inverted_file.py: faiss k-means lists, scored exactly by matrix products, with the fewest
probes whose sampled recall clears the target); where those would cost too much (in high
dimension k-means makes a few giant lists), faiss HNSW, whose search breadth is raised until
the sampled recall clears the target with a margin.

Exact search of all points among themselves on the CPU is tiled_search.py's: one matrix product
per pair of blocks, used for both blocks' points, and C reservoirs keeping each point's k best.
Exact search of other queries (and of all points when the C code cannot be built) is faiss's
brute-force k-NN on the CPU, elsewhere, and for float64 data, a blocked matrix product and top-k
in torch.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .errors import TSNEError
from .faiss_settings import faiss_settings
from .inverted_file import MIN_LISTS, POINTS_PER_LIST, inverted_file_search, inverted_file_seconds, inverted_lists, plan_probes
from .kmeans import kmeans_clusters
from .native import TileSelection, native_pair_sq_distances, native_tile_selection
from .tiled_search import TILE, tiled_search

#: On the CPU the exact neighbour step (tiled_search.py, then the pair distances) costs about
#: N^2 * (D + TOPK_COST_CPU) * 3.75e-12 s on 2 cores (measured: the 30,522 x 384 MiniLM
#: vocabulary 1.54 s, 120,000 x 50 warped digits 5.8 s in cluster order): selecting each point's
#: k nearest costs as much as ~58 more dimensions of the product. "auto" searches exactly while
#: that count stays within EXACT_BUDGET_CPU (about 5.6 s there: up to ~118,000 points of 50
#: dimensions or ~58,000 of 384), else tries HNSW, which itself returns to exact search when
#: that is cheaper at the recall it must reach. Where they cross (warped digits, k = 90): 120,000
#: points 5.8 s exact against 5.6 s HNSW, 150,000 8.7 against 7.3 s; at 90,000 HNSW's checks
#: handed over to exact search after 2 s (6.0 s against 4.0 s searching exactly at once).
TOPK_COST_CPU = 58
EXACT_BUDGET_CPU = 1.5e12
#: How much of the time extrapolated from the recall sample's exact search (faiss, 1,000 queries
#: against all points) the tiled search of all points takes: measured 0.23 on the MiniLM
#: vocabulary, 0.44-0.51 on 20,000-120,000 points of 50 dimensions (2 cores). The larger keeps
#: the hand-over to exact search on the safe side: HNSW is kept only when clearly faster.
TILED_SHARE_OF_SAMPLE_ESTIMATE = 0.5
#: The exact search of all points runs in k-means cluster order (see _tiled_exact_search) for
#: data of at most this many dimensions. Measured (2 cores, k = 90, search in given order ->
#: in cluster order, ordering included): 70,000 warped digits (50-D) 2.96 -> 2.39 s, a 70,000-point
#: mixture 2.96 -> 2.57 s, 20,000 warped digits 0.46 -> 0.37 s, the MiniLM vocabulary's leading
#: 32 / 64 principal components 0.75 -> 0.67 / 0.88 -> 0.79 s; but its 128 components 0.95 ->
#: 1.06 s and all 384 dimensions 1.52 -> 1.80 s. In more dimensions k-means clusters hold few of
#: a point's neighbours (12% of the vocabulary's 90 nearest share a 2,048-point block in
#: cluster order, against 45-50% for the warped digits), and a point's candidates then arrive
#: in bursts from the few nearby clusters, which its reservoir's lagging bar lets through.
CLUSTER_ORDER_MAX_DIMENSIONS = 64
#: The same on an accelerator (torch's exact search there runs near its matmul peak): 1M x 50 is exact.
EXACT_BUDGET_ACCELERATOR = 1e14
#: Fewest (query, row) pairs searched by faiss: below it torch's search takes under ~0.2 s, and
#: faiss's first call in a process costs about that much (all 1,797 digits against each other:
#: 0.28 s for faiss's first call, 0.06 s for later ones, 0.08 s for torch).
FAISS_MIN_PAIRS = 1 << 26
#: Share of each point's true k nearest neighbours an approximate search must find.
RECALL_TARGET = 0.99
#: Queries whose recall is measured against exact search to tune and check the approximate
#: searches (see RecallSample); their exact search also times exact search of all N points.
RECALL_SAMPLE = 1000
#: Points per k-means cluster of the order HNSW is built and searched in (at most CLUSTERS_MAX
#: clusters). Neighbours then sit near each other in memory, and consecutive queries walk the same
#: part of the graph: the search ran 2.1x faster on 250,000 warped digits and 1.9x on a
#: 70,000-point mixture at the same recall (2 cores), for under a second of clustering.
POINTS_PER_CLUSTER = 256
CLUSTERS_MAX = 1024
#: HNSW graph degree and build breadth (faiss's M and efConstruction), chosen by measurement with
#: k = 90 and the search breadth then raised to sampled recall 0.99 (2 cores, build + search):
#: 250,000 warped digits (50 PCs) 28 s against 45 s for M 32 / efC 128, a 70,000-point 50-D
#: Gaussian mixture 9 s against 12.5 s. M 16 / efC 64 was as fast on the digits but had to search
#: the mixture at breadth 280. In cluster order, efC 48 built the digits' graph 2.4 s faster, but a
#: 150,000-point mixture then needed breadth 685 instead of 350 (33 s against 21 s).
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

    `indices` (N, k) int32 (int64 from 2^31 points on) and `sq_distances` (N, k) float32, the
    direct sum_d (x_id - x_jd)^2 (no cancellation: after exact search and inverted lists summed
    in float64, after HNSW faiss's own float32 sum; float32 halves a million-point run's largest
    arrays),
    `method` "exact", "ivf" (inverted_file.py) or "hnsw", and `recall`:
    1.0 for exact search, else the recall measured on `RECALL_SAMPLE` seeded queries against
    exact search. A holder that keeps only the indices replaces sq_distances by None.
    """

    indices: torch.Tensor
    sq_distances: torch.Tensor | None
    method: str
    recall: float


def nearest_neighbors(X: torch.Tensor, k: int, method: str = "auto", seed: int = 0) -> Neighbors:
    """The k nearest other points of every row of X (a point is never its own neighbour).

    `method`: "exact" (brute force, see search_against), "approx" (inverted lists, else faiss
    HNSW, each tuned and checked as the module docstring says) or "auto" (exact while
    N^2 (D + TOPK_COST_CPU) <= EXACT_BUDGET_CPU, or N^2 D <= EXACT_BUDGET_ACCELERATOR off the
    CPU; approx above). `seed` picks the recall sample and seeds the k-means of the lists.
    """
    n, dim = X.shape
    if not 1 <= k < n:
        raise TSNEError(f"the neighbour search needs 1 <= k < N, got k={k} for N={n} points; "
                        "lower the perplexity (k = 3 * perplexity) or pass more points")
    if method not in ("auto", "exact", "approx"):
        raise TSNEError(f"unknown neighbour method {method!r}; use 'auto', 'exact' or 'approx'")
    method = search_method(n, dim, X.device, method)
    Xc = centred(X)
    if method == "approx" and n > RECALL_SAMPLE:
        sample = recall_sample(Xc, k, seed)
        found = _checked_inverted_file_search(Xc, k, seed, sample) or _checked_hnsw_search(Xc, k, seed, sample)
        if found is not None:
            return found
    indices = exact_search(Xc, k).to(index_dtype(n))
    sq_distances = pair_sq_distances(Xc, Xc, indices, dtype=torch.float32)
    _sort_rows_by_distance(sq_distances, indices)
    return Neighbors(indices, sq_distances, "exact", 1.0)


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

    Returns (len(queries), k) int64 indices, unsorted. All rows of float32 data on the CPU go to
    tiled_search when the C selection is available, anything else to search_against.
    """
    if queries is None:
        selection = _tile_selection(X)
        if selection is not None:
            return _tiled_exact_search(X, k, selection)
        queries = torch.arange(X.shape[0], device=X.device)
    return search_against(X.index_select(0, queries), X, k, exclude=queries)


def _tiled_exact_search(X: torch.Tensor, k: int, selection: TileSelection) -> torch.Tensor:
    """tiled_search of all rows of X ((N, k) int64), on a copy in k-means cluster order
    (_cluster_order) when X has at most CLUSTER_ORDER_MAX_DIMENSIONS columns and more rows than
    one tile: a point's own block then holds many of its neighbours and gives it a low bar early."""
    if X.shape[1] > CLUSTER_ORDER_MAX_DIMENSIONS or X.shape[0] <= TILE:
        return tiled_search(X, k, selection).to(torch.int64)
    order = torch.from_numpy(_cluster_order(np.ascontiguousarray(X.numpy()), seed=0))
    found = tiled_search(X.index_select(0, order), k, selection)
    result = torch.empty(found.shape, dtype=torch.int64)
    result[order] = order[found.long()]  # back to the caller's numbering, rows and entries
    return result


def _tile_selection(X: torch.Tensor) -> TileSelection | None:
    """The C selection for tiled_search when it can search all rows of X: float32 data on the
    CPU, fewer than 2^31 rows, the C library built and switched on (see native.py)."""
    if X.device.type != "cpu" or X.dtype != torch.float32 or X.shape[0] >= 2**31:
        return None
    return native_tile_selection()


def search_against(Q: torch.Tensor, X: torch.Tensor, k: int, exclude: torch.Tensor | None = None) -> torch.Tensor:
    """Exact k-NN of each row of Q among the rows of X ((len(Q), k) int64 indices, unsorted).

    `exclude[q]` names a row of X that query q may not return (its own row when Q is a subset
    of X: duplicates then still list each other). Every row is ranked by ||x_j||^2 - 2 q.x_j:
    float32 data on the CPU through faiss's brute force (asking for k + 1 when a row is
    excluded and dropping it) from FAISS_MIN_PAIRS (query, row) pairs on, anything else by
    blocks in torch (see _torch_search_against).
    """
    return _brute_force(Q, X, Q.shape[0] * X.shape[0])(Q, X, k, exclude)


def _brute_force(Q: torch.Tensor, X: torch.Tensor, pairs: int) -> Callable:
    """The exact search for a job of `pairs` (query, row) pairs on Q and X's device and dtype:
    _faiss_search_against for float32 on the CPU from FAISS_MIN_PAIRS on, else _torch_search_against."""
    on_cpu = X.device.type == "cpu" and X.dtype == torch.float32 and Q.dtype == torch.float32
    return _faiss_search_against if on_cpu and pairs >= FAISS_MIN_PAIRS else _torch_search_against


def _faiss_search_against(Q: torch.Tensor, X: torch.Tensor, k: int, exclude: torch.Tensor | None) -> torch.Tensor:
    """search_against by faiss.knn, in chunks of _QUERY_CHUNK queries (bounds its result arrays)."""
    import faiss

    base = np.ascontiguousarray(X.detach().numpy())
    queries = np.ascontiguousarray(Q.detach().numpy())
    asked = k if exclude is None else min(k + 1, base.shape[0])
    excluded = None if exclude is None else exclude.cpu().numpy()
    result = np.empty((queries.shape[0], k), dtype=np.int64)
    with faiss_settings():
        for start in range(0, queries.shape[0], _QUERY_CHUNK):
            stop = min(queries.shape[0], start + _QUERY_CHUNK)
            _, found = faiss.knn(queries[start:stop], base, asked)
            if excluded is not None:
                found = _without_listed(found, excluded[start:stop], k)
            result[start:stop] = found
    return torch.from_numpy(result)


def _torch_search_against(Q: torch.Tensor, X: torch.Tensor, k: int, exclude: torch.Tensor | None) -> torch.Tensor:
    """search_against in torch on X's device: blocks of query rows ranked against all rows of X
    by one matmul each, topk keeping the k smallest, the excluded entry set to +inf first."""
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


def _without_listed(found: np.ndarray, listed: np.ndarray, k: int) -> np.ndarray:
    """The first k entries of each row of `found` (ranked, k + 1 wide) other than that row's
    entry of `listed` (its own point); -1 entries (a search that came up short) repeat the row's
    nearest find."""
    return np.take_along_axis(found, _columns_without_listed(found, listed, k), axis=1)


def _columns_without_listed(found: np.ndarray, listed: np.ndarray, k: int) -> np.ndarray:
    """Per row of `found`, the columns of its first k entries other than `listed` (see
    _without_listed): a (rows, k) column index for np.take_along_axis."""
    is_listed = found == listed[:, None]
    columns = np.argsort(is_listed, axis=1, kind="stable")[:, :k]  # unlisted entries first, in rank order
    missing = np.take_along_axis(found, columns, axis=1) < 0
    if missing.any():
        columns = np.where(missing, columns[:, :1], columns)
    return columns


@dataclass(frozen=True)
class RecallSample:
    """Seeded queries (`queries`, RECALL_SAMPLE row numbers) and their exact k nearest
    (`exact`, int64), the squared distance of each one's k-th (`kth`, float64), and the time
    exact search of all N points is expected to take (`exact_seconds`): the sample's own search
    extrapolated to N queries, times TILED_SHARE_OF_SAMPLE_ESTIMATE where tiled_search would run it."""

    queries: torch.Tensor
    exact: torch.Tensor
    kth: torch.Tensor
    exact_seconds: float

    def recall(self, X: torch.Tensor, indices: torch.Tensor) -> float:
        """Mean recall of the sampled rows of the (N, k) `indices` (see _sample_recall)."""
        return float(_sample_recall(X, self.queries, indices.index_select(0, self.queries).long(), self.kth).mean())


def recall_sample(X: torch.Tensor, k: int, seed: int) -> RecallSample:
    """The RecallSample of X: RECALL_SAMPLE rows drawn by `seed`, searched exactly and timed."""
    n = X.shape[0]
    generator = torch.Generator().manual_seed(seed)
    queries = torch.randperm(n, generator=generator)[:RECALL_SAMPLE].to(X.device)
    started = time.perf_counter()
    exact = _brute_force(X, X, n * n)(X.index_select(0, queries), X, k, queries)
    exact_seconds = (time.perf_counter() - started) * n / queries.numel()
    if _tile_selection(X) is not None:
        exact_seconds *= TILED_SHARE_OF_SAMPLE_ESTIMATE
    kth = pair_sq_distances(X.index_select(0, queries), X, exact).max(dim=1).values
    return RecallSample(queries, exact, kth, exact_seconds)


def _checked_inverted_file_search(X: torch.Tensor, k: int, seed: int, sample: RecallSample) -> Neighbors | None:
    """inverted_file.py's search with the fewest probes whose sampled recall clears
    RECALL_TARGET (plan_probes), or None: not float32 data on the CPU with the C selection,
    fewer than MIN_LISTS lists' worth of points, no probe count of PROBES reaches the target,
    or the k-means plus the expected search (inverted_file_seconds) would take as long as exact
    search. Rows with fewer than k candidates in their lists are searched exactly. The recall
    returned is the sample's, measured on the result."""
    selection = _tile_selection(X)
    n, dim = X.shape
    if selection is None or n < MIN_LISTS * POINTS_PER_LIST:
        return None
    lists = inverted_lists(X, seed)
    plan = plan_probes(lists, X, sample.queries, sample.exact, RECALL_TARGET)
    if plan is None or _exact_is_cheaper(lists.seconds + inverted_file_seconds(n, dim, plan), sample.exact_seconds):
        return None
    indices, sq_distances, short = inverted_file_search(X, lists, plan.probes, k, selection)
    if short.numel():
        found = search_against(X.index_select(0, short), X, k, exclude=short)
        indices[short] = found.to(indices.dtype)
        sq_distances[short] = pair_sq_distances(X.index_select(0, short), X, found, dtype=torch.float32)
    _sort_rows_by_distance(sq_distances, indices)
    return Neighbors(indices, sq_distances, "ivf", sample.recall(X, indices))


def _checked_hnsw_search(X: torch.Tensor, k: int, seed: int, sample: RecallSample) -> Neighbors | None:
    """HNSW search whose breadth is raised until sampled recall clears RECALL_TARGET.

    The points are first put in k-means cluster order (_cluster_order), and the graph is built
    and searched in that order. Breadth (efSearch) starts at k + 1 and grows by BREADTH_STEP
    (the search costs about linearly in it, and the target is often met well below 2k). At each
    breadth the sample's recall r_q (share of each sampled query's found neighbours no farther
    than its exact k-th neighbour, which counts ties fairly) must satisfy
    mean(r_q) - 2 std(r_q) / sqrt(m) >= RECALL_TARGET. Exact search of all N points takes
    sample.exact_seconds, the build is extrapolated from a first slice (its cost grows
    about as N log N) and the search from the sample (random queries: slower per query than the
    clustered full search, so the estimate leans towards exact search). Once the approximate
    estimate reaches exact search's, returns None and the caller searches exactly; the first
    check comes before the rest of the graph is built (the first slice's build, then its search
    at breadth k + 1), so that a hand-over wastes little. Else returns Neighbors: indices (N, k)
    int32 and their squared distances (float32, faiss's own sum_d (x_id - x_jd)^2, nearest
    first) on X's device, "hnsw", and the sampled recall.
    """
    import faiss  # loaded only when needed: a large native library

    n, dim = X.shape
    data = np.ascontiguousarray(X.detach().to("cpu", torch.float32).numpy())
    exact_seconds, kth = sample.exact_seconds, sample.kth
    order = _cluster_order(data, seed)
    clustered = data[order]
    index = faiss.IndexHNSWFlat(dim, HNSW_DEGREE)
    index.hnsw.efConstruction = HNSW_BUILD_BREADTH
    # Build on a first slice, and give up before the rest if the whole build alone would
    # already take longer than exact search, or the build and a search of all points at the
    # narrowest breadth (timed on the first slice's graph) would.
    first = max(RECALL_SAMPLE, n // 20)
    started = time.perf_counter()
    index.add(clustered[:first])
    build_seconds = (time.perf_counter() - started) * (n / first) * math.log(n) / math.log(first)
    if _exact_is_cheaper(build_seconds, exact_seconds):
        return None
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    sample_positions = position[sample.queries.cpu().numpy()]
    breadth = k + 1
    index.hnsw.efSearch = breadth
    started = time.perf_counter()
    index.search(clustered[sample_positions], k + 1)
    narrowest_search_seconds = (time.perf_counter() - started) * n / sample_positions.size
    if _exact_is_cheaper(build_seconds + narrowest_search_seconds, exact_seconds):
        return None
    index.add(clustered[first:])
    while True:
        index.hnsw.efSearch = breadth
        started = time.perf_counter()
        found, _ = _search_without_self(index, clustered, order, sample_positions, k)
        search_seconds = (time.perf_counter() - started) * n / sample_positions.size
        if _exact_is_cheaper(build_seconds + search_seconds, exact_seconds):
            return None
        per_query = _sample_recall(X, sample.queries, torch.from_numpy(found).to(X.device), kth)
        recall = float(per_query.mean())
        if recall - 2 * float(per_query.std()) / math.sqrt(per_query.numel()) >= RECALL_TARGET:
            break
        if breadth >= n:  # as broad as the data: the graph cannot do better than exact search
            return None
        breadth = min(n, math.ceil(breadth * BREADTH_STEP))
    indices, sq_distances = _search_without_self(index, clustered, order, np.arange(n), k, into=order)
    return Neighbors(torch.from_numpy(indices).to(X.device), torch.from_numpy(sq_distances).to(X.device), "hnsw", recall)


def _cluster_order(data: np.ndarray, seed: int) -> np.ndarray:
    """A permutation of the rows that lists them cluster by cluster: faiss k-means (10 rounds,
    trained on at most 64 points per centroid) with about N / POINTS_PER_CLUSTER centroids, at
    most CLUSTERS_MAX, then a stable sort by each point's nearest centroid."""
    clusters = min(CLUSTERS_MAX, data.shape[0] // POINTS_PER_CLUSTER)
    if clusters < 2:
        return np.arange(data.shape[0])
    _, nearest = kmeans_clusters(data, clusters, rounds=10, points_per_centroid=64, seed=seed)
    return np.argsort(nearest, kind="stable")


def _exact_is_cheaper(approximate_seconds: float, exact_seconds: float) -> bool:
    """Whether the extrapolated HNSW time (build and search) is no better than exact search."""
    return approximate_seconds >= exact_seconds


def _search_without_self(
    index, clustered: np.ndarray, order: np.ndarray, positions: np.ndarray, k: int,
    into: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest other points of the points at `positions` of the clustered order, nearest
    first, as row numbers of the input (order[...]), and their squared distances (float32); the
    index is asked for k + 1 and the point itself dropped.

    Result row i answers positions[i], or, given `into`, row into[i] does (the full search writes
    straight into the input's order). Queries go in chunks of _QUERY_CHUNK rows so that faiss's
    (rows, k + 1) distance and index arrays stay small next to the (rows, k) result.
    """
    indices = torch.empty((positions.size, k), dtype=index_dtype(order.size)).numpy()
    sq_distances = np.empty((positions.size, k), dtype=np.float32)
    for start in range(0, positions.size, _QUERY_CHUNK):
        chunk = positions[start:start + _QUERY_CHUNK]
        distances, found = index.search(clustered[chunk], k + 1)
        found, distances = _drop_listed(found, distances, chunk, k)
        rows = slice(start, start + chunk.size) if into is None else into[start:start + chunk.size]
        indices[rows] = order[found]
        sq_distances[rows] = distances
    return indices, sq_distances


def _drop_listed(found: np.ndarray, distances: np.ndarray, listed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """`found` and `distances` (k + 1 wide) without each row's `listed` entry, k wide (see
    _columns_without_listed): views of the inputs, whose other rows are overwritten in place. A
    point is almost always its own first find (at distance 0), and then its row is a slice; only
    the other rows (a duplicate point found first, a search that came up short) pay for the
    column search, which took 0.7 of 6.8 s at 250,000 x 90 for all rows.
    """
    kept_found, kept_distances = found[:, 1:k + 1], distances[:, 1:k + 1]
    other = np.flatnonzero((found[:, 0] != listed) | (found[:, k] < 0))
    if other.size:
        columns = _columns_without_listed(found[other], listed[other], k)
        kept_found[other] = np.take_along_axis(found[other], columns, axis=1)
        kept_distances[other] = np.take_along_axis(distances[other], columns, axis=1)
    return kept_found, kept_distances


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
    accumulated in float64: for float32 data and result on the CPU by native_pair_sq_distances
    (each difference squared in float64; the MiniLM vocabulary's 30,522 x 90 pairs in 0.1 s
    instead of 0.8 s), else in torch by blocks of rows small enough to stay in cache (each
    difference squared in the input precision).
    """
    if dtype == torch.float32:
        native = native_pair_sq_distances()
        found = None if native is None else native(Q, X, indices)
        if found is not None:
            return found
    rows_total, k = indices.shape
    out = torch.empty((rows_total, k), dtype=dtype, device=X.device)
    block = max(1, (1 << 18) // max(1, k * X.shape[1]))
    for start in range(0, rows_total, block):
        stop = min(rows_total, start + block)
        others = X.index_select(0, indices[start:stop].reshape(-1)).reshape(stop - start, k, -1)
        diff = Q[start:stop].unsqueeze(1) - others
        out[start:stop] = diff.square().sum(dim=2, dtype=torch.float64)
    return out
