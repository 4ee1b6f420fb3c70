"""Colormap lookup tables sent to the browser match matplotlib's colours."""
import numpy as np
import pytest
from matplotlib import colormaps

from nbviz.widgets.cam_colormaps import COLORMAPS, colormap_lut, colormap_luts


@pytest.mark.parametrize("name", ["jet", "viridis", "gray"])
def test_lut_is_matplotlib_colour_at_every_index(name):
    lut = np.frombuffer(colormap_lut(name), dtype=np.uint8).reshape(256, 3)
    cmap = colormaps[name]
    # What the browser draws for a map value v: lut[min(floor(v * 256), 255)] (js/src/lib/colormap_lut.js).
    for v in (0.0, 0.1, 0.37, 0.5, 0.999, 1.0):
        index = min(int(np.floor(v * 256)), 255)
        expected = np.rint(np.array(cmap(v)[:3]) * 255)
        np.testing.assert_array_equal(lut[index], expected)
    if name == "gray":
        np.testing.assert_array_equal(lut[:, 0], np.arange(256))


def test_all_luts_and_unknown_name():
    luts = colormap_luts()
    assert list(luts) == list(COLORMAPS) and all(len(v) == 768 for v in luts.values())
    with pytest.raises(ValueError, match="unknown colormap 'nope'"):
        colormap_lut("nope")
