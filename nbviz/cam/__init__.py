"""nbviz.cam: class-activation maps computed with hooks, in pure PyTorch.

``compute(model, x, method=..., layer=..., target=...)`` for one map, :class:`Explainer` for
interactive use (one forward pass per input, everything else cached), :func:`candidate_layers`
for the layers a map can be drawn at, and :mod:`nbviz.cam.metrics` for faithfulness scores.
"""
from . import metrics
from .errors import (
    CAMError,
    Cancelled,
    ExplainerClosedError,
    InputError,
    LayerError,
    MethodError,
    TargetError,
)
from .explainer import Explainer, compute
from .layers import candidate_layers
from .methods import METHOD_OPTIONS
from .names import GRADIENT_METHODS, GUIDED_METHODS, METHODS, SLOW_METHODS, resolve_method

__all__ = [
    "CAMError", "Cancelled", "ExplainerClosedError", "InputError", "LayerError", "MethodError",
    "TargetError", "Explainer", "compute", "candidate_layers", "metrics", "METHODS",
    "GRADIENT_METHODS", "SLOW_METHODS", "GUIDED_METHODS", "METHOD_OPTIONS", "resolve_method",
]
