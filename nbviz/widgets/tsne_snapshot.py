"""The TSNEScatter snapshot: the embedding as a matplotlib scatter, in the widget's label colours."""
from __future__ import annotations

import colorsys
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

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


def marker_size(n_points: int) -> float:
    """Marker area in points^2: 900 / sqrt(N), clipped to [1.5, 30], so a plot reads at any N."""
    return float(np.clip(900.0 / max(n_points, 1) ** 0.5, 1.5, 30.0))


def scatter_figure(
    layout: np.ndarray,
    codes: np.ndarray | None,
    names: Sequence[str],
    *,
    title: str,
    subtitle: str,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """An N x 2 `layout` coloured by label (`codes[i]` indexes `names`, with a legend), else one colour."""
    figure = Figure(figsize=figsize or ((8.4, 6.4) if names else (6.8, 6.4)), layout="constrained")
    axes = figure.add_subplot()
    size = marker_size(len(layout))
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
    axes.set_title(title, fontsize=12, loc="left", fontweight="bold", pad=20)
    axes.text(0.0, 1.01, subtitle, transform=axes.transAxes, fontsize=9.5, color="#5d6673", va="bottom")
    return figure
