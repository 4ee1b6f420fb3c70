"""Smooth Grad-CAM++: Grad-CAM++ with gradient moments averaged over noisy copies of the input."""
from __future__ import annotations

import torch

from .context import MethodContext, weighted_sum, wide_dtype
from .cost import Passes
from .errors import TargetError
from .options import integer, non_negative, positive_int
from .registry import register_method


@register_method("smoothgradcam++", label="Smooth Grad-CAM++", family="smooth",
                 aliases=("smoothgradcamplusplus", "smoothgradcampp", "smoothgradcam"),
                 options={"n_samples": positive_int(8), "noise": non_negative(0.15), "seed": integer(0),
                          "batch_size": positive_int(4)},
                 needs_gradients=True, slow=True,
                 passes=lambda options, channels: Passes(forward=options["n_samples"], backward=options["n_samples"]))
def smoothgradcampp(ctx: MethodContext) -> torch.Tensor:
    """Smooth Grad-CAM++ (Omeiza et al.).

    For ``N = n_samples`` noisy inputs ``x + e_i`` with ``e_i ~ N(0, (noise * (max x - min x))^2)``
    (per image; generator seeded with ``seed``), with ``g_i = dy_c/dA`` at the noisy input:
    ``D1 = mean_i g_i``, ``D2 = mean_i g_i^2``, ``D3 = mean_i g_i^3``;
    ``alpha = D2 / (2 D2 + (sum_ab A_ab) D3)`` (0 where the denominator is 0), ``A`` the clean
    activations; ``w_k = sum_ij relu(D1) alpha``; ``M = sum_k w_k A_k``.  With one sample and no
    noise this is exactly Grad-CAM++ (Eq. 19).  Moments are accumulated in float64.
    """
    layer = ctx.layer
    assert layer is not None and layer.layout is not None
    a = ctx.activation
    x = ctx.x
    n = int(ctx.options["n_samples"])
    level = float(ctx.options["noise"])
    chunk = int(ctx.options["batch_size"])
    wide = wide_dtype(a.device)
    generator = torch.Generator(device=x.device)
    generator.manual_seed(int(ctx.options["seed"]))
    moments = torch.zeros(3, *a.shape, dtype=wide, device=a.device)
    captured: list[torch.Tensor] = []

    def capture(module, inputs, output):
        captured.append(output)

    pieces = [(b, start, min(n, start + chunk)) for b in range(x.shape[0]) for start in range(0, n, chunk)]
    ctx.tick(0, len(pieces))
    handle = layer.module.register_forward_hook(capture)
    try:
        for done, (b, start, stop) in enumerate(pieces, start=1):
            image = x[b:b + 1]
            sigma = level * float(image.max() - image.min())
            noise = torch.randn((stop - start, *image.shape[1:]), generator=generator,
                                device=x.device, dtype=x.dtype)
            noisy = (image + sigma * noise).requires_grad_(True)
            captured.clear()
            out = ctx.run(noisy)
            score = ctx.target.scores(out, torch.full((stop - start,), b, dtype=torch.long)).sum()
            if not score.requires_grad:
                raise TargetError("the target score has no gradient history; compute it from the model "
                                  "output with differentiable torch ops (no .item(), .detach() or numpy)")
            (grad,) = torch.autograd.grad(score, captured[-1], allow_unused=True)
            if grad is None:
                grad = torch.zeros_like(captured[-1])
            g = layer.layout.to_spatial(grad).to(wide)
            moments[0, b] += g.sum(dim=0)
            moments[1, b] += (g * g).sum(dim=0)
            moments[2, b] += (g * g * g).sum(dim=0)
            ctx.tick(done, len(pieces))
    finally:
        handle.remove()
        captured.clear()
    d1, d2, d3 = moments / n
    total = a.to(wide).sum(dim=(2, 3), keepdim=True)
    denominator = 2 * d2 + total * d3
    valid = denominator != 0
    alpha = torch.where(valid, d2 / torch.where(valid, denominator, torch.ones_like(denominator)),
                        torch.zeros_like(d2))
    weights = (d1.clamp_min(0) * alpha).sum(dim=(2, 3))
    return weighted_sum(weights, a.to(wide))
