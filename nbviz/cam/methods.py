"""The method table: canonical name -> function, and each method's options with their defaults."""
from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import torch

from . import ablation, activation_methods, gradient_methods, guided, score_methods, smooth
from .context import MethodContext
from .errors import MethodError

MethodFn = Callable[[MethodContext], torch.Tensor]

METHOD_FUNCTIONS: dict[str, MethodFn] = {
    "cam": activation_methods.cam,
    "gradcam": gradient_methods.gradcam,
    "gradcam++": gradient_methods.gradcampp,
    "smoothgradcam++": smooth.smoothgradcampp,
    "scorecam": score_methods.scorecam,
    "sscam": score_methods.sscam,
    "iscam": score_methods.iscam,
    "ablationcam": ablation.ablationcam,
    "xgradcam": gradient_methods.xgradcam,
    "layercam": gradient_methods.layercam,
    "hirescam": gradient_methods.hirescam,
    "eigencam": activation_methods.eigencam,
    "guided-backprop": guided.guided_backprop,
    "guided-gradcam": guided.guided_gradcam,
}

#: Options each method accepts (keyword arguments of ``explain``/``compute``) and their defaults.
#: ``batch_size=None`` lets the method choose for the device (see score_methods, ablation).
METHOD_OPTIONS: dict[str, dict[str, Any]] = {
    "smoothgradcam++": {"n_samples": 8, "noise": 0.15, "seed": 0, "batch_size": 4},
    "scorecam": {"batch_size": None},
    "sscam": {"n_samples": 8, "noise": 0.2, "seed": 0, "batch_size": None},
    "iscam": {"n_samples": 8, "batch_size": None},
    "ablationcam": {"batch_size": None},
}

_POSITIVE_INTS = {"n_samples", "batch_size"}


def method_options(method: str, given: dict[str, Any]) -> dict[str, Any]:
    """Defaults of ``method`` updated with ``given``; unknown names or bad values raise MethodError."""
    allowed = METHOD_OPTIONS.get(method, {})
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        accepted = ", ".join(allowed) if allowed else "none"
        raise MethodError(f"method {method!r} does not take the option(s) {', '.join(unknown)}; "
                          f"options it accepts: {accepted}")
    options = {**allowed, **given}
    for name, value in given.items():
        if name in _POSITIVE_INTS:
            if value is None and allowed.get(name, 0) is None:
                continue
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise MethodError(f"option {name} must be a positive integer, got {value!r}")
        elif name == "noise":
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or value < 0:
                raise MethodError(f"option noise must be a non-negative number, got {value!r}")
        elif name == "seed" and (not isinstance(value, numbers.Integral) or isinstance(value, bool)):
            raise MethodError(f"option seed must be an integer, got {value!r}")
    return options
