"""nbviz.cam: class-activation maps computed with hooks, in pure PyTorch.

``compute(model, x, method=..., layer=..., target=...)`` for one map, :class:`Explainer` for
interactive use (one forward pass per input, everything else cached), :func:`candidate_layers`
for the layers a map can be drawn at, and :mod:`nbviz.cam.metrics` for faithfulness scores.
:func:`register_method` adds a method of your own; it then works everywhere a built-in one does.
"""
from . import methods as _builtin_methods  # registers the built-in methods
from . import metrics
from .context import MethodContext, weighted_sum
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
from .names import GRADIENT_METHODS, GUIDED_METHODS, METHOD_LABELS, METHOD_OPTIONS, METHODS, SLOW_METHODS
from .options import Option
from .registry import (
    FAMILIES,
    MethodSpec,
    add_spec,
    method_spec,
    register_method,
    resolve_method,
    unregister_method,
)

__all__ = [
    "CAMError", "Cancelled", "ExplainerClosedError", "InputError", "LayerError", "MethodError",
    "TargetError", "Explainer", "compute", "candidate_layers", "metrics", "METHODS",
    "GRADIENT_METHODS", "SLOW_METHODS", "GUIDED_METHODS", "METHOD_OPTIONS", "METHOD_LABELS", "resolve_method",
    "register_method", "unregister_method", "add_spec", "method_spec", "MethodSpec", "Option", "FAMILIES",
    "MethodContext", "weighted_sum",
]
