"""nbviz.lens: the bridge between a dataset, the CAM engine and the t-SNE engine.

`features(model, images)` pools a layer's activations over a dataset (the vectors t-SNE lays out).
Nothing in nbviz imports this package back.
"""
from .errors import FeaturesError
from .features import Features, features

__all__ = ["features", "Features", "FeaturesError"]
