"""What a widget implements to appear in a report; the report package knows widgets only by this.

`to_html` needs `front_end()` (which ES module draws the widget) and `export_state(**options)` (the
state that module renders from, with `bytes` wherever a binary buffer travels). `to_png` needs
`snapshot_figure(**options)`, a matplotlib Figure of the current view. Options a widget accepts are
the keyword parameters of these methods; `**options` in a signature accepts any. Optionally, a
widget's `report_part_labels` ({state key: name}, e.g. {"_precomputed": "maps"}) names its binary
data in the size line `to_html` returns.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class FrontEnd:
    """A widget's browser code: widgets with the same `name` share one copy of `esm` in a report."""

    name: str
    esm: str  # the ES module's source text (anywidget's `_esm`)
    css: str = ""


@runtime_checkable
class HTMLReportable(Protocol):
    """A widget that `nbviz.to_html` can put into an offline page."""

    def front_end(self) -> FrontEnd:
        """The ES module (and CSS) that renders this widget."""
        ...

    def export_state(self, **options: Any) -> dict[str, Any]:
        """Every value the front end needs to render without a kernel."""
        ...


@runtime_checkable
class PNGReportable(Protocol):
    """A widget that `nbviz.to_png` can draw as a static image."""

    def snapshot_figure(self, **options: Any) -> Figure:
        """A matplotlib Figure (not attached to pyplot) of the widget's current view."""
        ...
