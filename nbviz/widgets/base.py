"""The anywidget base class every nbviz widget derives from."""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets

from nbviz.widgets.bundles import read_bundle


class NbvizWidget(anywidget.AnyWidget):
    """An anywidget whose ES module is the built bundle `nbviz/static/<_bundle_name>.js`.

    Subclasses set `_bundle_name` and implement `export_state()`, the full widget state an offline
    report needs (JSON values, with `bytes` wherever a binary buffer travels).
    """

    _bundle_name: ClassVar[str] = ""
    # True only inside an exported report: the front end then has no kernel to ask.
    _offline = traitlets.Bool(False).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        if not self._bundle_name:
            raise TypeError(f"{type(self).__name__} must name its front-end bundle in _bundle_name")
        # Read per instance (not at import) so a missing build is a clear error, not an ImportError.
        self._esm = read_bundle(self._bundle_name)
        super().__init__(**kwargs)

    def export_state(self, **options: Any) -> dict[str, Any]:
        """State for an offline render: every synced trait except the code, with `_offline` set."""
        state = self.get_state()
        for key in ("_esm", "_css", "_anywidget_id", "_dom_classes", "layout", "tabbable", "tooltip"):
            state.pop(key, None)
        state["_offline"] = True
        return state

    def to_html(self, path: str | Path, *, title: str | None = None, **options: Any) -> Path:
        """Save this widget alone as a self-contained HTML report (see `nbviz.to_html`)."""
        from nbviz.export import to_html

        return to_html(path, self, title=title, **options)

    def to_png(self, path: str | Path, **options: Any) -> Path:
        """Save a static PNG of the current view, for places that run no JavaScript."""
        from nbviz.export import to_png

        return to_png(path, self, **options)
