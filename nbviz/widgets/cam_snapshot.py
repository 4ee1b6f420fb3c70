"""The CAMExplorer snapshot: the photo with a map over it, composited as the widget's canvas does."""
from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure
from PIL import Image

LUT_SIZE = 256


def decode_photo(data: bytes) -> np.ndarray:
    """An encoded photo (PNG / JPEG bytes, as the widget sends them) as an H x W x 3 uint8 array."""
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def upsample_bilinear(values: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize as torch's interpolate(mode="bilinear", align_corners=False) and the widget do.

    s = max((d + 0.5) * in / out - 0.5, 0); out = (1-wy)((1-wx) v00 + wx v01) + wy((1-wx) v10 + wx v11).
    """
    tensor = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))[None, None]
    return F.interpolate(tensor, size=(height, width), mode="bilinear", align_corners=False)[0, 0].numpy()


def lut_table(lut: bytes) -> np.ndarray:
    """A colormap's 256 x 3 uint8 table from its packed RGB bytes (as the widget's `_colormaps` hold it)."""
    return np.frombuffer(lut, dtype=np.uint8).reshape(LUT_SIZE, 3)


def colorize(values: np.ndarray, lut: bytes, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """RGB (uint8) and mask of drawn pixels: rgb = lut[clamp(floor(v * 256), 0, 255)], drawn where v >= threshold."""
    index = np.clip(np.floor(np.nan_to_num(values, nan=0.0) * LUT_SIZE), 0, LUT_SIZE - 1).astype(np.intp)
    drawn = np.greater_equal(values, threshold, where=~np.isnan(values), out=np.zeros(values.shape, bool))
    return lut_table(lut)[index], drawn


def composite(photo: np.ndarray, rgb: np.ndarray, drawn: np.ndarray, opacity: float) -> np.ndarray:
    """Alpha blending over the photo: out = photo * (1 - a) + rgb * a, a = opacity where drawn else 0."""
    alpha = (opacity * drawn.astype(np.float32))[..., None]
    blended = photo.astype(np.float32) * (1.0 - alpha) + rgb.astype(np.float32) * alpha
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def overlay_figure(
    photo: np.ndarray,
    values: np.ndarray,
    lut: bytes,
    *,
    opacity: float,
    threshold: float,
    title: str,
    caption: str,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """`photo` (H x W x 3 uint8) with the feature-resolution map `values` in [0, 1] upsampled over it.

    The map is coloured through `lut` and blended at `opacity` where it is at least `threshold`;
    a colour bar labelled `caption` sits under the image, `title` above it.
    """
    upsampled = upsample_bilinear(values, photo.shape[0], photo.shape[1])
    rgb, drawn = colorize(upsampled, lut, threshold)
    figure = Figure(figsize=figsize or (6.0, 6.9), layout="constrained")
    axes = figure.add_subplot()
    axes.imshow(composite(photo, rgb, drawn, opacity), interpolation="bilinear")
    axes.set_axis_off()
    axes.set_title(title, fontsize=12, loc="left")
    mappable = ScalarMappable(norm=Normalize(0.0, 1.0), cmap=ListedColormap(lut_table(lut) / 255.0))
    bar = figure.colorbar(mappable, ax=axes, orientation="horizontal", fraction=0.04, pad=0.02, aspect=40)
    bar.set_label(caption, fontsize=9)
    bar.ax.tick_params(labelsize=8)
    return figure
