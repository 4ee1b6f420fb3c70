"""Why a map is blank: a map that comes back all zeros says what made it so.

A map is blank when, after the ReLU, it is constant (min-max then gives zeros). The reasons told
apart, in this order:

- the gradient of the target at the layer is zero everywhere (gradient methods): the score does
  not depend on the layer's output, e.g. a zero-initialised head (torchvision's ViT); for guided
  methods, the guided gradient at the input;
- the map is negative everywhere before the ReLU: the evidence at this layer is against the
  target (for Grad-CAM: every channel weight ``mean_ij dy/dA_kij`` is negative);
- the map is zero everywhere before the ReLU (score-weighted and ablation maps whose weights or
  activations are all zero);
- the map is positive and constant.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import torch

from .registry import MethodSpec


class CAMWarning(UserWarning):
    """A class-activation map came back blank; the message says why and what to try."""


ZERO_GRADIENT = ("the gradient of the target is zero everywhere at this layer: the score does not depend on the "
                 "layer's output (an untrained or zero-initialised classifier head gives this), so every gradient "
                 "method draws nothing; check the model's weights or choose another layer")
ZERO_INPUT_GRADIENT = ("the guided gradient of the target is zero everywhere at the input: guided backpropagation "
                       "drops every negative gradient on the way back, and here none is left (a zero-initialised "
                       "classifier head, whose score does not depend on the image, gives this too); try another "
                       "class or check the model's weights")
NEGATIVE = ("the map is negative everywhere before the ReLU, so nothing is left: at this layer the evidence is "
            "against this target{detail}; try another class or layer")
GRADCAM_WEIGHTS = " (every channel weight is negative)"
ZERO_MAP = {
    "ablation": ("removing any channel of this layer leaves the target score unchanged, so every channel weight "
                 "(y - y_k) / y is 0: the score does not depend on this layer's output; check the model's weights "
                 "or choose another layer"),
    "score": ("the score-weighted sum of the channels is zero everywhere: the layer's activations are all zero for "
              "this image; choose another layer"),
    "activation": ("the map is zero everywhere: the channel weights (for CAM, the head's row of this class) or the "
                   "layer's activations are all zero; check the model's weights or choose another layer"),
}
ZERO_MAP_OTHER = ("the map is zero everywhere: the method's channel weights or the layer's activations are all "
                  "zero; try another class or layer")
CONSTANT = "the map has the same value everywhere, so scaled to [0, 1] it is blank; try another layer"


def blank_reasons(spec: MethodSpec, raw: torch.Tensor, gradient: Callable[[], torch.Tensor | None]
                  ) -> tuple[str | None, ...]:
    """Per image of the raw (B, h, w) map, why its final map is blank, or None when it is not.

    ``gradient()`` returns the (B, ...) gradient the method used (of the target at the layer, or
    at the input for guided methods), or None when the method uses none; it is called only when
    some map is blank.
    """
    raw = torch.nan_to_num(raw.detach(), nan=0.0)
    flat = raw.flatten(1)
    positive = flat.clamp_min(0)
    blank = (positive.amax(dim=1) - positive.amin(dim=1)) <= 0  # constant after the ReLU
    if not bool(blank.any()):
        return (None,) * raw.shape[0]
    grad = gradient() if spec.needs_gradients else None
    return tuple(_reason(spec, flat[b], None if grad is None else grad[b]) if bool(blank[b]) else None
                 for b in range(raw.shape[0]))


def _reason(spec: MethodSpec, values: torch.Tensor, grad: torch.Tensor | None) -> str:
    if grad is not None and not bool(grad.ne(0).any()):
        return ZERO_GRADIENT if spec.needs_layer else ZERO_INPUT_GRADIENT
    if float(values.max()) <= 0 < -float(values.min()):
        weights_negative = spec.name == "gradcam" and grad is not None and bool(
            (grad.flatten(1).mean(dim=1) < 0).all())
        return NEGATIVE.format(detail=GRADCAM_WEIGHTS if weights_negative else "")
    if not bool(values.ne(0).any()):
        return ZERO_MAP.get(spec.family, ZERO_MAP_OTHER)
    return CONSTANT


def warn_blank(label: str, reasons: Sequence[str | None], stacklevel: int) -> None:
    """Issue a :class:`CAMWarning` for each blank map (``reasons`` from :func:`blank_reasons`)."""
    several = len(reasons) > 1
    for index, reason in enumerate(reasons):
        if reason is not None:
            where = f" of image {index}" if several else ""
            warnings.warn(CAMWarning(f"the {label} map{where} is blank: {reason}"), stacklevel=stacklevel + 1)
