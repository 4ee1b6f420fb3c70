"""Will a run fit? The peak memory of finding neighbours and building P, checked against what the
device has free.

A run's memory peaks in one of two phases. The neighbour search holds a centred copy of the
data, when the search is approximate the larger of what its two searches hold: inverted lists
(inverted_file.py: the data's copy in list order, 4 D bytes per point, the reservoirs, 16 per
pair, the lists probed, 4 per probe, and the grouping of one group of probe ranks, 14 per rank)
or the HNSW index (about 4 D + 8 * 2 * HNSW_DEGREE bytes per point) and the data's copy in
cluster order it is built from (4 D); when it is exact the tiled
search's reservoirs (2k candidates of 8 bytes per point) and its int64 result (24 bytes per
pair in all) and, for data of few dimensions, the data's copy in cluster order (4 D), and the N x k int32 indices and float32 distances it returns (8 bytes per pair). Building
P then holds the indices, p_{j|i}, p_{i|j}, the mutual-pair flags and the final table (8 bytes
per slot, one slot per pair and direction): N x k arrays of 4 bytes or less, the table, and work
blocks of fixed size. Measured on a random graph of 200,000 points x 90 neighbours, where almost no pair
is mutual (the most slots a graph can need): 39 bytes per directed pair including the search's
8, so PAIR_BYTES = 40 (tests/tsne/test_memory.py checks it). A million points at perplexity 30
need about 3.9 GB. A run whose estimate exceeds the memory free now fails before any work with a
TSNEError that gives both numbers and the fixes.
"""
from __future__ import annotations

import os

import torch

from .errors import TSNEError
from .inverted_file import PROBES, RANK_GROUP_WIDTH
from .neighbors import HNSW_DEGREE

#: Peak bytes per directed neighbour pair (i, j in kNN(i)) while P is built (see the module docstring).
PAIR_BYTES = 40
#: Bytes per directed pair the neighbour search returns (int32 index, float32 squared distance).
SEARCH_PAIR_BYTES = 8
#: Bytes per directed pair the exact search holds while it runs: two candidates' reservoir
#: entries (float32 score, int32 index) and the int64 index it returns (see tiled_search.py).
EXACT_SEARCH_PAIR_BYTES = 24
#: Work blocks of fixed size (search blocks, faiss query chunks, P's blocks of rows).
FIXED_BYTES = 256 << 20


def estimated_peak_bytes(n_points: int, n_features: int, k: int, approximate: bool) -> int:
    """Bytes a run needs beyond its input: the larger of the search phase, N (4 D + k
    SEARCH_PAIR_BYTES) plus, when the search is approximate, the larger of the inverted lists'
    N (4 D + 16 k + 4 PROBES[-1] + 14 RANK_GROUP_WIDTH) and the HNSW index with its clustered
    copy of the data N (8 D + 16 HNSW_DEGREE), when it is exact N (k EXACT_SEARCH_PAIR_BYTES +
    4 D), and the P phase, N k PAIR_BYTES; plus FIXED_BYTES of work blocks."""
    if approximate:
        inverted_lists = 4 * n_features + 16 * k + 4 * PROBES[-1] + 14 * RANK_GROUP_WIDTH
        working = n_points * max(inverted_lists, 8 * n_features + 16 * HNSW_DEGREE)
    else:
        working = n_points * (k * EXACT_SEARCH_PAIR_BYTES + 4 * n_features)
    search = n_points * (4 * n_features + k * SEARCH_PAIR_BYTES) + working
    return max(search, n_points * k * PAIR_BYTES) + FIXED_BYTES


def free_bytes(device: torch.device) -> int | None:
    """Memory free now on `device`: CUDA's free memory, or the system's available memory for the
    CPU (psutil, else /proc/meminfo); None when it cannot be told."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    if device.type != "cpu":
        return None
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def check_fits(n_points: int, n_features: int, k: int, approximate: bool, device: torch.device) -> None:
    """Raise TSNEError when building P for this run would need more memory than `device` has free.

    Set NBVIZ_TSNE_MEMORY_CHECK=0 to skip the check (e.g. when swap is meant to take the rest).
    """
    if os.environ.get("NBVIZ_TSNE_MEMORY_CHECK", "1") == "0":
        return
    available = free_bytes(device)
    needed = estimated_peak_bytes(n_points, n_features, k, approximate)
    if available is None or needed <= available:
        return
    gib = 2.0 ** 30
    raise TSNEError(
        f"this run needs about {needed / gib:.1f} GiB to build its affinities ({n_points:,} points x "
        f"{k} neighbours) but {device.type} has {available / gib:.1f} GiB free; lower the perplexity "
        f"(k = 3 * perplexity), embed a sample of the points (TSNE.transform places the rest), or free "
        f"memory (NBVIZ_TSNE_MEMORY_CHECK=0 skips this check)"
    )
