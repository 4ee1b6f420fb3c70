"""Reference helpers shared by the CAM tests (imported as a plain module)."""
from __future__ import annotations

import torch
from torch import nn

from nbviz.cam.hygiene import count_hooks


def minmax(m: torch.Tensor) -> torch.Tensor:
    """Reference per-image min-max of a (B, h, w) map after ReLU (constant -> zeros)."""
    m = m.clamp_min(0)
    lo = m.flatten(1).min(1).values[:, None, None]
    hi = m.flatten(1).max(1).values[:, None, None]
    return torch.where(hi > lo, (m - lo) / (hi - lo).clamp_min(1e-30), torch.zeros_like(m))


def assert_no_hooks(model: nn.Module) -> None:
    assert count_hooks(model) == 0, "hooks were left on the model"


def pearson(a: torch.Tensor, b: torch.Tensor) -> float:
    a = a.flatten().double() - a.double().mean()
    b = b.flatten().double() - b.double().mean()
    return float((a * b).sum() / (a.norm() * b.norm()))
