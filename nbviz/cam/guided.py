"""Guided backpropagation (Springenberg et al.) and Guided Grad-CAM (Selvaraju et al.)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from .context import MethodContext
from .gradient_methods import gradcam_map
from .postprocess import minmax_per_image, upsample
from .registry import register_method


def _guided_gradient(grad: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Guided backprop through a ReLU with output y: dL/dx = relu(dL/dy) * [y > 0]."""
    return grad.clamp_min(0) * (y > 0).to(grad.dtype)


class _GuidedReLU(torch.autograd.Function):
    """``y = max(x, 0)``; backward passes ``relu(grad) * [y > 0]`` (only positive signal through active units)."""

    @staticmethod
    def forward(ctx, x):
        y = x.clamp_min(0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        return _guided_gradient(grad, *ctx.saved_tensors)


class _GuidedReLUInPlace(torch.autograd.Function):
    """In-place variant of :class:`_GuidedReLU` for ``relu_`` / ``inplace=True`` calls."""

    @staticmethod
    def forward(ctx, x):
        x.clamp_min_(0)
        ctx.mark_dirty(x)
        ctx.save_for_backward(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        return _guided_gradient(grad, *ctx.saved_tensors)


_OUT_OF_PLACE = {F.relu, torch.relu, torch.Tensor.relu}
_IN_PLACE = {torch.relu_, torch.Tensor.relu_, F.relu_}


class GuidedReLUs(TorchFunctionMode):
    """Inside this mode every ReLU, module or functional, in-place or not, is a guided ReLU."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _OUT_OF_PLACE or func in _IN_PLACE:
            x = args[0] if args else kwargs["input"]
            if not x.requires_grad:
                return func(*args, **kwargs)
            in_place = func in _IN_PLACE or bool(kwargs.get("inplace", args[1] if len(args) > 1 else False))
            if in_place and not x.is_leaf:
                return _GuidedReLUInPlace.apply(x)
            return _GuidedReLU.apply(x)
        return func(*args, **kwargs)


def guided_input_gradient(ctx: MethodContext) -> torch.Tensor:
    """``d y_c / d x`` with every ReLU's backward replaced by the guided rule; one forward + backward."""
    x = ctx.x.clone().requires_grad_(True)
    with GuidedReLUs():
        out = ctx.run(x)
    score = ctx.target.scores(out).sum()
    (grad,) = torch.autograd.grad(score, x, allow_unused=True)
    return torch.zeros_like(x) if grad is None else grad.detach()


@register_method("guided-backprop", label="Guided Backprop", family="guided",
                 aliases=("guidedbackpropagation", "guidedbp"), needs_layer=False, needs_gradients=True,
                 input_resolution=True)
def guided_backprop(ctx: MethodContext) -> torch.Tensor:
    """Guided backpropagation map: ``M_ij = max_c |GB_cij|`` over colour channels of the guided gradient."""
    return ctx.guided_gradient().abs().amax(dim=1)


@register_method("guided-gradcam", label="Guided Grad-CAM", family="guided", needs_gradients=True,
                 input_resolution=True)
def guided_gradcam(ctx: MethodContext) -> torch.Tensor:
    """Guided Grad-CAM: ``M = up(minmax(relu(GradCAM))) * max_c |GB_c|``: the Grad-CAM map as shown
    (normalised, upsampled with half-pixel centres) times the guided-backprop map, element-wise."""
    x = ctx.x
    coarse = minmax_per_image(gradcam_map(ctx.activation, ctx.gradient()).clamp_min(0))
    return upsample(coarse, (x.shape[-2], x.shape[-1])) * guided_backprop(ctx)
