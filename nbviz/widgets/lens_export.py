"""The explorer half of a linked report: maps for a budget of points, photos for every point.

For up to `max_images` points the map for the explorer's current layer and method and the image's
most probable class is computed and saved as uint8 at feature resolution
(`nbviz.report.compact.unit_codes`, as every CAMExplorer report stores its maps), with the
image's photo; every other point keeps a small JPEG thumbnail, and its map shows as not saved.
Points the user looks at come first: the focused point, the selection, the ringed points (a
ModelLens's mistakes), then the rest in order.
"""
from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any, Sequence

from nbviz.report.compact import unit_codes

if TYPE_CHECKING:
    from nbviz.widgets.cam_explorer import CAMExplorer
    from nbviz.widgets.tsne_scatter import TSNEScatter

log = logging.getLogger("nbviz.lens")

DEFAULT_MAX_IMAGES = 500
#: Longest side of a saved point's photo and of an unsaved point's thumbnail, in pixels.
PHOTO_MAX_SIDE = 224
THUMBNAIL_MAX_SIDE = 64
JPEG_QUALITY = 85


def saved_points(scatter: TSNEScatter, n_points: int, max_images: int) -> list[int]:
    """The points whose maps a report saves, in order of interest, at most `max_images`."""
    if isinstance(max_images, bool) or not isinstance(max_images, int) or max_images < 0:
        raise ValueError(f"max_images must be a non-negative integer, got {max_images!r}")
    first = ([scatter.focus] if scatter.focus >= 0 else []) + list(scatter.selection) + list(scatter.ringed)
    ordered = list(dict.fromkeys([*first, *range(n_points)]))
    return ordered[:max_images]


def explorer_report_state(explorer: CAMExplorer, scatter: TSNEScatter, *, max_images: int = DEFAULT_MAX_IMAGES) -> dict[str, Any]:
    """The explorer's exported state with uint8 maps for the saved points (see the module docstring)."""
    from nbviz import cam

    n = explorer.n_images
    saved = saved_points(scatter, n, max_images)
    state = explorer.export_state(images=[], layers=[explorer.layer], methods=[explorer.method])
    maps: dict[str, bytes] = {}
    shapes: dict[str, list[int]] = {}
    targets = [explorer.top_classes(1, index)[0] for index in saved]
    try:
        computed = explorer.compute_batch(saved, targets, upsample=False)
    except cam.CAMError as error:  # e.g. CAM on a model without global pooling: the photos still go
        log.info("report: maps left out: %s", error)
        computed = []
    for index, target, values in zip(saved, targets, computed):
        key = f"{index}|{explorer.layer}|{target}|{explorer.method}"
        maps[key] = unit_codes(values)
        shapes[key] = list(values.shape)
    state.update(photo_state(explorer, saved))
    state["_precomputed"] = maps
    state["_precomputed_shapes"] = shapes
    return state


def photo_state(explorer: CAMExplorer, saved: Sequence[int]) -> dict[str, Any]:
    """Photos (saved points) and thumbnails (the rest) of every image, with names and top classes."""
    saved_set = set(saved)
    images, mimes, names, probabilities, topk = [], [], [], [], []
    for index in range(explorer.n_images):
        item = explorer._prepared[index]
        side = PHOTO_MAX_SIDE if index in saved_set else THUMBNAIL_MAX_SIDE
        images.append(jpeg(item.photo, side))
        mimes.append("image/jpeg")
        names.append(item.name)
        probabilities.append(explorer.probabilities(index).astype("<f4").tobytes() if index in saved_set else b"")
        topk.append(explorer.top_classes(3, index))
    return {"_images": images, "_image_mimes": mimes, "_image_names": names,
            "_probabilities": probabilities, "_topk": topk}


def shrunk(photo: Any, max_side: int, resample: Any = None) -> Any:
    """An RGB copy of a PIL image, shrunk (never enlarged) to at most `max_side` pixels a side."""
    from PIL import Image

    image = photo.convert("RGB")
    if max(image.size) > max_side:
        scale = max_side / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.BILINEAR if resample is None else resample)
    return image


def jpeg(photo: Any, max_side: int) -> bytes:
    """JPEG bytes of a PIL image shrunk (never enlarged) to at most `max_side` pixels a side."""
    buffer = io.BytesIO()
    shrunk(photo, max_side).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()
