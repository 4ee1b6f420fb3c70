"""Canonical method names, their aliases and the groups the widget needs."""
from __future__ import annotations

from .errors import MethodError

#: Every method the engine implements, by canonical name.
METHODS: tuple[str, ...] = (
    "cam",
    "gradcam",
    "gradcam++",
    "smoothgradcam++",
    "scorecam",
    "sscam",
    "iscam",
    "ablationcam",
    "xgradcam",
    "layercam",
    "hirescam",
    "eigencam",
    "guided-backprop",
    "guided-gradcam",
)

#: Methods that need nothing beyond the cached forward pass and one backward pass per class.
GRADIENT_METHODS: tuple[str, ...] = (
    "cam", "gradcam", "gradcam++", "xgradcam", "layercam", "hirescam", "eigencam",
)

#: Methods that need extra batched model passes (accept ``progress`` and ``cancel``).
SLOW_METHODS: tuple[str, ...] = ("scorecam", "sscam", "iscam", "ablationcam", "smoothgradcam++")

#: Methods that need one extra forward and backward pass with guided ReLUs (cached per class).
GUIDED_METHODS: tuple[str, ...] = ("guided-backprop", "guided-gradcam")

_EXTRA_ALIASES = {
    "gradcamplusplus": "gradcam++",
    "gradcampp": "gradcam++",
    "smoothgradcamplusplus": "smoothgradcam++",
    "smoothgradcampp": "smoothgradcam++",
    "smoothgradcam": "smoothgradcam++",
    "smoothedscorecam": "sscam",
    "integratedscorecam": "iscam",
    "ablation": "ablationcam",
    "eigen": "eigencam",
    "guidedbackprop": "guided-backprop",
    "guidedbackpropagation": "guided-backprop",
    "guidedbp": "guided-backprop",
    "guidedgradcam": "guided-gradcam",
    "classactivationmap": "cam",
}


def _squash(name: str) -> str:
    """Lower-case a name and drop separators: ``"Grad-CAM++"`` -> ``"gradcam++"``."""
    return "".join(ch for ch in name.lower() if ch not in " -_.")


_ALIASES = {_squash(m): m for m in METHODS}
_ALIASES.update(_EXTRA_ALIASES)


def resolve_method(name: str) -> str:
    """Return the canonical method name for ``name`` (case, ``-``, ``_`` and spaces ignored).

    ``resolve_method("GradCAMPlusPlus") == "gradcam++"``.
    """
    if not isinstance(name, str):
        raise MethodError(
            f"method must be a string such as 'gradcam', got {type(name).__name__}; "
            f"use one of {', '.join(METHODS)}")
    canonical = _ALIASES.get(_squash(name))
    if canonical is None:
        raise MethodError(
            f"unknown CAM method {name!r}; use one of {', '.join(METHODS)} "
            "(case-insensitive aliases such as 'GradCAMPlusPlus' work too)")
    return canonical
