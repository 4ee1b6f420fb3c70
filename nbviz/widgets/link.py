"""`nbviz.link(scatter, explorer)`: a TSNEScatter's clicks and lassos choose the CAMExplorer's image.

Point i of the scatter is image i of the explorer. The link runs in two places that agree:
- in the browser (the `lens_link` ES module): the scatter's `focus` / `selection` set the explorer's
  `image_index` and `target` directly, so it also works in an offline report with no kernel;
- in Python: the same traits observed here, so `scatter.focus = i` from code (or a front end that
  loads no widget code) moves the explorer too.
Displaying the returned `LinkedViews` shows both widgets side by side (anywidget composition);
the link works without displaying it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from nbviz import report
from nbviz.widgets.base import NbvizWidget
from nbviz.widgets.lens_export import DEFAULT_MAX_IMAGES, explorer_report_state

if TYPE_CHECKING:
    from nbviz.widgets.cam_explorer import CAMExplorer
    from nbviz.widgets.tsne_scatter import TSNEScatter


class WidgetReference(anywidget.WidgetTrait):
    """anywidget's widget-reference trait (synced as "anywidget:<model id>") with a help text."""

    def __init__(self, help: str) -> None:
        super().__init__()
        self.help = self.__doc__ = help  # as traitlets does with help=: help() shows __doc__
        self.metadata["help"] = help


class LinkedViews(NbvizWidget):
    """A TSNEScatter and a CAMExplorer whose point i is image i (see the module docstring).

    Clicking point i shows image i in the explorer with its most probable class; a lasso shows
    the first selected image. `unlink()` ends the Python half (the browser half ends with
    `close()`).
    """

    _bundle_name = "lens_link"
    _summary = "t-SNE scatter linked to a class-activation map explorer"

    scatter = WidgetReference("The TSNEScatter whose clicks and lassos choose the image (read-only).").tag(sync=True)
    explorer = WidgetReference("The CAMExplorer that shows point i's image i (read-only).").tag(sync=True)
    selection_mode = traitlets.Unicode("first", help="What a lasso does to the explorer: 'first' shows the first selected image, 'none' nothing.").tag(sync=True)

    def __init__(self, scatter: TSNEScatter, explorer: CAMExplorer, **traits: Any) -> None:
        """Link `scatter` to `explorer` (same number of points and images; see `check_linkable`);
        `traits` set e.g. `selection_mode`."""
        check_linkable(scatter, explorer)
        super().__init__(scatter=scatter, explorer=explorer, **traits)
        scatter.observe(self._on_focus, "focus")
        scatter.observe(self._on_selection, "selection")

    def unlink(self) -> None:
        """Stop the scatter's clicks and lassos from moving the explorer (Python side)."""
        if self.scatter is None:
            return
        for handler, name in ((self._on_focus, "focus"), (self._on_selection, "selection")):
            try:
                self.scatter.unobserve(handler, name)
            except ValueError:  # already unlinked
                pass

    def close(self) -> None:
        """Unlink and close this widget (the scatter and the explorer stay open)."""
        self.unlink()
        super().close()

    def export_state(self, max_images: int = DEFAULT_MAX_IMAGES) -> dict[str, Any]:
        """State for an offline report: the scatter, and the explorer with maps for up to
        `max_images` points (current layer and method, each image's most probable class), stored
        as uint8 at feature resolution; the other points keep their photo, marked "not saved"."""
        state = super().export_state()
        scatter_state = self.scatter.export_state()
        # The neighbours listed are the exported focus's; a click in the report moves the focus
        # without a kernel to find the new point's, so none are listed (the view says why).
        scatter_state.update(focus_neighbors=[], focus_distances=[])
        state["scatter"] = report.ChildWidget(self.scatter.front_end(), scatter_state, _part_labels(self.scatter))
        state["explorer"] = report.ChildWidget(
            self.explorer.front_end(), explorer_report_state(self.explorer, self.scatter, max_images=max_images),
            _part_labels(self.explorer))
        return state

    def snapshot_figure(self, **options: Any) -> Any:
        """The explorer's current view (see CAMExplorer.snapshot_figure)."""
        return self.explorer.snapshot_figure(**options)

    # ---- Python half of the link -------------------------------------------------------------
    def _on_focus(self, change: dict) -> None:
        if change["new"] >= 0:
            self._show(change["new"])

    def _on_selection(self, change: dict) -> None:
        if change["new"] and self.selection_mode == "first":
            self._show(change["new"][0])

    def _show(self, index: int) -> None:
        """Image `index` in the explorer, with its most probable class; nothing for a point with
        no image (one added to the scatter after linking, `TSNEScatter.add_points`)."""
        explorer = self.explorer
        if index >= explorer.n_images:
            return
        with explorer.hold_trait_notifications():
            explorer.image_index = index
            explorer.target = explorer.top_classes(1, index)[0]

    @traitlets.validate("selection_mode")
    def _valid_selection_mode(self, proposal: dict) -> str:
        if proposal["value"] not in ("first", "none"):
            raise traitlets.TraitError(f"selection_mode must be 'first' or 'none', got {proposal['value']!r}")
        return proposal["value"]


def _part_labels(widget: Any) -> dict[str, str]:
    """A widget's names for its state keys in a report's size summary (`report_part_labels`)."""
    return dict(getattr(widget, "report_part_labels", None) or {})


def check_linkable(scatter: Any, explorer: Any) -> None:
    """Raise a TypeError / ValueError naming the fix unless point i of `scatter` can be image i of `explorer`."""
    from nbviz.widgets.cam_explorer import CAMExplorer
    from nbviz.widgets.tsne_scatter import TSNEScatter

    if not isinstance(scatter, TSNEScatter):
        raise TypeError(f"link(scatter, explorer): scatter must be an nbviz.TSNEScatter, got {type(scatter).__name__}")
    if not isinstance(explorer, CAMExplorer):
        raise TypeError(f"link(scatter, explorer): explorer must be an nbviz.CAMExplorer, got {type(explorer).__name__}")
    if scatter.n_points != explorer.n_images:
        raise ValueError(
            f"the scatter has {scatter.n_points} points but the explorer {explorer.n_images} images; point i "
            "shows image i, so build both from the same collection in the same order (for thousands of "
            "images, nbviz.ModelLens does both lazily)")


def link(scatter: TSNEScatter, explorer: CAMExplorer) -> LinkedViews:
    """Link `scatter` to `explorer`: clicking point i shows image i (with its predicted class), a
    lasso shows the first selected image. Returns the LinkedViews; display it to see both side by
    side, or pass it to `nbviz.to_html` for a report where clicking still works offline."""
    return LinkedViews(scatter, explorer)
