"""Synthetic data shared by the t-SNE engine tests."""
from __future__ import annotations

import numpy as np


def gaussian_blobs(n: int, dim: int, n_centres: int, seed: int, spread: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    """n points from n_centres unit Gaussians whose centres are N(0, spread^2 I) in `dim` dimensions."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, spread, size=(n_centres, dim))
    labels = rng.integers(0, n_centres, size=n)
    return (centres[labels] + rng.normal(size=(n, dim))).astype(np.float32), labels
