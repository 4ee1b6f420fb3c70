"""Methods computed from the layer's activations A (B, K, h, w) and gradients G = dy_c/dA only."""
from __future__ import annotations

import torch

from .context import MethodContext, weighted_sum, wide_dtype
from .registry import register_method


def gradcam_map(a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Grad-CAM: ``w_k = mean_ij G_kij``, ``M = sum_k w_k A_k`` (ReLU applied later)."""
    return weighted_sum(g.mean(dim=(2, 3)), a)


def gradcampp_map(a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Grad-CAM++, Eq. 19 of Chattopadhay et al. without any epsilon.

    ``alpha_kij = g^2 / (2 g^2 + (sum_ab A_kab) g^3)`` with ``g = G_kij``, 0 where ``g = 0``;
    ``w_k = sum_ij relu(G_kij) alpha_kij``; ``M = sum_k w_k A_k``.
    Where ``g != 0`` the fraction equals ``1 / (2 + S g)`` with ``S = sum_ab A_kab``, which is what
    we evaluate: the same number without squaring and cubing small gradients into underflow.  Only
    an exactly zero denominator is guarded (alpha = 0 there).

    Evaluated in float64 (float32 on MPS), whatever the dtype of ``a`` and ``g``: where ``S < 0``
    (layers without a final ReLU) ``2 + S g`` can pass close to 0 for a positive ``g``.  The
    condition number of alpha there is ``|S g / (2 + S g)|`` (about 1.4e3 at ``blocks.5`` of the
    embedded EfficientNet-Lite0), so float32 rounding of ``S`` and of ``S g`` (relative 6e-8)
    would move alpha by up to 1e-4 relative, and the map with it; in float64 the map is Eq. 19 of
    the given ``a`` and ``g`` to 1e-12.  The map is returned in that wide dtype.
    """
    wide = wide_dtype(a.device)
    a, g = a.to(wide), g.to(wide)
    total = a.sum(dim=(2, 3), keepdim=True)
    denominator = 2 + total * g
    valid = (g != 0) & (denominator != 0)
    alpha = torch.where(valid, 1 / torch.where(valid, denominator, torch.ones_like(denominator)),
                        torch.zeros_like(g))
    weights = (g.clamp_min(0) * alpha).sum(dim=(2, 3))
    return weighted_sum(weights, a)


def xgradcam_map(a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """XGrad-CAM: ``w_k = sum_ij (A_kij / sum_ab A_kab) G_kij`` (0 where ``sum_ab A_kab = 0``), ``M = sum_k w_k A_k``.

    Evaluated in float64 (float32 on MPS) for the same reason as Grad-CAM++: ``sum_ab A_kab`` can
    cancel to near 0 at layers without a final ReLU.
    """
    wide = wide_dtype(a.device)
    a, g = a.to(wide), g.to(wide)
    total = a.sum(dim=(2, 3))
    weights = (a * g).sum(dim=(2, 3))
    weights = torch.where(total != 0, weights / torch.where(total != 0, total, torch.ones_like(total)),
                          torch.zeros_like(total))
    return weighted_sum(weights, a)


def layercam_map(a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """LayerCAM: ``M_ij = sum_k relu(G_kij) A_kij``."""
    return (g.clamp_min(0) * a).sum(dim=1)


def hirescam_map(a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """HiResCAM: ``M_ij = sum_k G_kij A_kij``."""
    return (g * a).sum(dim=1)


@register_method("gradcam", label="Grad-CAM", family="gradient", needs_gradients=True)
def gradcam(ctx: MethodContext) -> torch.Tensor:
    """Grad-CAM at the context's layer (formula: :func:`gradcam_map`)."""
    return gradcam_map(ctx.activation, ctx.gradient())


@register_method("gradcam++", label="Grad-CAM++", family="gradient", aliases=("gradcamplusplus", "gradcampp"),
                 needs_gradients=True)
def gradcampp(ctx: MethodContext) -> torch.Tensor:
    """Grad-CAM++ (Eq. 19) at the context's layer (formula: :func:`gradcampp_map`)."""
    return gradcampp_map(ctx.activation, ctx.gradient())


@register_method("xgradcam", label="XGrad-CAM", family="gradient", needs_gradients=True)
def xgradcam(ctx: MethodContext) -> torch.Tensor:
    """XGrad-CAM at the context's layer (formula: :func:`xgradcam_map`)."""
    return xgradcam_map(ctx.activation, ctx.gradient())


@register_method("layercam", label="Layer-CAM", family="gradient", needs_gradients=True)
def layercam(ctx: MethodContext) -> torch.Tensor:
    """LayerCAM at the context's layer (formula: :func:`layercam_map`)."""
    return layercam_map(ctx.activation, ctx.gradient())


@register_method("hirescam", label="HiResCAM", family="gradient", needs_gradients=True)
def hirescam(ctx: MethodContext) -> torch.Tensor:
    """HiResCAM at the context's layer (formula: :func:`hirescam_map`)."""
    return hirescam_map(ctx.activation, ctx.gradient())
