"""Turning a raw map into what the API returns: ReLU, upsampling, per-image min-max."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def minmax_per_image(maps: torch.Tensor) -> torch.Tensor:
    """``(M - min M) / (max M - min M)`` per image of a (B, h, w) batch; a constant image gives zeros."""
    flat = maps.flatten(1)
    low = flat.min(dim=1).values[:, None, None]
    span = flat.max(dim=1).values[:, None, None] - low
    safe = torch.where(span > 0, span, torch.ones_like(span))
    return torch.where(span > 0, (maps - low) / safe, torch.zeros_like(maps))


def upsample(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of a (B, h, w) batch to ``size`` with half-pixel centres (``align_corners=False``)."""
    if tuple(maps.shape[-2:]) == tuple(size):
        return maps
    return F.interpolate(maps[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]


def finalize(raw: torch.Tensor, size: tuple[int, int], do_upsample: bool) -> torch.Tensor:
    """``minmax(upsample(relu(raw)))`` as float32 in [0, 1]; NaN-free because constant maps become zeros."""
    maps = torch.nan_to_num(raw.detach(), nan=0.0).clamp_min(0)
    if do_upsample:
        maps = upsample(maps, size)
    return minmax_per_image(maps).to(torch.float32)
