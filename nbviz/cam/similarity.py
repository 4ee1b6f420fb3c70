"""How alike two saliency maps are: the three measures of Adebayo et al. (2018), one number each.

Each function takes two (H, W) maps and returns a float in [-1, 1] (1: the same ranking / structure).
A constant map carries no spatial information, so its similarity to anything is defined as 0.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .errors import CAMError

#: HOG settings (scikit-image ``feature.hog``): 9 unsigned orientations, 2 x 2-cell blocks normalised
#: with L2-Hys, as in Dalal & Triggs; square cells of ``min(H, W) // HOG_CELLS_ACROSS`` pixels (16 at
#: 224 x 224, at least 1), so that maps of any size get the same description.
HOG_SETTINGS = {"orientations": 9, "cells_per_block": (2, 2), "block_norm": "L2-Hys"}
HOG_CELLS_ACROSS = 14


def _as_array(saliency: torch.Tensor | np.ndarray) -> np.ndarray:
    array = saliency.detach().double().cpu().numpy() if isinstance(saliency, torch.Tensor) else np.asarray(
        saliency, dtype=np.float64)
    if array.ndim != 2:
        raise CAMError(f"a similarity compares two (H, W) maps, got shape {array.shape}; pass one map per call")
    return array


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """``cov(a, b) / (std a std b)``; 0 when either is constant."""
    a = a.ravel() - a.mean()
    b = b.ravel() - b.mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``values`` with ties given their average rank (as Spearman's rho needs)."""
    flat = values.ravel()
    order = np.argsort(flat, kind="stable")
    sorted_values = flat[order]
    starts = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    ends = np.r_[first[1:], flat.size]
    average = (first + ends - 1) / 2 + 1  # mean of the ranks first+1 .. end of each tie group
    ranks = np.empty(flat.size)
    ranks[order] = average[group]
    return ranks


def spearman(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """Spearman rank correlation of ``|a|`` and ``|b|``: the Pearson correlation of their (tie-averaged) ranks."""
    return _spearman_against(a)(b)


def _spearman_against(reference: torch.Tensor | np.ndarray) -> Callable[[torch.Tensor | np.ndarray], float]:
    x = np.abs(_as_array(reference))
    ranks = _average_ranks(x)

    def measure(other: torch.Tensor | np.ndarray) -> float:
        y = np.abs(_as_array(other))
        _same_shape(x, y)
        return _pearson(ranks, _average_ranks(y))

    return measure


def ssim(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """Structural similarity (Wang et al. 2004) of two maps in [0, 1]: scikit-image's mean SSIM over uniform
    7 x 7 windows (the largest odd size that fits, for maps under 7 pixels across), data range 1."""
    from skimage.metrics import structural_similarity

    x, y = _as_array(a), _as_array(b)
    _same_shape(x, y)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    window = min(7, min(x.shape) - (1 - min(x.shape) % 2))
    if window < 3:
        raise CAMError(f"SSIM needs maps of at least 3 x 3 pixels, got {x.shape}; drop 'ssim' from the similarities")
    return float(structural_similarity(x, y, data_range=1.0, win_size=window))


def hog_correlation(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """Pearson correlation of the HOG feature vectors of the two maps (settings in :data:`HOG_SETTINGS`)."""
    return _hog_against(a)(b)


def _hog_against(reference: torch.Tensor | np.ndarray) -> Callable[[torch.Tensor | np.ndarray], float]:
    from skimage.feature import hog

    x = _as_array(reference)
    cell = max(1, min(x.shape) // HOG_CELLS_ACROSS)
    if min(x.shape) < 2 * cell:
        raise CAMError(f"HOG needs maps of at least 2 x 2 pixels, got {x.shape}; drop 'hog' from the similarities")
    settings = {**HOG_SETTINGS, "pixels_per_cell": (cell, cell)}
    features = hog(x, **settings) if np.ptp(x) > 0 else None

    def measure(other: torch.Tensor | np.ndarray) -> float:
        y = _as_array(other)
        _same_shape(x, y)
        if features is None or np.ptp(y) == 0:
            return 0.0
        return _pearson(features, hog(y, **settings))

    return measure


def _same_shape(x: np.ndarray, y: np.ndarray) -> None:
    if x.shape != y.shape:
        raise CAMError(f"the two maps differ in shape ({x.shape} vs {y.shape}); compute both with upsample=True")


#: Name -> measure, for ``sanity_check(similarity=...)``.
SIMILARITIES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "spearman": spearman, "ssim": ssim, "hog": hog_correlation,
}

_AGAINST = {"spearman": _spearman_against, "hog": _hog_against}


def similarity_to(name: str, reference: torch.Tensor | np.ndarray) -> Callable[[torch.Tensor | np.ndarray], float]:
    """``other -> SIMILARITIES[name](reference, other)``, with what depends on ``reference`` alone (its ranks,
    its HOG features) computed once: a sanity check compares one original with every step's map."""
    if name in _AGAINST:
        return _AGAINST[name](reference)
    measure = SIMILARITIES[name]
    return lambda other: measure(reference, other)
