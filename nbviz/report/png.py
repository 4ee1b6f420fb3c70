"""`to_png`: a static image of one widget's current view, for places that run no JavaScript.

The widget draws its own matplotlib Figure (`snapshot_figure`); this module renders it with the Agg
canvas directly (no pyplot), so it never touches the notebook's figure state or backend.
"""
from __future__ import annotations

import io
import math
import numbers
import os
from pathlib import Path
from typing import Any

from nbviz.report.errors import UnsupportedWidgetError
from nbviz.report.files import writable_target, write_atomically
from nbviz.report.options import route_options
from nbviz.report.protocol import PNGReportable

DEFAULT_DPI = 120


def to_png(path: str | os.PathLike, widget: Any, *, dpi: float = DEFAULT_DPI, **options: Any) -> Path:
    """Save a static PNG of `widget`'s current view at `path` and return its path.

    For GitHub, nbviewer, slides and papers. The image is `figsize` (inches) x `dpi` pixels. CAMExplorer:
    the photo with the current map over it, captioned with layer, class and method. TSNEScatter: the
    current embedding coloured by label, with the iteration and KL divergence in the title. `options`
    go to the widget's `snapshot_figure()` (both widgets take `figsize`).
    """
    target = writable_target(path, ".png")
    _check_dpi(dpi)
    if not isinstance(widget, PNGReportable):
        raise UnsupportedWidgetError(
            "nbviz.to_png exports nbviz widgets (nbviz.CAMExplorer, nbviz.TSNEScatter); "
            f"a {type(widget).__module__}.{type(widget).__qualname__} has no snapshot_figure() to draw it"
        )
    (figure_options,) = route_options([widget], options, "snapshot_figure", own=["dpi"])
    figure = widget.snapshot_figure(**figure_options)
    write_atomically(target, figure_png(figure, dpi))
    return target


def figure_png(figure: Any, dpi: float = DEFAULT_DPI) -> bytes:
    """PNG bytes of a matplotlib Figure at `dpi`, drawn on a fresh Agg canvas (pyplot untouched)."""
    # matplotlib loads only when an image is drawn, so `import nbviz.report` (and to_html) stay light.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    _check_dpi(dpi)
    if not isinstance(figure, Figure):
        raise TypeError(f"snapshot_figure() must return a matplotlib.figure.Figure, got {type(figure).__name__}")
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": "nbviz"})
    return buffer.getvalue()


def _check_dpi(dpi: Any) -> None:
    if isinstance(dpi, bool) or not isinstance(dpi, numbers.Real) or not (math.isfinite(dpi) and dpi > 0):
        raise ValueError(f"dpi must be a positive number of pixels per inch, e.g. 120; got {dpi!r}")
