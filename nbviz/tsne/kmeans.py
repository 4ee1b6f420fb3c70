"""faiss k-means of the points and each point's nearest centroid: the clusters that order the
exact and HNSW searches (neighbors._cluster_order) and the inverted lists (inverted_file.py)."""
from __future__ import annotations

import numpy as np

from .faiss_settings import faiss_settings


def kmeans_clusters(data: np.ndarray, clusters: int, rounds: int, points_per_centroid: int,
                    seed: int) -> tuple[np.ndarray, np.ndarray]:
    """faiss k-means of the (N, D) float32 rows of `data` with `clusters` centroids (`rounds`
    rounds, trained on at most `points_per_centroid` points per centroid, seeded), then each
    row's nearest centroid by faiss's brute force (argmin_c |x - c|^2). Returns the centroids
    (C, D) float32 and the nearest centroid of every row (N,) int64."""
    import faiss  # loaded only when needed: a large native library

    kmeans = faiss.Kmeans(data.shape[1], clusters, niter=rounds, seed=seed, max_points_per_centroid=points_per_centroid)
    with faiss_settings():
        kmeans.train(data)
        _, nearest = kmeans.index.search(data, 1)
    return np.ascontiguousarray(kmeans.centroids), nearest[:, 0]
