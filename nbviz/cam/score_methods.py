"""Score-CAM and its smoothed (SS-CAM) and integrated (IS-CAM) variants: masks from the layer's channels."""
from __future__ import annotations

from collections.abc import Callable

import torch

from .context import MethodContext, weighted_sum
from .cost import Passes
from .options import integer, non_negative, positive_int
from .postprocess import minmax_per_image, upsample
from .registry import register_method

# A mask transform maps (chunk masks (n, H, W), variant index) -> masks actually applied.
MaskTransform = Callable[[torch.Tensor, int], torch.Tensor]

#: Masked images per forward pass when batch_size is None. On 2 CPU threads resnet50 ran 7% faster
#: per image at 16 than at 32 (smaller working set); GPUs want large batches.
CPU_BATCH = 16
ACCELERATOR_BATCH = 64


def channel_masks(a_one: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Score-CAM masks of one image: each channel (K, h, w) upsampled bilinearly (half-pixel centres)
    to the input ``size`` and min-max normalised to [0, 1]; a constant channel gives an all-zero mask."""
    return minmax_per_image(upsample(a_one, size))


def _masked_scores(ctx: MethodContext, variants: int, transform: MaskTransform,
                   zero_masks_are_equal: bool) -> torch.Tensor:
    """Mean target score over ``variants`` transformed masks, per image and channel: (B, K).

    ``s_bk = (1/V) sum_v y_c(x_b * T_v(M_bk))``, evaluated in batches of ``batch_size`` masked images
    under ``torch.inference_mode``.  When ``zero_masks_are_equal`` every constant channel (all-zero
    mask) shares one evaluation of ``y_c(x_b * T_v(0))``.
    """
    a = ctx.activation
    x = ctx.x
    batch, channels = a.shape[:2]
    size = (x.shape[-2], x.shape[-1])
    chunk = int(ctx.options["batch_size"] or (CPU_BATCH if x.device.type == "cpu" else ACCELERATOR_BATCH))
    flat = a.flatten(2)
    constant = flat.amax(dim=2) == flat.amin(dim=2)  # (B, K)
    scores = torch.zeros(batch, channels, dtype=torch.float64, device=a.device)
    work = [(b, v, k) for b in range(batch) for v in range(variants)
            for k in (torch.nonzero(~constant[b]).flatten() if zero_masks_are_equal
                      else torch.arange(channels, device=a.device)).split(chunk)]
    zero_work = [(b, v) for b in range(batch) for v in range(variants)
                 if zero_masks_are_equal and bool(constant[b].any())]
    total = len(work) + len(zero_work)
    done = 0
    ctx.tick(done, total)
    with torch.inference_mode():
        for b, v in zero_work:
            masks = transform(torch.zeros(1, *size, dtype=x.dtype, device=x.device), v)
            out = ctx.run_masked(x[b:b + 1] * masks[:, None])
            score = ctx.target.scores(out, torch.tensor([b])).to(torch.float64)
            scores[b, constant[b]] += score[0]
            done += 1
            ctx.tick(done, total)
        for b, v, ks in work:
            if len(ks) == 0:
                continue
            masks = transform(channel_masks(a[b, ks], size), v)
            out = ctx.run_masked(x[b:b + 1] * masks[:, None])
            rows = torch.full((len(ks),), b, dtype=torch.long)
            scores[b, ks] += ctx.target.scores(out, rows).to(torch.float64)
            done += 1
            ctx.tick(done, total)
    return scores / variants


def _softmax_weighted_map(ctx: MethodContext, scores: torch.Tensor) -> torch.Tensor:
    """``w_bk = softmax_k(s_bk)``, ``M_b = sum_k w_bk A_bk``."""
    return weighted_sum(torch.softmax(scores, dim=1), ctx.activation)


@register_method("scorecam", label="Score-CAM", family="score", options={"batch_size": positive_int(None, auto=True)},
                 slow=True, passes=lambda options, channels: Passes(forward=channels))
def scorecam(ctx: MethodContext) -> torch.Tensor:
    """Score-CAM (Wang et al.): ``w_k = softmax_k(y_c(x * M_k))``, ``M = sum_k w_k A_k``.

    ``M_k`` is channel k upsampled to the input size and min-max normalised; ``y_c`` is the target
    score (the logit for a class).  Softmax over channels as in pytorch-grad-cam and torchcam.
    """
    scores = _masked_scores(ctx, 1, lambda masks, v: masks, zero_masks_are_equal=True)
    return _softmax_weighted_map(ctx, scores)


@register_method("sscam", label="SS-CAM", family="score", aliases=("smoothedscorecam",),
                 options={"n_samples": positive_int(8), "noise": non_negative(0.2), "seed": integer(0),
                          "batch_size": positive_int(None, auto=True)},
                 slow=True, passes=lambda options, channels: Passes(forward=options["n_samples"] * channels))
def sscam(ctx: MethodContext) -> torch.Tensor:
    """SS-CAM (Wang et al., smoothed Score-CAM): ``w_k = softmax_k((1/N) sum_i y_c(x * (M_k + e_ik)))``.

    ``e_ik`` is Gaussian noise of standard deviation ``noise`` (default 0.2, on the [0, 1] mask
    scale), drawn per pixel, channel and sample from a generator seeded with ``seed``;
    ``N = n_samples``.
    """
    n = int(ctx.options["n_samples"])
    std = float(ctx.options["noise"])
    generator = torch.Generator(device=ctx.x.device)
    generator.manual_seed(int(ctx.options["seed"]))

    def noisy(masks: torch.Tensor, v: int) -> torch.Tensor:
        noise = torch.randn(masks.shape, generator=generator, device=masks.device, dtype=masks.dtype)
        return masks + std * noise

    scores = _masked_scores(ctx, n, noisy, zero_masks_are_equal=False)
    return _softmax_weighted_map(ctx, scores)


@register_method("iscam", label="IS-CAM", family="score", aliases=("integratedscorecam",),
                 options={"n_samples": positive_int(8), "batch_size": positive_int(None, auto=True)}, slow=True,
                 passes=lambda options, channels: Passes(forward=options["n_samples"] * channels))
def iscam(ctx: MethodContext) -> torch.Tensor:
    """IS-CAM (Naidu et al., integrated Score-CAM): ``w_k = softmax_k((1/N) sum_{i=1..N} y_c(x * (i/N) M_k))``.

    The score is averaged along the straight path from the empty mask to ``M_k``; ``N = n_samples``.
    """
    n = int(ctx.options["n_samples"])
    scores = _masked_scores(ctx, n, lambda masks, v: masks * ((v + 1) / n), zero_masks_are_equal=True)
    return _softmax_weighted_map(ctx, scores)
