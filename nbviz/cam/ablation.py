"""Ablation-CAM: how much the target score drops when one channel of the layer is zeroed."""
from __future__ import annotations

from typing import Any

import torch

from .context import MethodContext, weighted_sum
from .cost import Passes
from .errors import MethodError
from .options import positive_int
from .registry import register_method

#: Memory budget for one batch of ablated copies of the layer's output.
_ABLATION_BYTES = 256 * 2**20


def _run_with_replaced_layer(ctx: MethodContext, x_one: torch.Tensor, channels: torch.Tensor) -> Any:
    """Run the model on one image while the layer's output is replaced by ablated copies.

    A forward hook swaps the layer's (1, ...) output for ``len(channels)`` copies, copy i with channel
    ``channels[i]`` zeroed, so only the part of the network after the layer runs on the batch.  If the
    model cannot broadcast a batch-1 prefix into a larger batch (its output has the wrong number of
    rows), the image is repeated instead and the layer's output of the first copy is ablated.
    """
    layer = ctx.layer
    assert layer is not None and layer.layout is not None
    layout = layer.layout

    def replace(module, inputs, output):
        return layout.ablated_copies(output[:1], channels)

    handle = layer.module.register_forward_hook(replace)
    try:
        try:
            out = ctx.run(x_one)
            if _rows(out) == len(channels):
                return out
        except Exception:  # a broadcasting failure: retry with a repeated input below
            pass
        out = ctx.run(x_one.expand(len(channels), *x_one.shape[1:]))
        if _rows(out) != len(channels):
            raise MethodError(
                "ablationcam could not run the model on a batch of ablated copies of layer "
                f"{layer.name!r}; choose another layer or another method")
        return out
    finally:
        handle.remove()


def _rows(output: Any) -> int | None:
    if isinstance(output, torch.Tensor):
        return output.shape[0]
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0].shape[0]
    if isinstance(output, dict) and output:
        first = next(iter(output.values()))
        return first.shape[0] if isinstance(first, torch.Tensor) else None
    return None


@register_method("ablationcam", label="Ablation-CAM", family="ablation", aliases=("ablation",),
                 options={"batch_size": positive_int(None, auto=True)}, slow=True,
                 passes=lambda options, channels: Passes(forward=1, after_layer=channels))
def ablationcam(ctx: MethodContext) -> torch.Tensor:
    """Ablation-CAM (Desai & Ramaswamy): ``w_k = (y_c - y_c^k) / y_c``, ``M = sum_k w_k A_k``.

    ``y_c`` is the target score, ``y_c^k`` the score with channel k of the layer's output set to
    zero (the paper's ablation; pytorch-grad-cam uses ``min - 1e7`` instead when the layer has
    negative values).  If ``y_c = 0`` exactly the weights are ``y_c - y_c^k``.
    Batches of ablated copies run only the part of the network after the layer.
    """
    a = ctx.activation
    batch, channels = a.shape[:2]
    per_copy = max(1, ctx.layer.raw[0].numel() * ctx.layer.raw.element_size())
    chunk = ctx.options["batch_size"] or max(1, min(channels, _ABLATION_BYTES // per_copy))
    base = ctx.target.scores(ctx.record.output).detach().to(torch.float64)
    weights = torch.zeros(batch, channels, dtype=torch.float64, device=a.device)
    pieces = torch.arange(channels, device=a.device).split(int(chunk))
    total, done = batch * len(pieces), 0
    ctx.tick(done, total)
    with torch.inference_mode():
        for b in range(batch):
            for ks in pieces:
                out = _run_with_replaced_layer(ctx, ctx.x[b:b + 1], ks)
                rows = torch.full((len(ks),), b, dtype=torch.long)
                ablated = ctx.target.scores(out, rows).to(torch.float64)
                drop = base[b] - ablated
                weights[b, ks] = drop / base[b] if float(base[b]) != 0 else drop
                done += 1
                ctx.tick(done, total)
    return weighted_sum(weights, a)
