"""nbviz: Jupyter widgets for looking inside deep-learning models.

- `CAMExplorer`: class-activation heatmaps over an image, with layer / class / method controls.
- `TSNEScatter`: a PyTorch t-SNE that streams every iteration to a WebGL scatter plot.
- `to_html`: both widgets saved into one self-contained HTML report that opens offline;
  `to_png`: a static image of one widget, for places that run no JavaScript.
- `features`: a model's pooled activations over a dataset (a folder, Dataset, DataLoader or list),
  the vectors to lay out with t-SNE.
- `ModelLens`: a model's view of a dataset: t-SNE of its features linked to its class-activation
  maps (click a point: its map; lasso a group: their mean map); `link(scatter, explorer)` links
  widgets built separately.

Engines live in `nbviz.cam` and `nbviz.tsne`, reports in `nbviz.report`, embedded offline data in
`nbviz.data`.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Widgets import torch and anywidget; resolve them on first use so `import nbviz` stays light.
_PUBLIC = {
    "CAMExplorer": "nbviz.widgets.cam_explorer",
    "TSNEScatter": "nbviz.widgets.tsne_scatter",
    "to_html": "nbviz.report",
    "to_png": "nbviz.report",
    "features": "nbviz.lens",
    "Features": "nbviz.lens",
    "ModelLens": "nbviz.widgets.model_lens",
    "link": "nbviz.widgets.link",
}

__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'nbviz' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
