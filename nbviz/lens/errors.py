"""The exception of the lens bridge."""
from __future__ import annotations


class FeaturesError(ValueError):
    """Bad input for `nbviz.features` (images, layer, pooling); the message names the fix."""
