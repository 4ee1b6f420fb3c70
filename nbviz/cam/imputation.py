"""Noisy linear imputation (Rong et al. 2022, ROAD): fill removed pixels from their neighbours.

Every removed pixel p gets the value that makes it the weighted mean of its in-image 8-neighbours,
``x_p * sum_q w_q = sum_q w_q x_q`` (w = 1/6 for the 4 direct neighbours, 1/12 for the 4 diagonal
ones), a sparse linear system over the removed pixels solved exactly per channel; then Gaussian noise
of standard deviation ``noise`` is added to the imputed pixels, so that the model cannot read the
removal's shape from unnaturally smooth patches.
"""
from __future__ import annotations

import numpy as np
import torch

from .errors import InputError

DIRECT_WEIGHT = 1 / 6
DIAGONAL_WEIGHT = 1 / 12
_OFFSETS = [(-1, 0, DIRECT_WEIGHT), (1, 0, DIRECT_WEIGHT), (0, -1, DIRECT_WEIGHT), (0, 1, DIRECT_WEIGHT),
            (-1, -1, DIAGONAL_WEIGHT), (-1, 1, DIAGONAL_WEIGHT), (1, -1, DIAGONAL_WEIGHT), (1, 1, DIAGONAL_WEIGHT)]


def impute(image: torch.Tensor, removed: torch.Tensor, noise: float = 0.01,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """``image`` (C, H, W) with the pixels where ``removed`` (H, W, bool) is True replaced by noisy linear
    imputation (see the module docstring); at least one pixel must remain."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    height, width = removed.shape
    mask = removed.detach().cpu().numpy().astype(bool)
    count = int(mask.sum())
    if count == 0:
        return image.clone()
    if count == mask.size:
        raise InputError("every pixel was removed, so there is nothing to impute from; keep at least one pixel "
                         "(ROAD fractions must be below 1)")
    index = -np.ones(mask.shape, dtype=np.int64)
    index[mask] = np.arange(count)
    values = image.detach().double().cpu().numpy().reshape(image.shape[0], -1)
    rows, cols, entries = [], [], []
    diagonal = np.zeros(count)
    rhs = np.zeros((count, image.shape[0]))
    ys, xs = np.nonzero(mask)
    for dy, dx, weight in _OFFSETS:
        ny, nx = ys + dy, xs + dx
        inside = (ny >= 0) & (ny < height) & (nx >= 0) & (nx < width)
        p, ny, nx = index[ys[inside], xs[inside]], ny[inside], nx[inside]
        diagonal[p] += weight
        neighbour = index[ny, nx]
        missing = neighbour >= 0
        rows.append(p[missing])
        cols.append(neighbour[missing])
        entries.append(np.full(int(missing.sum()), -weight))
        np.add.at(rhs, p[~missing], weight * values[:, ny[~missing] * width + nx[~missing]].T)
    rows.append(np.arange(count))
    cols.append(np.arange(count))
    entries.append(diagonal)
    matrix = coo_matrix((np.concatenate(entries), (np.concatenate(rows), np.concatenate(cols))),
                        shape=(count, count)).tocsc()
    solved = spsolve(matrix, rhs).reshape(count, -1)
    filled = torch.from_numpy(solved.T).to(image.device, image.dtype)
    if noise > 0:
        filled = filled + noise * torch.randn(filled.shape, generator=generator).to(image.device, image.dtype)
    result = image.detach().clone().reshape(image.shape[0], -1)
    result[:, torch.from_numpy(np.flatnonzero(mask)).to(image.device)] = filled
    return result.reshape(image.shape)
