"""The anywidget base class every nbviz widget derives from."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets

from nbviz import report
from nbviz.widgets.bundles import read_bundle

# Traits of the widget machinery itself, not of what the widget shows: left out of a report.
MACHINERY_TRAITS = ("_esm", "_css", "_anywidget_id", "_dom_classes", "layout", "tabbable", "tooltip")


class NbvizWidget(anywidget.AnyWidget):
    """An anywidget whose ES module is the built bundle `nbviz/static/<_bundle_name>.js`.

    Subclasses set `_bundle_name`, may extend `export_state()` (the full state an offline report
    needs: JSON values, with `bytes` wherever a binary buffer travels) and implement
    `snapshot_figure()` for `to_png` (the `nbviz.report` protocol).
    """

    _bundle_name: ClassVar[str] = ""
    #: What the widget is, in a few words, for the plain-text fallback (see `__repr__`).
    _summary: ClassVar[str] = "interactive widget"
    #: What the size line of `to_html` calls the binary data under these state keys (see `nbviz.report`).
    report_part_labels: ClassVar[dict[str, str]] = {}
    # True only inside an exported report: the front end then has no kernel to ask.
    _offline = traitlets.Bool(False).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        if not self._bundle_name:
            raise TypeError(f"{type(self).__name__} must name its front-end bundle in _bundle_name")
        # Read per instance (not at import) so a missing build is a clear error, not an ImportError.
        self._esm = read_bundle(self._bundle_name)
        super().__init__(**kwargs)

    def __repr__(self) -> str:
        """One line for front ends without the widget runtime (a terminal, nbconvert without widget
        state): what the widget is and how to see it. It is also the text/plain of the display
        bundle, and reads only class constants, so it cannot fail."""
        name = type(self).__name__
        return (f"{name} ({self._summary}): shown only where the Jupyter widget runtime runs (JupyterLab, "
                f"Notebook 7, Voilà, VS Code, marimo); elsewhere save it with .to_html('{name.lower()}.html') "
                "and open that file in a browser")

    def front_end(self) -> report.FrontEnd:
        """The widget's ES module and CSS, named after its bundle (shared in a report by name)."""
        css = self._css if isinstance(getattr(self, "_css", None), str) else ""
        return report.FrontEnd(self._bundle_name, self._esm, css)

    def export_state(self) -> dict[str, Any]:
        """State for an offline render: every synced trait except the widget machinery, `_offline` set."""
        state = self.get_state()
        for key in MACHINERY_TRAITS:
            state.pop(key, None)
        state["_offline"] = True
        return state

    def to_html(self, path: str | os.PathLike, *, title: str | None = None, **options: Any) -> report.ReportFile:
        """Save this widget alone as a self-contained HTML report (see `nbviz.to_html`); the returned
        path shows the report's size and what takes it."""
        return report.to_html(path, self, title=title, **options)

    def to_png(self, path: str | os.PathLike, **options: Any) -> Path:
        """Save a static PNG of the current view, for places that run no JavaScript (see `nbviz.to_png`)."""
        return report.to_png(path, self, **options)
