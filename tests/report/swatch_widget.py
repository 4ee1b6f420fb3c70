"""A test-only nbviz widget whose bundle is tests/report/fixture_swatch_widget.js.

NbvizWidget reads bundles from nbviz.widgets.bundles.STATIC_DIR; the `swatch_static_dir` fixture
points that at a temporary folder holding this fixture and the real report host bundle.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import traitlets
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from nbviz.widgets import bundles
from nbviz.widgets.base import NbvizWidget

FIXTURE_JS = Path(__file__).with_name("fixture_swatch_widget.js")


class SwatchWidget(NbvizWidget):
    _bundle_name = "fixture_swatch_widget"
    color = traitlets.Bytes(b"\xff\x00\x00").tag(sync=True)
    palette = traitlets.Dict({"items": [b"\x00\x80\x00", b"\x00\x00\xff"]}).tag(sync=True)
    index = traitlets.Int(0).tag(sync=True)
    name = traitlets.Unicode("swatch").tag(sync=True)

    def export_state(self, *, highlight: bool = False):
        state = super().export_state()
        if highlight:
            state["name"] = "highlighted"
        return state

    def snapshot_figure(self, *, figsize: tuple[float, float] = (2.0, 1.0)) -> Figure:
        """Left half the `color` swatch, right half the current palette entry, no axes or margins."""
        figure = Figure(figsize=figsize)
        for half, rgb in enumerate((self.color, self.palette["items"][self.index])):
            colour = [channel / 255 for channel in rgb]
            figure.add_artist(Rectangle((half / 2, 0.0), 0.5, 1.0, transform=figure.transFigure,
                                        facecolor=colour, edgecolor="none"))
        return figure


def stage_static_dir(folder: Path) -> Path:
    """Copy the real built report host and the fixture bundle into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(bundles.STATIC_DIR / "report_host.js", folder / "report_host.js")
    shutil.copy(FIXTURE_JS, folder / "fixture_swatch_widget.js")
    return folder
