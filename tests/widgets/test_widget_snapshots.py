"""The widgets' PNG snapshots: compositing maths and palette against hand-computed values; the figures
of small real widgets (the demo widgets' PNGs are checked in tests/report/test_report_widgets_browser)."""
from __future__ import annotations

import numpy as np
import torch

from nbviz.widgets.cam_snapshot import colorize, composite, upsample_bilinear
from nbviz.widgets.tsne_snapshot import TABLEAU10, category_color


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


def test_cam_snapshot_figure_composites_the_current_choices(cam_make_explorer):
    from nbviz.widgets.cam_snapshot import decode_photo

    explorer = cam_make_explorer(labels=["cat", "dog", "car", "cup", "sky"])
    explorer.image_index = 1
    explorer.method = "layercam"
    explorer.colormap, explorer.opacity, explorer.threshold = "viridis", 0.7, 0.2
    figure = explorer.snapshot_figure(figsize=(4.0, 5.0))
    axes, bar = figure.axes  # the image, then the colour bar's axes
    photo = decode_photo(explorer._images[1])
    rgb, drawn = colorize(upsample_bilinear(explorer.compute(upsample=False), *photo.shape[:2]), explorer._colormaps["viridis"], 0.2)
    assert drawn.any() and not drawn.all(), "the threshold leaves part of the photo bare"
    assert np.array_equal(axes.images[0].get_array(), composite(photo, rgb, drawn, 0.7))
    probability = explorer.probabilities()[explorer.target]
    assert axes.get_title(loc="left") == f"Layer-CAM: {explorer.class_names[explorer.target]} (p = {probability:.2f})"
    assert bar.get_xlabel() == f"layer {explorer.layer} · class {explorer.target} · Layer-CAM · opacity 0.70 · threshold 0.20"
    assert figure.get_size_inches().tolist() == [4.0, 5.0]


def test_tsne_snapshot_figure_draws_the_embedding_in_label_colours(tsne_digits_small):
    from matplotlib.colors import to_hex

    from nbviz.widgets.tsne_scatter import TSNEScatter

    X, y = tsne_digits_small
    widget = TSNEScatter(X, labels=y, autostart=False, random_state=0, title="Digits")
    try:
        figure = widget.snapshot_figure()
        (axes,) = figure.axes
        layout = widget.embedding
        codes = np.frombuffer(widget.label_codes, dtype="<u2")
        names = list(widget.label_names)
        assert len(axes.collections) == len(names) == 10
        for index, collection in enumerate(axes.collections):
            assert np.array_equal(collection.get_offsets(), layout[codes == index])
            assert to_hex(collection.get_facecolor()[0], keep_alpha=False) == TABLEAU10[index]
        assert [text.get_text() for text in axes.get_legend().get_texts()] == names
        assert axes.get_title(loc="left") == "Digits"
        assert [t.get_text() for t in axes.texts] == [f"iteration 0 · KL {widget.kl:.3f} · {len(X)} points"]
    finally:
        widget.close()
