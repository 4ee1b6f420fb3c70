"""Approximate k nearest neighbours of every point: inverted lists, scored exactly by matrix products.

faiss k-means cuts the N points into about N / POINTS_PER_LIST lists, each point in the list of
its nearest centroid. A point probes p lists: its own and the p - 1 others whose centroids are
nearest to it among the CANDIDATE_CENTROIDS_PER_PROBE * p nearest centroids of its own (a
centroid's neighbours stand in for all centroids, which would cost a product of every point
with every centroid). Its k nearest
neighbours are then the k nearest points of those lists, ranked exactly by
s_qj = |x_j|^2 - 2 x_q.x_j (the squared distance less |x_q|^2). The work goes list by list:
the points that probe a list are gathered into one block, one matrix product scores the block
against the list, and the C reservoirs of native.TileSelection (the same as exact search's)
keep each point's k best. Every point's own list comes first, then the others by probe rank,
so that bars are low early and few candidates are stored.

Since a point's neighbours are the nearest points of its p lists, its recall depends only on p
and can be counted before any search: the share of a sampled point's exact k nearest that sit
in its p lists. plan_probes takes the smallest p of PROBES at which the recall sample clears
the target (with the same margin as the HNSW check); the search of all points then returns
those very lists' nearest for the sampled points, so the recall it reports is measured, not
expected.

This is faiss's IndexIVFFlat search turned into matrix products. faiss's own search scans
every (query, list) pair without them: all 250,000 warped digits (50-D, k = 90, 976 lists of
about 256, 32 probes, 2 cores) took 11.9 s with IndexIVFFlat.search and 32 s with
faiss.contrib's big_batch_search (a brute-force call and a heap per list).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from .kmeans import kmeans_clusters
from .native import TileSelection, native_pair_sq_distances

#: Points per inverted list. The whole approximate search of 250,000 warped digits (k = 90,
#: sampled recall 0.99, 2 cores): lists of 128 needed 48 probes (6,400 candidates per point) and
#: took 7.2 s, of 256 32 probes (8,500) and 5.1 s, of 512 24 probes (12,800) and 5.3 s. Smaller
#: lists waste fewer candidates but make smaller, slower products and more of them.
POINTS_PER_LIST = 256
#: Fewest lists worth searching this way (fewer points than MIN_LISTS * POINTS_PER_LIST are cheap
#: to search exactly, and a handful of lists leaves no choice of probes).
MIN_LISTS = 8
#: Probe counts tried, smallest first, until the sample's recall clears the target.
PROBES = (8, 12, 16, 24, 32, 48, 64, 96, 128)
#: Each point's probes are chosen among this many times p centroids nearest its own. On 250,000
#: warped digits the sampled recall at 32 probes was 0.973 with 2, 0.990 with 4, 0.993 with 8
#: and with all centroids (its lower bound with the two-standard-error margin).
CANDIDATE_CENTROIDS_PER_PROBE = 8
#: faiss k-means rounds, and training points per centroid (faiss's max_points_per_centroid). At
#: 1,000,000 warped digits 6 rounds on 32 points per centroid made the lists in 3.7 s instead of
#: 7.1 s for 10 on 64, with the same probes (48) and 0.8% more candidates.
KMEANS_ROUNDS = 6
KMEANS_POINTS_PER_CENTROID = 32
#: Expected search time per (point, candidate) pair and unit of (2 D + SELECTION_COST): each
#: candidate costs its product (D multiply-adds, not shared by two points as in exact search),
#: its gather and its selection. See inverted_file_seconds.
SECONDS_PER_PAIR_UNIT = 9.5e-12
SELECTION_COST = 90
#: Probe ranks scored together in the second pass, nearest first (bounds the grouping arrays
#: to N x 16 entries).
RANK_GROUP_WIDTH = 16
#: Rows per block where all points are handled in blocks (assignment, probes).
_ROW_BLOCK = 1 << 14
#: Centroids per block of the centroids' own neighbour search.
_CENTROID_BLOCK = 1 << 10
#: Largest tile (gathered rows x list points) scored at once: 8 MB of float32.
_TILE_ELEMENTS = 1 << 21


@dataclass(frozen=True)
class InvertedLists:
    """k-means lists of N points: `centroids` (C, D) float32, each point's list `assignment`
    (N,) int64 (its nearest centroid), each centroid's nearest centroids `near_centroids`
    (C, W) int64 (itself first), and `seconds` spent making them."""

    centroids: torch.Tensor
    assignment: torch.Tensor
    near_centroids: torch.Tensor
    seconds: float

    @property
    def sizes(self) -> torch.Tensor:
        """(C,) int64 points per list."""
        return torch.bincount(self.assignment, minlength=self.centroids.shape[0])

    def probes(self, X: torch.Tensor, rows: torch.Tensor, p: int) -> torch.Tensor:
        """(len(rows), p) int64: the lists the points X[rows] probe, own list first, then the
        others by distance from the point to their centroid, nearest first.

        A point's candidates are the W = CANDIDATE_CENTROIDS_PER_PROBE * p centroids nearest its
        own (themselves by the same measure), so that all points of a list share them: per list,
        one product ranks the list's rows against its W candidates by |c|^2 - 2 x.c.
        """
        width = min(self.near_centroids.shape[1], CANDIDATE_CENTROIDS_PER_PROBE * p)
        own, by_list = torch.sort(self.assignment.index_select(0, rows), stable=True)
        lists, counts = torch.unique_consecutive(own, return_counts=True)
        result = torch.empty((rows.numel(), p), dtype=torch.int64)
        first = 0
        for target, count in zip(lists.tolist(), counts.tolist()):
            at = by_list[first:first + count]
            first += count
            candidates = self.near_centroids[target, :width]
            chosen = self.centroids.index_select(0, candidates)
            scores = torch.addmm((chosen * chosen).sum(dim=1), X.index_select(0, rows.index_select(0, at)), chosen.T, alpha=-2.0)
            scores[:, 0] = -math.inf  # the own list first, also where another centroid ties with it
            result[at] = candidates[torch.topk(scores, p, dim=1, largest=False, sorted=True).indices]
        return result


def inverted_lists(X: torch.Tensor, seed: int, most_probes: int = PROBES[-1]) -> InvertedLists:
    """faiss k-means of the (N, D) float32 rows of X with max(MIN_LISTS, N // POINTS_PER_LIST)
    centroids (KMEANS_ROUNDS rounds, at most KMEANS_POINTS_PER_CENTROID training points per
    centroid); each point's list is its nearest centroid (faiss's brute force: 1.9 s for
    1,000,000 x 50 points against 3,906 centroids on 2 cores, 4.3 s for blocks of torch's addmm
    and argmin), and each centroid's CANDIDATE_CENTROIDS_PER_PROBE * most_probes nearest centroids
    are kept for probes()."""
    started = time.perf_counter()
    clusters = max(MIN_LISTS, X.shape[0] // POINTS_PER_LIST)
    centroids, assignment = kmeans_clusters(np.ascontiguousarray(X.numpy()), clusters, KMEANS_ROUNDS,
                                            KMEANS_POINTS_PER_CENTROID, seed)
    centroids, assignment = torch.from_numpy(centroids), torch.from_numpy(assignment)
    width = min(clusters, CANDIDATE_CENTROIDS_PER_PROBE * most_probes)
    near_centroids = torch.empty((clusters, width), dtype=torch.int64)
    for low in range(0, clusters, _CENTROID_BLOCK):
        between = torch.cdist(centroids[low:low + _CENTROID_BLOCK], centroids)
        rows = torch.arange(between.shape[0])
        between[rows, rows + low] = -1.0  # each centroid its own nearest
        near_centroids[low:low + _CENTROID_BLOCK] = torch.topk(between, width, dim=1, largest=False, sorted=True).indices
    return InvertedLists(centroids, assignment, near_centroids, time.perf_counter() - started)


@dataclass(frozen=True)
class ProbePlan:
    """`probes` per point, the sample's per-point recall there (`sample_recall`, the share of
    each sampled point's exact k nearest in its lists), and the sample's mean number of
    candidates per point (`candidates_per_point`)."""

    probes: int
    sample_recall: np.ndarray
    candidates_per_point: float


def plan_probes(lists: InvertedLists, X: torch.Tensor, sample: torch.Tensor, exact_sample: torch.Tensor,
                target: float) -> ProbePlan | None:
    """The fewest probes p of PROBES (at most the number of lists) whose sampled recall clears
    `target`, or None.

    For each sampled point q (`sample`: row numbers of X, `exact_sample`: their exact k nearest),
    r_q(p) = |{j in exact_k(q) : list(j) in probes_p(q)}| / k, the share of its exact k nearest
    that lie in its p lists: the search then surely finds them (or a point tied with the k-th in
    place of one, which the measured recall counts as found). p must satisfy
    mean(r) - 2 std(r) / sqrt(m) >= target.
    """
    k = exact_sample.shape[1]
    neighbour_lists = lists.assignment.index_select(0, exact_sample.reshape(-1)).reshape(exact_sample.shape)
    sizes = lists.sizes
    for p in PROBES:
        if p > lists.centroids.shape[0]:
            break
        probed = lists.probes(X, sample, p)
        in_probes = (neighbour_lists.unsqueeze(2) == probed.unsqueeze(1)).any(dim=2)
        recall = (in_probes.sum(dim=1).double() / k).numpy()
        if recall.mean() - 2 * recall.std() / math.sqrt(recall.size) >= target:
            return ProbePlan(p, recall, float(sizes[probed].sum(dim=1).double().mean()))
    return None


def inverted_file_seconds(n_points: int, n_features: int, plan: ProbePlan) -> float:
    """Expected search time: N * candidates per point * (2 D + SELECTION_COST) * SECONDS_PER_PAIR_UNIT."""
    return n_points * plan.candidates_per_point * (2 * n_features + SELECTION_COST) * SECONDS_PER_PAIR_UNIT


def inverted_file_search(X: torch.Tensor, lists: InvertedLists, p: int, k: int,
                         selection: TileSelection) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each row's k nearest other rows of X (float32, CPU) among the points of the p lists it
    probes (lists.probes), unsorted: (N, k) int32 row numbers, their squared distances (N, k)
    float32, sum_d (x_id - x_jd)^2 summed in double, and the rows with fewer than k candidates
    there (int64; their rows of the result are not filled: the caller searches them exactly).

    The rows are put in list order, so that every list is a block of consecutive rows. Pass 1
    scores each list's points against their own list (one product per list); pass 2 gathers, for
    each group of RANK_GROUP_WIDTH probe ranks and each list, the points that probe it at those
    ranks and scores them against it.
    """
    n = X.shape[0]
    order = torch.sort(lists.assignment, stable=True).indices
    starts = torch.cat([torch.zeros(1, dtype=torch.int64), torch.cumsum(lists.sizes, dim=0)]).tolist()
    ordered = X.index_select(0, order)
    probed = lists.probes(X, order, p).to(torch.int32)  # lists probed by the rows in list order
    short = torch.nonzero(_candidate_counts(lists, probed) - 1 < k).view(-1)  # positions in list order
    sq_norms = (ordered * ordered).sum(dim=1)
    buffer = torch.empty(_TILE_ELEMENTS, dtype=torch.float32)  # one tile's room, reused (no page faults per tile)
    selection.begin(n, k)
    for first, stop in zip(starts[:-1], starts[1:]):
        _score_against_list(ordered, sq_norms, first, stop, None, range(first, stop), buffer, selection)
    for low in range(1, p, RANK_GROUP_WIDTH):
        visits, visitors = _visitors_by_list(probed[:, low:min(p, low + RANK_GROUP_WIDTH)], len(starts) - 1)
        for target in torch.nonzero(visits[1:] > visits[:-1]).view(-1).tolist():
            _score_against_list(ordered, sq_norms, starts[target], starts[target + 1], visitors,
                                range(int(visits[target]), int(visits[target + 1])), buffer, selection)
    found = selection.finish()
    found[short] = 0  # reservoirs that never filled hold unset entries: any valid row, replaced by the caller
    # Distances in list order, where a point's neighbours mostly sit in nearby rows (1,000,000
    # points: 4.8 s in the caller's order), then rows and entries back to the caller's numbering.
    found_distances = native_pair_sq_distances(selection.built)(ordered, ordered, found)
    indices = torch.empty((n, k), dtype=found.dtype)
    indices.index_copy_(0, order, order.to(found.dtype).index_select(0, found.view(-1)).view(n, k))
    sq_distances = torch.empty((n, k), dtype=torch.float32)
    sq_distances.index_copy_(0, order, found_distances)
    return indices, sq_distances, order[short]


def _candidate_counts(lists: InvertedLists, probed: torch.Tensor) -> torch.Tensor:
    """Per row of `probed` (lists probed): the points in those lists, by blocks of rows."""
    sizes = lists.sizes
    return torch.cat([sizes[probed[low:low + _ROW_BLOCK].long()].sum(dim=1)
                      for low in range(0, probed.shape[0], _ROW_BLOCK)])


def _score_against_list(ordered: torch.Tensor, sq_norms: torch.Tensor, first: int, stop: int,
                        visitors: torch.Tensor | None, span: range, buffer: torch.Tensor,
                        selection: TileSelection) -> None:
    """Offer the points of list [first, stop) (rows of `ordered`) to the rows visitors[span]
    (the list's own rows span when visitors is None), by tiles of at most _TILE_ELEMENTS."""
    columns = stop - first
    if columns == 0 or len(span) == 0:
        return
    rows_per_tile = max(1, buffer.numel() // columns)
    for low in range(span.start, span.stop, rows_per_tile):
        high = min(span.stop, low + rows_per_tile)
        tile = buffer[:(high - low) * columns].view(high - low, columns)
        if visitors is None:
            torch.mm(ordered[low:high], ordered[first:stop].T, out=tile)
            selection.offer_rows(tile, low, first, sq_norms[first:stop])
        else:
            ids = visitors[low:high]
            torch.mm(ordered.index_select(0, ids), ordered[first:stop].T, out=tile)
            selection.offer_rows(tile, 0, first, sq_norms[first:stop], row_ids=ids)


def _visitors_by_list(probed: torch.Tensor, n_lists: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows grouped by the lists they probe: visitors[visits[c]:visits[c + 1]] (int32 row
    numbers, ascending) are the rows whose entries of `probed` (rows x width) name list c. A
    stable sort of int16 list numbers where they fit: numpy sorts those by radix, in linear time."""
    width = probed.shape[1]
    key = probed.numpy().reshape(-1).astype(np.int16 if n_lists <= np.iinfo(np.int16).max else np.int32)
    grouped = torch.from_numpy(np.argsort(key, kind="stable"))
    visits = torch.from_numpy(np.concatenate([[0], np.cumsum(np.bincount(key, minlength=n_lists))]))
    return visits, torch.div(grouped, width, rounding_mode="floor").to(torch.int32)
