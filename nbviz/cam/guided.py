"""Guided backpropagation (Springenberg et al.) and Guided Grad-CAM (Selvaraju et al.)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from .context import MethodContext
from .gradient_methods import gradcam_map
from .postprocess import minmax_per_image, upsample
from .cost import Passes
from .registry import register_method


def _guided_gradient(grad: torch.Tensor, y: torch.Tensor, upper: float) -> torch.Tensor:
    """Guided backprop through ``y = clamp(x, 0, upper)``: dL/dx = relu(dL/dy) * [0 < y < upper]."""
    active = (y > 0) & (y < upper)
    return grad.clamp_min(0) * active.to(grad.dtype)


class _GuidedReLU(torch.autograd.Function):
    """``y = clamp(x, 0, upper)`` (ReLU: upper = inf, ReLU6: 6); backward passes ``relu(grad)`` through
    active units only (only positive signal)."""

    @staticmethod
    def forward(ctx, x, upper):
        y = x.clamp(0, upper)
        ctx.save_for_backward(y)
        ctx.upper = upper
        return y

    @staticmethod
    def backward(ctx, grad):
        return _guided_gradient(grad, *ctx.saved_tensors, ctx.upper), None


class _GuidedReLUInPlace(torch.autograd.Function):
    """In-place variant of :class:`_GuidedReLU` for ``relu_`` / ``inplace=True`` calls."""

    @staticmethod
    def forward(ctx, x, upper):
        x.clamp_(0, upper)
        ctx.mark_dirty(x)
        ctx.save_for_backward(x)
        ctx.upper = upper
        return x

    @staticmethod
    def backward(ctx, grad):
        return _guided_gradient(grad, *ctx.saved_tensors, ctx.upper), None


_OUT_OF_PLACE = {F.relu, torch.relu, torch.Tensor.relu}
_IN_PLACE = {torch.relu_, torch.Tensor.relu_, F.relu_}


def _rectifier(func, args: tuple, kwargs: dict) -> tuple[float, bool] | None:
    """``(upper, in_place)`` when ``func(*args, **kwargs)`` is ``clamp(x, 0, upper)``: a ReLU, ReLU6 or a
    hardtanh with minimum 0 (how ``nn.ReLU6`` is computed); None for anything else."""
    def argument(index: int, name: str, default):
        return args[index] if len(args) > index else kwargs.get(name, default)

    if func in _OUT_OF_PLACE or func in _IN_PLACE:
        return float("inf"), func in _IN_PLACE or bool(argument(1, "inplace", False))
    if func is F.relu6:
        return 6.0, bool(argument(1, "inplace", False))
    if func is F.hardtanh and float(argument(1, "min_val", -1.0)) == 0.0:
        return float(argument(2, "max_val", 1.0)), bool(argument(3, "inplace", False))
    return None


class GuidedReLUs(TorchFunctionMode):
    """Inside this mode every ReLU and ReLU6 (module or functional, in-place or not) is a guided one."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        rectifier = _rectifier(func, args, kwargs)
        if rectifier is not None:
            x = args[0] if args else kwargs["input"]
            if not x.requires_grad:
                return func(*args, **kwargs)
            upper, in_place = rectifier
            if in_place and not x.is_leaf:
                return _GuidedReLUInPlace.apply(x, upper)
            return _GuidedReLU.apply(x, upper)
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
                 input_resolution=True, sanity="fail", passes=lambda options, channels: Passes(forward=1, backward=1))
def guided_backprop(ctx: MethodContext) -> torch.Tensor:
    """Guided backpropagation map: ``M_ij = max_c |GB_cij|`` over colour channels of the guided gradient."""
    return ctx.guided_gradient().abs().amax(dim=1)


@register_method("guided-gradcam", label="Guided Grad-CAM", family="guided", needs_gradients=True,
                 input_resolution=True, passes=lambda options, channels: Passes(forward=1, backward=2))
def guided_gradcam(ctx: MethodContext) -> torch.Tensor:
    """Guided Grad-CAM: ``M = up(minmax(relu(GradCAM))) * max_c |GB_c|``: the Grad-CAM map as shown
    (normalised, upsampled with half-pixel centres) times the guided-backprop map, element-wise."""
    x = ctx.x
    coarse = minmax_per_image(gradcam_map(ctx.activation, ctx.gradient()).clamp_min(0))
    return upsample(coarse, (x.shape[-2], x.shape[-1])) * guided_backprop(ctx)
