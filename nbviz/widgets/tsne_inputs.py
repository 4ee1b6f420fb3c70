"""Checking and encoding the per-point extras of TSNEScatter: labels, hover texts, thumbnails.

Everything here turns user data into the compact form the front end reads (uint16 label codes,
RGBA uint8 thumbnails); errors say what was wrong and how to fix it.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from nbviz.tsne.errors import TSNEError

MAX_LABELS = 65535
THUMBNAIL_MAX_SIDE = 48
THUMBNAIL_BUDGET_BYTES = 64 * 2**20


def _to_numpy(values: Any) -> np.ndarray:
    if hasattr(values, "detach") and hasattr(values, "cpu"):  # a torch tensor
        values = values.detach().cpu().numpy()
    return np.asarray(values)


def encode_labels(labels: Any, n_points: int) -> tuple[np.ndarray, list[str]]:
    """Per-point category codes (uint16, index into the names) and the category names.

    Integer labels keep their numeric order; any other labels are ordered by first appearance, so
    the legend reads in the order the data lists them.
    """
    array = _to_numpy(labels)
    if array.ndim != 1:
        array = array.reshape(-1) if array.size == n_points else array
    if array.ndim != 1 or len(array) != n_points:
        raise TSNEError(
            f"labels must give one label per point ({n_points}), got shape {tuple(np.shape(array))}"
        )
    if array.dtype.kind in "iub":
        names_values, codes = np.unique(array, return_inverse=True)
        names = [str(v) for v in names_values.tolist()]
    else:
        as_text = [str(v) for v in array.tolist()]
        order: dict[str, int] = {}
        codes = np.fromiter((order.setdefault(t, len(order)) for t in as_text), dtype=np.int64, count=n_points)
        names = list(order)
    if len(names) > MAX_LABELS:
        raise TSNEError(f"labels has {len(names)} distinct values; at most {MAX_LABELS} categories are shown")
    return codes.astype("<u2"), names


def encode_texts(texts: Sequence[Any] | None, n_points: int) -> list[str]:
    """One hover text per point, as strings."""
    if texts is None:
        return []
    if isinstance(texts, str):
        raise TSNEError("texts must be a sequence with one string per point, not a single string")
    as_list = [str(t) for t in _to_numpy(texts).reshape(-1).tolist()] if not isinstance(texts, list) else [str(t) for t in texts]
    if len(as_list) != n_points:
        raise TSNEError(f"texts must give one string per point ({n_points}), got {len(as_list)}")
    return as_list


def _images_as_nhwc(images: Any, n_points: int) -> np.ndarray:
    if isinstance(images, (list, tuple)):
        images = np.stack([np.asarray(image) for image in images])
    array = _to_numpy(images)
    if array.ndim == 4 and array.shape[1] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
        array = np.moveaxis(array, 1, -1)  # channels-first (torch) to channels-last
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[-1] not in (1, 3, 4):
        raise TSNEError(
            f"images must be N x H x W (grey), N x H x W x 3/4 or N x 3 x H x W, got shape {tuple(array.shape)}"
        )
    if array.shape[0] != n_points:
        raise TSNEError(f"images must give one image per point ({n_points}), got {array.shape[0]}")
    if array.dtype.kind not in "biuf":
        raise TSNEError(f"images have dtype {array.dtype}; pass numbers (uint8 0-255 or floats)")
    return array


def encode_thumbnails(
    images: Any, n_points: int, *, size: tuple[int, int] | None = None, budget_points: int | None = None,
) -> tuple[bytes, tuple[int, int]]:
    """RGBA uint8 thumbnails, N x h x w x 4, and (h, w); at most 48 px a side and 64 MiB in all.

    uint8 images are kept as they are; other dtypes are scaled over the whole set,
    v8 = round(255 * (v - min) / (max - min)), so every thumbnail shares one brightness scale.
    Larger images are shrunk (box filter) to the side limit. `size` (h, w): resize to exactly
    that (thumbnails joining a plot's); `budget_points`: the point count the 64 MiB are shared by
    (default `n_points`).
    """
    if images is None:
        return b"", (0, 0)
    array = _images_as_nhwc(images, n_points)
    if array.dtype != np.uint8:
        values = array.astype(np.float64)
        lo, hi = float(values.min()), float(values.max())
        array = np.rint((values - lo) / (hi - lo if hi > lo else 1.0) * 255).astype(np.uint8)
    height, width = array.shape[1:3]
    sharing = budget_points or n_points
    side_limit = min(THUMBNAIL_MAX_SIDE, int(np.sqrt(THUMBNAIL_BUDGET_BYTES / (4 * sharing))))
    if side_limit < 4 or (size is not None and sharing * size[0] * size[1] * 4 > THUMBNAIL_BUDGET_BYTES):
        raise TSNEError(
            f"{sharing} thumbnails do not fit the 64 MiB thumbnail budget; pass images for fewer points"
        )
    if size is not None and (height, width) != tuple(size):
        array = _resized(array, (size[1], size[0]))
    elif size is None and max(height, width) > side_limit:
        scale = side_limit / max(height, width)
        array = _resized(array, (max(1, round(width * scale)), max(1, round(height * scale))))
    height, width = array.shape[1:3]
    channels = array.shape[-1]
    rgba = np.empty((n_points, height, width, 4), dtype=np.uint8)
    if channels in (1, 3):
        rgba[..., :3] = array
        rgba[..., 3] = 255
    else:
        rgba[:] = array
    return rgba.tobytes(), (int(height), int(width))


def _resized(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """N x H x W x C uint8 images resized to `size` = (width, height) with a box filter."""
    from PIL import Image

    mode = {1: "L", 3: "RGB", 4: "RGBA"}[array.shape[-1]]
    return np.stack([
        np.asarray(Image.fromarray(img.squeeze(-1) if mode == "L" else img, mode).resize(size, Image.BOX))
        .reshape(size[1], size[0], -1)
        for img in array
    ])
