"""Exact k nearest neighbours of every point among all points, each pair's product formed once.

The points are cut into blocks of TILE rows. For every pair of blocks a <= b one matrix product
gives the tile G = X_a X_b^T, and both of its sides are used: its rows rank block b's points as
candidates of block a's, its columns block a's as candidates of block b's, by
s_ij = |x_j|^2 - 2 x_i.x_j (the squared distance less |x_i|^2, the same for all of point i's
candidates). So the search forms N^2 / 2 products where a search of all points as queries forms
N^2, and each point's k best are selected by the C reservoirs of native.TileSelection.

Measured against faiss's brute force (each point a query, k-selection by its reservoir), k = 90,
2 cores: the 30,522 x 384 MiniLM vocabulary 1.5-1.6 s instead of 2.6-2.7 s, 70,000 x 50 warped
digits 2.9-3.1 s in their given order and 2.4 s in cluster order instead of 4.6-4.9 s, with the
same neighbours up to ties. The branch-free quickselect of the reservoirs (selection.c) then took
the whole neighbour step (search, pair distances, sort) from 1.67-1.74 to 1.53-1.55 s on the
vocabulary and from 2.82-2.86 to 2.45-2.55 s on a 70,000 x 50 Gaussian mixture.
"""
from __future__ import annotations

import torch

from .native import TileSelection

#: Points per block: a 2048 x 2048 float32 tile is 16 MB. Of blocks of 512 to 4,096 points,
#: 2,048 was the fastest or tied on the MiniLM vocabulary and on 70,000 x 50 points.
TILE = 2048


def tiled_search(X: torch.Tensor, k: int, selection: TileSelection) -> torch.Tensor:
    """(N, k) int32: the k nearest other points of every row of X (float32, on the CPU), unsorted.

    The diagonal tiles come first: data listed class by class, or put in cluster order (see
    neighbors._tiled_exact_search), then gives each point a low bar from its own block before
    the cross tiles are scanned, and fewer candidates pass it. A point is never its own
    neighbour; duplicates list each other.
    """
    X = X.contiguous()
    n = X.shape[0]
    selection.begin(n, k)
    sq_norms = (X * X).sum(dim=1)
    starts = range(0, n, TILE)
    pairs = [(a, a) for a in starts] + [(a, b) for a in starts for b in starts if b > a]
    buffer = torch.empty(min(n, TILE) ** 2, dtype=torch.float32)
    for a, b in pairs:
        rows, cols = min(TILE, n - a), min(TILE, n - b)
        tile = buffer[:rows * cols].view(rows, cols)
        torch.mm(X[a:a + rows], X[b:b + cols].T, out=tile)
        selection.offer_rows(tile, a, b, sq_norms[b:b + cols])
        if b != a:
            selection.offer_columns(tile, a, b, sq_norms[a:a + rows])
    return selection.finish()
