"""The CAMExplorer snapshot: the photo with the current map over it, as the widget composites it."""
from __future__ import annotations

import io
from typing import Any

import numpy as np

LUT_SIZE = 256


def upsample_bilinear(values: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize as torch's interpolate(mode="bilinear", align_corners=False) and the widget do.

    s = max((d + 0.5) * in / out - 0.5, 0); out = (1-wy)((1-wx) v00 + wx v01) + wy((1-wx) v10 + wx v11).
    """
    import torch
    import torch.nn.functional as F

    tensor = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))[None, None]
    return F.interpolate(tensor, size=(height, width), mode="bilinear", align_corners=False)[0, 0].numpy()


def colorize(values: np.ndarray, lut: bytes, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """RGB (uint8) and mask of drawn pixels: rgb = lut[clamp(floor(v * 256), 0, 255)], drawn where v >= threshold."""
    table = np.frombuffer(lut, dtype=np.uint8).reshape(LUT_SIZE, 3)
    index = np.clip(np.floor(np.nan_to_num(values, nan=0.0) * LUT_SIZE), 0, LUT_SIZE - 1).astype(np.intp)
    drawn = np.greater_equal(values, threshold, where=~np.isnan(values), out=np.zeros(values.shape, bool))
    return table[index], drawn


def composite(photo: np.ndarray, rgb: np.ndarray, drawn: np.ndarray, opacity: float) -> np.ndarray:
    """Alpha blending over the photo: out = photo * (1 - a) + rgb * a, a = opacity where drawn else 0."""
    alpha = (opacity * drawn.astype(np.float32))[..., None]
    blended = photo.astype(np.float32) * (1.0 - alpha) + rgb.astype(np.float32) * alpha
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def draw_cam(widget: Any, figsize: tuple[float, float] | None = None):
    """Figure of the current view: overlay, colour bar, and a caption naming layer, class and method."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize
    from matplotlib.figure import Figure
    from PIL import Image

    from nbviz.cam import METHOD_LABELS

    index = widget.image_index
    photo = np.asarray(Image.open(io.BytesIO(widget._images[index])).convert("RGB"))
    values = widget.compute()  # feature resolution, [0, 1]: what the view upsamples
    upsampled = upsample_bilinear(values, photo.shape[0], photo.shape[1])
    lut = widget._colormaps[widget.colormap]
    rgb, drawn = colorize(upsampled, lut, widget.threshold)
    overlay = composite(photo, rgb, drawn, widget.opacity)

    figure = Figure(figsize=figsize or (6.0, 6.9), layout="constrained")
    axes = figure.add_subplot()
    axes.imshow(overlay, interpolation="bilinear")
    axes.set_axis_off()
    class_name = widget.class_names[widget.target] if widget.class_names else str(widget.target)
    probability = float(widget.probabilities(index)[widget.target])
    method = METHOD_LABELS.get(widget.method, widget.method)
    axes.set_title(f"{method}: {class_name} (p = {probability:.2f})", fontsize=12, loc="left")
    table = np.frombuffer(lut, dtype=np.uint8).reshape(LUT_SIZE, 3) / 255.0
    mappable = ScalarMappable(norm=Normalize(0.0, 1.0), cmap=ListedColormap(table))
    bar = figure.colorbar(mappable, ax=axes, orientation="horizontal", fraction=0.04, pad=0.02, aspect=40)
    bar.set_label(
        f"layer {widget.layer} · class {widget.target} · {method} · opacity {widget.opacity:.2f}"
        + (f" · threshold {widget.threshold:.2f}" if widget.threshold > 0 else ""),
        fontsize=9,
    )
    bar.ax.tick_params(labelsize=8)
    return figure
