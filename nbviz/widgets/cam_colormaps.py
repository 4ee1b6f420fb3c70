"""Matplotlib colormaps as 256-entry RGB lookup tables, sent to the browser once per widget."""
from __future__ import annotations

import numpy as np

COLORMAPS = ("jet", "turbo", "viridis", "inferno", "magma", "plasma", "gray")
LUT_SIZE = 256


def colormap_lut(name: str) -> bytes:
    """768 bytes: rgb[i] = round(255 * cmap(i / 255)[:3]) for i = 0..255, row-major uint8."""
    from matplotlib import colormaps

    if name not in colormaps:
        raise ValueError(f"unknown colormap {name!r}; matplotlib has e.g. {', '.join(COLORMAPS)}")
    rgba = colormaps[name].resampled(LUT_SIZE)(np.arange(LUT_SIZE))
    return np.rint(rgba[:, :3] * 255).astype(np.uint8).tobytes()


def colormap_luts(names: tuple[str, ...] = COLORMAPS) -> dict[str, bytes]:
    """{name: 768-byte LUT} for each colormap name."""
    return {name: colormap_lut(name) for name in names}
