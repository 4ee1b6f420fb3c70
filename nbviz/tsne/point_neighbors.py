"""True neighbours of single points, and how many of them a layout keeps (exact, no N x N matrix).

The Embedding Projector's question "which points are really near this one, and does the picture
show it?" answered exactly: the k nearest rows of one point in the original space (Euclidean or
cosine), and for a sample of points the share of their k original neighbours that are also among
their k nearest in a 2-D / 3-D layout. The original space is searched in torch on the data's
device, in blocks through `search_against` (never an N x N matrix); the layout by a k-d tree.
"""
from __future__ import annotations

import numpy as np
import torch

from .errors import TSNEError
from .neighbors import pair_sq_distances, search_against

METRICS = ("euclidean", "cosine")


class PointNeighbors:
    """Exact nearest-neighbour queries on one data matrix X (N x D, any device).

    Euclidean: d(i, j) = ||x_i - x_j||. Cosine: d(i, j) = 1 - x_i.x_j / (||x_i|| ||x_j||), which
    ranks like the Euclidean distance between L2-normalised rows u_i, since ||u_i - u_j||^2 =
    2 - 2 cos(i, j); the cosine distance is reported as ||u_i - u_j||^2 / 2.
    """

    def __init__(self, X: torch.Tensor) -> None:
        self.X = X
        self._prepared: dict[str, torch.Tensor] = {}

    @property
    def n(self) -> int:
        """Number of points."""
        return int(self.X.shape[0])

    def rows(self, metric: str) -> torch.Tensor:
        """The rows searched for `metric`: X centred (Euclidean; keeps ||x||^2 - 2 q.x well
        conditioned) or the L2-normalised rows of X (cosine). Computed once per metric."""
        check_metric(metric)
        if metric not in self._prepared:
            if metric == "euclidean":
                self._prepared[metric] = self.X - self.X.mean(dim=0)
            else:
                norms = torch.linalg.vector_norm(self.X, dim=1, keepdim=True)
                zero = torch.nonzero(norms[:, 0] == 0).flatten()
                if len(zero):
                    raise TSNEError(
                        f"the cosine distance is undefined for all-zero rows ({len(zero)} of them, e.g. "
                        f"row {int(zero[0])}); use metric='euclidean' or drop those rows"
                    )
                self._prepared[metric] = self.X / norms
        return self._prepared[metric]

    def check_k(self, k: int) -> int:
        """`k` as an int, or a TSNEError when it is not in 1..N-1."""
        if isinstance(k, bool) or not hasattr(k, "__index__"):
            raise TSNEError(f"k must be a whole number of neighbours, got {k!r}")
        k = int(k)
        if not 1 <= k < self.n:
            raise TSNEError(f"k={k} neighbours needs 1 <= k < N = {self.n} (a point is not its own "
                            f"neighbour); pass k between 1 and {self.n - 1}")
        return k

    def of_point(self, i: int, k: int, metric: str = "euclidean") -> tuple[torch.Tensor, torch.Tensor]:
        """The k nearest other points of point i, nearest first (ties by index), and their distances.

        Returns (indices int64 (k,), distances float64 (k,)) on X's device.
        """
        k = self.check_k(k)
        if isinstance(i, bool) or not hasattr(i, "__index__") or not 0 <= int(i) < self.n:
            raise TSNEError(f"point index {i!r} is not in 0..{self.n - 1}")
        indices, distances = self.of_rows(torch.tensor([int(i)], device=self.X.device), k, metric)
        return indices[0], distances[0]

    def of_rows(self, rows: torch.Tensor, k: int, metric: str) -> tuple[torch.Tensor, torch.Tensor]:
        """k nearest other points of each point in `rows` (int64), nearest first, with distances."""
        data = self.rows(metric)
        found = search_against(data.index_select(0, rows), data, k, exclude=rows)
        sq = pair_sq_distances(data.index_select(0, rows), data, found)
        order = torch.argsort(found, dim=1)  # ties at equal distance: lower index first
        found, sq = torch.gather(found, 1, order), torch.gather(sq, 1, order)
        sq, by_distance = torch.sort(sq, dim=1, stable=True)
        found = torch.gather(found, 1, by_distance)
        distances = sq.sqrt() if metric == "euclidean" else sq / 2
        return found, distances


def check_metric(metric: str) -> str:
    """`metric` unchanged, or a TSNEError naming the choices."""
    if metric not in METRICS:
        raise TSNEError(f"unknown metric {metric!r}; use 'euclidean' or 'cosine'")
    return metric


def layout_neighbors(layout: torch.Tensor, rows: torch.Tensor, k: int) -> torch.Tensor:
    """The k nearest other points of each point in `rows` in a layout (N x 2 or N x 3), exactly.

    A k-d tree (scipy's cKDTree) in float64 on the CPU: exact for any layout, where the matrix
    product ||y_j||^2 - 2 y_i.y_j in float32 loses the digits of neighbours ~0.2 apart in a
    layout ~200 wide (1,000,000 points: 4.6% of rows ranked a wrong 10th neighbour) and costs
    ~60x more (20,000 rows of 1,000,000 points: 0.4 s against 25 s). Each row asks for k + 1
    hits and drops itself, or its (k + 1)-th hit when a duplicate of it came first.
    Returns (len(rows), k) int64 on `rows`' device, nearest first.
    """
    from scipy.spatial import cKDTree

    points = layout.detach().to("cpu", torch.float64).numpy()
    asked = rows.detach().cpu().numpy()
    _, hits = cKDTree(points).query(points[asked], k=k + 1)
    is_self = hits == asked[:, None]
    is_self[~is_self.any(axis=1), k] = True
    found = hits[~is_self].reshape(len(asked), k)
    return torch.from_numpy(found.astype(np.int64)).to(rows.device)


def kept_share(original: torch.Tensor, in_layout: torch.Tensor) -> torch.Tensor:
    """Per row: |original[r] & in_layout[r]| / k, the share of true neighbours the layout keeps.

    Both are (m, k) index tables; membership is tested by sorting, O(m k log k).
    """
    k = original.shape[1]
    original = original.contiguous()  # a column slice otherwise costs searchsorted a copy and a warning
    ordered = torch.sort(in_layout, dim=1).values
    position = torch.searchsorted(ordered, original).clamp_max(k - 1)
    found = torch.gather(ordered, 1, position) == original
    return found.to(torch.float64).mean(dim=1)
