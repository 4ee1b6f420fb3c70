"""What a method sees: the recorded forward pass, the chosen layer, the target and the engine's helpers."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .errors import Cancelled, MethodError
from .recorder import ForwardRecord, LayerRecord
from .targets import Target


def check_cancel(cancel: Any) -> None:
    """Raise :class:`Cancelled` when ``cancel`` (anything with ``is_set()``) is set."""
    if cancel is not None and cancel.is_set():
        raise Cancelled("the CAM computation was cancelled (its cancel flag is set); clear the flag to compute again")


@dataclass
class MethodContext:
    """Everything one method call needs; methods return a raw (B, h, w) map."""

    model: nn.Module
    record: ForwardRecord
    layer: LayerRecord | None  # None for guided backprop, which works at the input
    target: Target
    options: dict[str, Any]
    gradient: Callable[[], torch.Tensor]  # d score / d layer output, (B, K, h, w), cached by the explainer
    guided_gradient: Callable[[], torch.Tensor]  # d score / d input with guided ReLUs, (B, C, H, W)
    run: Callable[[torch.Tensor], Any]  # calls the model on a batch and counts the forward pass
    # As run, for output-only passes (no hooks needed): a checked BN-folded, channels-last copy.
    run_masked: Callable[[torch.Tensor], Any]
    progress: Callable[[int, int], None] | None = None
    cancel: Any = None

    @property
    def activation(self) -> torch.Tensor:
        """The layer's output as a detached (B, K, h, w) tensor."""
        if self.layer is None:
            raise MethodError("this method was registered with needs_layer=False, so it has no layer "
                              "activations; register it with needs_layer=True to read ctx.activation")
        return self.layer.spatial()

    @property
    def x(self) -> torch.Tensor:
        """The input batch (detached)."""
        return self.record.key

    def tick(self, done: int, total: int) -> None:
        """Report progress and stop if cancelled; called between batches of slow methods."""
        check_cancel(self.cancel)
        if self.progress is not None:
            self.progress(done, total)


def wide_dtype(device: torch.device) -> torch.dtype:
    """float64 for numerically delicate steps, except on devices without it (MPS): float32 there."""
    return torch.float32 if device.type == "mps" else torch.float64


def weighted_sum(weights: torch.Tensor, activation: torch.Tensor) -> torch.Tensor:
    """``M_b = sum_k w_bk A_bk`` for weights (B, K) and activations (B, K, h, w)."""
    return torch.einsum("bk,bkhw->bhw", weights.to(activation.dtype), activation)
