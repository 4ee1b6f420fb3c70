"""Methods computed from the layer's activations A (B, K, h, w) and gradients G = dy_c/dA only."""
from __future__ import annotations

import torch

from .context import MethodContext, weighted_sum


def gradcam_map(a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Grad-CAM: ``w_k = mean_ij G_kij``, ``M = sum_k w_k A_k`` (ReLU applied later)."""
    return weighted_sum(g.mean(dim=(2, 3)), a)


def gradcampp_map(a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Grad-CAM++, Eq. 19 of Chattopadhay et al. without any epsilon.

    ``alpha_kij = g^2 / (2 g^2 + (sum_ab A_kab) g^3)`` with ``g = G_kij``, 0 where ``g = 0``;
    ``w_k = sum_ij relu(G_kij) alpha_kij``; ``M = sum_k w_k A_k``.
    Where ``g != 0`` the fraction equals ``1 / (2 + (sum_ab A_kab) g)``, which is what we evaluate:
    the same number without squaring and cubing small gradients into underflow.  Only an exactly
    zero denominator is guarded (alpha = 0 there).
    """
    total = a.sum(dim=(2, 3), keepdim=True)
    denominator = 2 + total * g
    valid = (g != 0) & (denominator != 0)
    alpha = torch.where(valid, 1 / torch.where(valid, denominator, torch.ones_like(denominator)),
                        torch.zeros_like(g))
    weights = (g.clamp_min(0) * alpha).sum(dim=(2, 3))
    return weighted_sum(weights, a)


def xgradcam_map(a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """XGrad-CAM: ``w_k = sum_ij (A_kij / sum_ab A_kab) G_kij`` (0 where ``sum_ab A_kab = 0``), ``M = sum_k w_k A_k``."""
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


def _from_gradients(fn):
    def method(ctx: MethodContext) -> torch.Tensor:
        return fn(ctx.activation, ctx.gradient())
    method.__doc__ = fn.__doc__
    method.__name__ = fn.__name__.replace("_map", "")
    return method


gradcam = _from_gradients(gradcam_map)
gradcampp = _from_gradients(gradcampp_map)
xgradcam = _from_gradients(xgradcam_map)
layercam = _from_gradients(layercam_map)
hirescam = _from_gradients(hirescam_map)
