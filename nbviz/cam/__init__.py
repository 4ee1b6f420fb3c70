"""nbviz.cam: class-activation maps computed with hooks, in pure PyTorch.

``compute(model, x, method=..., layer=..., target=...)`` for one map, :class:`Explainer` for
interactive use (one forward pass per input, everything else cached), :func:`candidate_layers`
for the layers a map can be drawn at, and :mod:`nbviz.cam.metrics` for faithfulness scores.
A blank map says why with a :class:`CAMWarning` (:mod:`nbviz.cam.blank`).
``target=contrast(a, b)`` explains "why a rather than b", ``target=class_sum(a, b, ...)`` several classes.
:func:`sanity_check` runs the model-parameter randomisation test of Adebayo et al. (2018) for a method.
:func:`register_method` adds a method of your own; it then works everywhere a built-in one does.
"""
from . import methods as _builtin_methods  # registers the built-in methods
from . import cost, metrics
from .context import MethodContext, weighted_sum
from .errors import (
    CAMError,
    Cancelled,
    ExplainerClosedError,
    InputError,
    LayerError,
    MethodError,
    ModelError,
    TargetError,
)
from .blank import CAMWarning
from .explainer import CAMResult, Explainer, compute
from .layers import candidate_layers
from .names import GRADIENT_METHODS, GUIDED_METHODS, METHOD_LABELS, METHOD_OPTIONS, METHODS, SLOW_METHODS
from .options import Option
from .sanity import SanityResult, sanity_check
from .targets import ClassCombination, class_index, class_sum, contrast
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
    "MethodContext", "weighted_sum", "ModelError", "sanity_check", "SanityResult",
    "contrast", "class_sum", "ClassCombination", "class_index", "CAMWarning", "CAMResult",
]
