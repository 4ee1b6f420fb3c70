"""One gradient-descent update with momentum and gains (openTSNE's rule), in place."""
from __future__ import annotations

import torch

MIN_GAIN = 0.01


def momentum_step(
    y: torch.Tensor, update: torch.Tensor, gains: torch.Tensor, grad: torch.Tensor,
    learning_rate: float, momentum: float, max_step_norm: float | None,
) -> None:
    """Apply one update to `y`, changing y, update and gains in place:

      gains  = gains + 0.2 where sign(update) != sign(grad), else 0.8 * gains + 0.01
      update = momentum * update - learning_rate * gains * grad
      each row of update scaled down to norm <= max_step_norm (when given)
      y      = y + update
    """
    flipped = torch.sign(update) != torch.sign(grad)
    torch.where(flipped, gains + 0.2, gains * 0.8 + MIN_GAIN, out=gains)
    update.mul_(momentum).sub_(learning_rate * gains * grad)
    if max_step_norm is not None:
        norms = update.norm(dim=1, keepdim=True)
        update.mul_(max_step_norm / norms.clamp_min(max_step_norm))
    y.add_(update)
