"""The PNG compositing maths against hand-computed values (the browser tests cover real widgets)."""
from __future__ import annotations

import numpy as np
import torch

from nbviz.export_png import TABLEAU10, category_color
from nbviz.export_png_cam import colorize, composite, upsample_bilinear


def test_bilinear_upsampling_uses_half_pixel_centres():
    # 2 -> 4 per axis: source coordinate s = max((d + 0.5) / 2 - 0.5, 0) = 0, 0.25, 0.75, 1.25 -> clamp.
    values = np.array([[0.0, 1.0], [2.0, 3.0]], dtype=np.float32)
    expected_row0 = [0.0, 0.25, 0.75, 1.0]
    expected = np.array([[v + 2 * w for v in expected_row0] for w in (0.0, 0.25, 0.75, 1.0)])
    assert np.allclose(upsample_bilinear(values, 4, 4), expected)
    reference = torch.nn.functional.interpolate(torch.tensor(values)[None, None], size=(5, 7), mode="bilinear")
    assert np.allclose(upsample_bilinear(values, 5, 7), reference[0, 0].numpy())


def test_colorize_looks_up_floor_v_times_256_and_masks_below_threshold():
    lut = bytes(b for i in range(256) for b in (i, 255 - i, 7))
    values = np.array([0.0, 0.5, 0.999, 1.0, 0.2, np.nan], dtype=np.float32)
    rgb, drawn = colorize(values, lut, threshold=0.3)
    assert rgb[:, 0].tolist() == [0, 128, 255, 255, 51, 0]
    assert rgb[1].tolist() == [128, 127, 7]
    assert drawn.tolist() == [False, True, True, True, False, False]


def test_composite_blends_only_where_drawn():
    photo = np.full((1, 2, 3), 100, dtype=np.uint8)
    rgb = np.full((1, 2, 3), 200, dtype=np.uint8)
    out = composite(photo, rgb, np.array([[True, False]]), opacity=0.25)
    assert out[0, 0].tolist() == [125, 125, 125]  # 100 * 0.75 + 200 * 0.25
    assert out[0, 1].tolist() == [100, 100, 100]


def test_label_colours_match_the_scatter_palette():
    assert [category_color(i, 10) for i in range(10)] == TABLEAU10
    assert category_color(12, 15) == "#ff9d9a"
    r, g, b = category_color(3, 30)  # hue 3 * 137.508 deg, lightness 0.42 (odd), saturation 0.62
    assert 0 <= min(r, g, b) and max(r, g, b) <= 1
    assert abs((max(r, g, b) + min(r, g, b)) / 2 - 0.42) < 1e-9
