"""Turning user data into a validated float matrix, and choosing the compute device."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .errors import TSNEError


def as_matrix(X: Any) -> torch.Tensor:
    """Return `X` as a floating N x D torch tensor, checked for shape and finiteness.

    Accepts a numpy array, a torch tensor (any device; gradients are detached), an
    `nn.Embedding` (its weight), an `nn.Parameter`, or anything `numpy.asarray` understands.
    float64 stays float64, float16/bfloat16/integers/bools become float32.
    Raises TSNEError when X is not 2-D, empty, complex/non-numeric, or has NaN/Inf rows
    (the error says how many rows and the first one).
    """
    if isinstance(X, torch.nn.Embedding):
        X = X.weight
    if isinstance(X, torch.nn.Module):
        raise TSNEError(
            f"got a {type(X).__name__} module; pass its output activations or an nn.Embedding / weight tensor"
        )
    if type(X).__module__.startswith("scipy.sparse"):
        raise TSNEError(
            f"X is a scipy sparse {type(X).__name__}; sparse input is not supported: pass X.toarray(), "
            "or reduce it first (e.g. sklearn.decomposition.TruncatedSVD)"
        )
    if isinstance(X, torch.Tensor):
        tensor = X.detach()
    else:
        tensor = torch.from_numpy(np.ascontiguousarray(_numeric_array(X)))
    if tensor.is_complex():
        raise TSNEError(
            f"Complex data not supported: X has dtype {tensor.dtype}; pass real features "
            "(e.g. torch.view_as_real(X).flatten(1))"
        )
    if tensor.ndim != 2:
        hint = (". Reshape your data: X.reshape(-1, 1) for one feature per point, X.reshape(1, -1) for one point"
                if tensor.ndim == 1 else "")
        raise TSNEError(f"X must be 2-D (N points x D features), got shape {tuple(tensor.shape)}{hint}")
    if tensor.shape[0] == 0:
        raise TSNEError("X has no rows; t-SNE needs at least one point")
    if tensor.shape[1] == 0:
        raise TSNEError(
            f"X has no columns: 0 feature(s) (shape={tuple(tensor.shape)}) while a minimum of 1 is required; "
            "every point needs at least one feature"
        )
    dtype = torch.float64 if tensor.dtype == torch.float64 else torch.float32
    tensor = tensor.to(dtype)
    bad_rows = ~torch.isfinite(tensor).all(dim=1)
    n_bad = int(bad_rows.sum())
    if n_bad:
        first = int(torch.nonzero(bad_rows)[0, 0])
        raise TSNEError(
            f"X has {n_bad} row(s) containing NaN or Inf (first at row {first}); "
            "remove or impute those rows before running t-SNE"
        )
    return tensor.contiguous()


def _numeric_array(X: Any) -> np.ndarray:
    """`X` as a numpy array of real numbers (an object array of numbers, e.g. from pandas, is converted)."""
    try:
        array = np.asarray(X)
    except Exception as exc:  # ragged lists and other non-array input
        raise TSNEError(f"could not turn {type(X).__name__} into an array ({exc}); pass an N x D numeric array") from exc
    if array.dtype == object:
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TSNEError(f"X has dtype object and not every entry is a number ({exc}); "
                            "t-SNE needs real numbers: pass a numeric N x D array") from exc
    if array.dtype.kind not in "biufc":
        raise TSNEError(f"X has dtype {array.dtype}; t-SNE needs real numbers: pass a numeric N x D array")
    return array


def resolve_device(device: Any) -> torch.device:
    """The device to compute on: the given one, or CUDA when available, else the CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise TSNEError(f"device {device!r} is not a torch device; use None, 'cpu' or 'cuda'") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise TSNEError("device='cuda' was asked for but CUDA is not available; use device=None or 'cpu'")
    return resolved
