"""faiss's process-wide settings for nbviz's searches, set around each of our calls and restored."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

#: faiss's process-wide brute-force settings while our searches run (set only around our own
#: calls, then restored):
#: - distance_compute_blas_threshold: faiss 1.15 ships 128,000, and a call whose queries x D stay
#:   below it takes the per-pair loop instead of a matrix product (BLAS): 2-4.5x slower per query
#:   for 1,000 queries of 50-D points and 10x for 300 of 384-D (against 30,000-250,000 points,
#:   2 cores). 20 (faiss's earlier default) puts every batch but the tiniest on BLAS.
#: - distance_compute_min_k_reservoir and the BLAS block sizes: k-selection by a reservoir (kept
#:   at 2k, partitioned when full) instead of a heap from k = 32 on, on blocks of 1,024 queries x
#:   4,096 points instead of 4,096 x 1,024. All 70,000 x 50 points at k = 91: 6.7 -> 4.9 s; the
#:   MiniLM vocabulary: 3.3 -> 2.8 s (2 cores, Intel AVX-512). The same neighbours either way.
FAISS_SETTINGS = {
    "distance_compute_blas_threshold": 20,
    "distance_compute_min_k_reservoir": 32,
    "distance_compute_blas_query_bs": 1024,
    "distance_compute_blas_database_bs": 4096,
}


@contextmanager
def faiss_settings() -> Iterator[None]:
    """Within the block faiss's process-wide brute-force settings are FAISS_SETTINGS; the
    caller's values are restored on exit, also after an error."""
    import faiss

    previous = {name: getattr(faiss.cvar, name) for name in FAISS_SETTINGS}
    for name, value in FAISS_SETTINGS.items():
        setattr(faiss.cvar, name, value)
    try:
        yield
    finally:
        for name, value in previous.items():
            setattr(faiss.cvar, name, value)
