"""Static PNG snapshots of nbviz widgets, drawn with matplotlib from each widget's Python API.

For GitHub, nbviewer, slides and papers: places that run no JavaScript. Uses matplotlib's Agg
canvas directly (no pyplot), so it never touches the notebook's figure state or backend.
"""
from __future__ import annotations

import colorsys
import io
from typing import Any

import numpy as np

# The scatter's categorical colours, as in js/src/tsne/palette.js, so the PNG matches the widget.
TABLEAU10 = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
             "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
TABLEAU20_EXTRA = ["#a0cbe8", "#ffbe7d", "#ff9d9a", "#86bcb6", "#8cd17d",
                   "#f1ce63", "#d4a6c8", "#fabfd2", "#d37295", "#79706e"]
UNLABELLED = "#3b6fb6"


def category_color(index: int, count: int) -> str | tuple[float, float, float]:
    """Colour of category `index` of `count`: Tableau 10, Tableau 20, then golden-angle hues.

    Beyond 20: hue = index * 137.508 degrees, saturation 0.62, lightness 0.42 (odd) or 0.56 (even).
    """
    if count <= 10:
        return TABLEAU10[index]
    if count <= 20:
        return (TABLEAU10 if index < 10 else TABLEAU20_EXTRA)[index % 10]
    hue = (index * 137.508 % 360) / 360
    return colorsys.hls_to_rgb(hue, 0.42 if index % 2 else 0.56, 0.62)


def render_png(widget: Any, *, dpi: int = 120, figsize: tuple[float, float] | None = None) -> bytes:
    """PNG bytes of `widget`'s current view (CAMExplorer or TSNEScatter)."""
    from nbviz.export import SUPPORTED, UnsupportedWidgetError

    if dpi <= 0:
        raise ValueError(f"dpi must be a positive number, got {dpi}")
    renderer = _renderer_for(widget)
    if renderer is None:
        raise UnsupportedWidgetError(
            f"nbviz.to_png draws {SUPPORTED}; {type(widget).__name__} has no static rendering"
        )
    figure = renderer(widget, figsize)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": "nbviz"})
    return buffer.getvalue()


def _renderer_for(widget: Any):
    # Imported here, not at module import: exporting must not pull in every widget (and torch).
    from nbviz.widgets.cam_explorer import CAMExplorer
    from nbviz.widgets.tsne_scatter import TSNEScatter

    if isinstance(widget, TSNEScatter):
        return draw_tsne
    if isinstance(widget, CAMExplorer):
        from nbviz.export_png_cam import draw_cam

        return draw_cam
    return None


def draw_tsne(widget: Any, figsize: tuple[float, float] | None = None):
    """The current embedding coloured by label, with a legend; iteration and KL in the title."""
    from matplotlib.figure import Figure

    layout = np.asarray(widget.embedding, dtype=np.float32)
    codes = np.frombuffer(widget.label_codes, dtype="<u2") if widget.label_codes else None
    names = list(widget.label_names)
    figure = Figure(figsize=figsize or ((8.4, 6.4) if names else (6.8, 6.4)), layout="constrained")
    axes = figure.add_subplot()
    size = float(np.clip(900.0 / max(len(layout), 1) ** 0.5, 1.5, 30.0))
    if codes is not None and len(codes) == len(layout) and names:
        for index, name in enumerate(names):
            members = codes == index
            axes.scatter(layout[members, 0], layout[members, 1], s=size, color=category_color(index, len(names)),
                         label=name, linewidths=0, alpha=0.85)
        legend = axes.legend(title="label", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False,
                             markerscale=max(1.0, 6.0 / size ** 0.5))
        legend.get_title().set_fontweight("bold")
    else:
        axes.scatter(layout[:, 0], layout[:, 1], s=size, color=UNLABELLED, linewidths=0, alpha=0.85)
    axes.set_aspect("equal", adjustable="datalim")
    axes.set_xticks([])
    axes.set_yticks([])
    for side in axes.spines.values():
        side.set_color("#d0d5dc")
    kl = widget.kl
    kl_text = f"KL {kl:.3f}" if kl is not None else "KL not computed yet"
    heading = widget.title or "t-SNE"
    axes.set_title(heading, fontsize=12, loc="left", fontweight="bold", pad=20)
    axes.text(0.0, 1.01, f"iteration {widget.iteration} · {kl_text} · {len(layout)} points",
              transform=axes.transAxes, fontsize=9.5, color="#5d6673", va="bottom")
    return figure
