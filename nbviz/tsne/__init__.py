"""nbviz.tsne: a PyTorch t-SNE engine that streams its iterations (no widget imports).

Use::

    from nbviz.tsne import TSNE
    Y = TSNE(perplexity=30, random_state=0).fit_transform(X)        # numpy (N, 2)
    run = TSNE(random_state=0).optimizer(X)                          # streaming
    for frame in run:                                                # Frame per iteration
        draw(frame.embedding.cpu().numpy().copy())
    run.add_points(X_new)                                            # placed, then part of the run
"""
from __future__ import annotations

from .affinities import SparseAffinities
from .errors import TSNEError
from .config import TSNEConfig
from .estimator import TSNE
from .inputs import as_matrix
from .optimizer import PHASE_EARLY, PHASE_MAIN, Frame, NewPoints, TSNEOptimizer
from .transform import ReferenceNeighbors, TransformSettings

__all__ = [
    "TSNE", "TSNEConfig", "TSNEOptimizer", "Frame", "TSNEError", "as_matrix", "SparseAffinities",
    "PHASE_EARLY", "PHASE_MAIN", "NewPoints", "ReferenceNeighbors", "TransformSettings",
]
