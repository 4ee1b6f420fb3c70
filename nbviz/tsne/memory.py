"""Will a run fit? The peak memory of building P, checked against what the device has free.

Building P dominates a run's memory: the neighbour search keeps N x k indices and distances, and
symmetrising p_{j|i} into p_ij sorts both directions of every pair. Measured on this code
(peak resident memory over random k = 90 graphs of 100,000 and 200,000 points): about 180 bytes
per directed neighbour pair on top of the search's 16, so PAIR_BYTES = 200 per pair. An HNSW
index adds about 4 D + 8 * 2 * HNSW_DEGREE bytes per point. A run whose estimate exceeds the
memory free now fails before any work with a TSNEError that gives both numbers and the fixes.
"""
from __future__ import annotations

import os

import torch

from .errors import TSNEError
from .neighbors import HNSW_DEGREE

#: Peak bytes per directed neighbour pair (i, j in kNN(i)) while P is built (see the module docstring).
PAIR_BYTES = 200


def estimated_peak_bytes(n_points: int, n_features: int, k: int, approximate: bool) -> int:
    """Bytes a run needs beyond its input while P is built: N k PAIR_BYTES, plus the HNSW index
    (N (4 D + 16 HNSW_DEGREE)) when the search is approximate, plus a 64 MB search block."""
    index = n_points * (4 * n_features + 16 * HNSW_DEGREE) if approximate else 0
    return n_points * k * PAIR_BYTES + index + (64 << 20)


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
