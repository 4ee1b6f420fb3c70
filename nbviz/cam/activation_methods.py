"""Methods that need only the layer's activations: CAM (with the model's linear head) and EigenCAM."""
from __future__ import annotations

import torch
from torch import nn

from .context import MethodContext
from .errors import MethodError
from .recorder import ForwardRecord
from .names import ANY_MODEL_METHODS
from .registry import register_method


def _linear_head(record: ForwardRecord) -> tuple[nn.Linear, torch.Tensor] | None:
    """The nn.Linear whose output is the model's output, with its recorded input."""
    best = None
    for rec in record.layers.values():
        if isinstance(rec.module, nn.Linear) and rec.raw is record.output and rec.name in record.linear_inputs:
            if best is None or rec.finished > best.finished:
                best = rec
    if best is None:
        return None
    return best.module, record.linear_inputs[best.name]


@register_method("cam", label="CAM", family="activation", aliases=("classactivationmap",), needs_head=True)
def cam(ctx: MethodContext) -> torch.Tensor:
    """CAM (Zhou et al.): ``M = sum_k W_ck A_k`` where ``y_c = sum_k W_ck mean_ij A_kij + b_c``.

    Valid only when the layer's output reaches the final nn.Linear through global average pooling
    alone; that is checked on the recorded values, not guessed from module types.
    """
    a = ctx.activation
    head = _linear_head(ctx.record)
    pooled = a.mean(dim=(2, 3))
    if head is not None:
        linear, features = head
        features = features.detach()
        if features.shape == pooled.shape:
            scale = float(features.abs().max()) if features.numel() else 0.0
            if torch.allclose(features, pooled, rtol=1e-4, atol=1e-5 * max(scale, 1e-12)):
                weights = linear.weight.detach()[ctx.target.classes.to(linear.weight.device)]
                return torch.einsum("bk,bkhw->bhw", weights.to(a.dtype), a)
    layer = ctx.layer.name if ctx.layer else "?"
    raise MethodError(
        f"'cam' needs a model whose output is a final nn.Linear applied to the global average pool of "
        f"the chosen layer; the output of layer {layer!r} ({a.shape[1]} channels) does not reach the "
        f"model's output that way (another layer, a ReLU or an MLP head in between). Use one of "
        f"{', '.join(ANY_MODEL_METHODS)} instead, which work on any model, or pick the layer that feeds the pooling")


@register_method("eigencam", label="Eigen-CAM", family="activation", aliases=("eigen",))
def eigencam(ctx: MethodContext) -> torch.Tensor:
    """EigenCAM: the projection of the activations on their first principal component.

    Per image, ``X`` is the (h*w, K) matrix of activations with each channel's mean removed,
    ``v`` the first right singular vector of ``X`` and ``M = X v`` reshaped to (h, w).  The sign
    of ``v`` is arbitrary in an SVD; we fix it so that ``M`` correlates positively with the mean
    activation over channels (or, if that correlation is exactly 0, so that the largest-magnitude
    entry of ``v`` is positive).  Class-agnostic: the target is ignored.
    """
    a = ctx.activation
    return eigen_projection(a)


def eigen_projection(a: torch.Tensor) -> torch.Tensor:
    """First-principal-component projection of each image's (h*w, K) activations, sign fixed (see eigencam)."""
    batch, channels, h, w = a.shape
    maps = []
    for sample in a:
        x = sample.reshape(channels, h * w).T
        x = x - x.mean(dim=0, keepdim=True)
        _, _, vh = torch.linalg.svd(x, full_matrices=False)
        v = vh[0]
        projection = x @ v
        mean_act = sample.mean(dim=0).flatten()
        corr = float(((mean_act - mean_act.mean()) * (projection - projection.mean())).sum())
        if corr < 0 or (corr == 0 and float(v[v.abs().argmax()]) < 0):
            projection = -projection
        maps.append(projection.reshape(h, w))
    return torch.stack(maps)
