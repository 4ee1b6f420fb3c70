"""to_png on the swatch fixture: exact pixels, size from figsize x dpi, option routing and errors."""
from __future__ import annotations

import ipywidgets
import numpy as np
import pytest
from PIL import Image

from nbviz.report import UnsupportedWidgetError, to_png
from nbviz.report.png import figure_png
from swatch_widget import SwatchWidget


def pixels(path):
    return np.asarray(Image.open(path).convert("RGB"))


def test_png_holds_the_widgets_figure_at_figsize_times_dpi(swatch_static_dir, tmp_path):
    widget = SwatchWidget(color=b"\x10\x20\x30", index=1)
    out = to_png(tmp_path / "swatch.png", widget, dpi=50)
    assert out == tmp_path / "swatch.png"
    image = pixels(out)
    assert image.shape == (50, 100, 3)  # default figsize 2 x 1 inches at 50 dpi
    # Each half is one flat colour: the fixture's `color`, then palette item 1 (0, 0, 255).
    assert np.unique(image[:, :50].reshape(-1, 3), axis=0).tolist() == [[0x10, 0x20, 0x30]]
    assert np.unique(image[:, 50:].reshape(-1, 3), axis=0).tolist() == [[0, 0, 255]]
    assert Image.open(out).info.get("Software") == "nbviz"


def test_figure_options_reach_snapshot_figure_and_unknown_ones_are_refused(swatch_static_dir, tmp_path):
    out = SwatchWidget().to_png(tmp_path / "wide.png", figsize=(3.0, 0.5), dpi=40)
    assert pixels(out).shape == (20, 120, 3)
    with pytest.raises(TypeError, match=r"unknown option\(s\) fig_size.*SwatchWidget: figsize; the call itself takes dpi"):
        to_png(tmp_path / "x.png", SwatchWidget(), fig_size=(1, 1))
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("dpi", [0, -3, float("nan"), float("inf"), "120", True])
def test_bad_dpi_is_refused_before_drawing(swatch_static_dir, tmp_path, dpi):
    with pytest.raises(ValueError, match=r"dpi must be a positive number"):
        to_png(tmp_path / "x.png", SwatchWidget(), dpi=dpi)


def test_objects_without_snapshot_figure_are_refused(tmp_path):
    with pytest.raises(UnsupportedWidgetError, match=r"to_png exports nbviz widgets.*ipywidgets.*IntSlider has no snapshot_figure"):
        to_png(tmp_path / "x.png", ipywidgets.IntSlider())
    with pytest.raises(FileNotFoundError, match="does not exist"):
        to_png(tmp_path / "missing" / "x.png", ipywidgets.IntSlider())


def test_snapshot_figure_must_return_a_figure_and_a_failure_keeps_the_old_file(swatch_static_dir, tmp_path):
    out = tmp_path / "keep.png"
    out.write_bytes(b"previous")
    widget = SwatchWidget()
    widget.snapshot_figure = lambda: "not a figure"
    with pytest.raises(TypeError, match=r"must return a matplotlib.figure.Figure, got str"):
        to_png(out, widget)
    assert out.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["keep.png"]


def test_figure_png_leaves_pyplot_alone(swatch_static_dir):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    data = figure_png(SwatchWidget().snapshot_figure(), dpi=10)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == before
