"""What score a map explains: a class index per sample, or a callable on the model's output."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numbers

import torch

from .errors import TargetError

TargetLike = Union[None, int, Sequence[int], torch.Tensor, Callable[[Any], torch.Tensor]]


@dataclass(frozen=True)
class Target:
    """A resolved target: ``classes`` (one per sample) or a score function ``fn(output) -> (N,)``."""

    classes: torch.Tensor | None
    fn: Callable[[Any], torch.Tensor] | None = None
    batch: int | None = None  # samples in the explained batch (rows of a plain forward)

    @property
    def key(self) -> tuple | None:
        """Hashable cache key; None for callables (their results are never cached)."""
        return None if self.classes is None else tuple(self.classes.tolist())

    def scores(self, output: Any, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Score per output row: ``output[n, class of sample rows[n]]`` or ``fn(output)``.

        ``rows`` gives the sample each row belongs to (perturbation batches of one sample); None
        means row n is sample n.
        """
        if self.fn is not None:
            return _check_callable_scores(self.fn(output), self.batch if rows is None else len(rows))
        classes = self.classes if rows is None else self.classes[rows]
        if not isinstance(output, torch.Tensor) or output.dim() != 2:
            raise TargetError(_non_tensor_message(output))
        return output.gather(1, classes.to(output.device)[:, None]).squeeze(1)




def _check_callable_scores(scores: Any, rows: int | None) -> torch.Tensor:
    if not isinstance(scores, torch.Tensor) or not scores.is_floating_point():
        raise TargetError(
            f"the target callable must return a floating torch.Tensor with one score per sample, got "
            f"{type(scores).__name__}; compute it from the model output with torch ops, "
            "e.g. lambda out: out['logits'][:, 3]")
    if scores.dim() == 0:
        scores = scores.reshape(1)
    if scores.dim() != 1 or (rows is not None and scores.shape[0] != rows):
        expected = f"({rows},)" if rows is not None else "(B,)"
        raise TargetError(
            f"the target callable returned shape {tuple(scores.shape)}, expected {expected}: one score "
            "per sample; index the batch dimension, e.g. lambda out: out[0][:, 3]")
    return scores


def _non_tensor_message(output: Any) -> str:
    kind = type(output).__name__
    shape = f" of shape {tuple(output.shape)}" if isinstance(output, torch.Tensor) else ""
    return (f"the model returns a {kind}{shape}, not (batch, classes) logits, so a class index cannot "
            "select a score; pass target=a callable that maps the output to one score per sample, "
            "e.g. target=lambda out: out[0][:, 3] or lambda out: out['logits'][:, 3]")


def resolve_target(target: TargetLike, output: Any, batch: int, device: torch.device) -> Target:
    """Turn the user's ``target`` into a :class:`Target` for a batch of ``batch`` samples.

    None picks each sample's predicted class (argmax of the logits); an int applies to every sample;
    a sequence or 1-D tensor gives one class per sample; a callable maps the output to scores.
    """
    if callable(target) and not isinstance(target, torch.Tensor):
        return Target(classes=None, fn=target, batch=batch)
    logits = output if isinstance(output, torch.Tensor) and output.dim() == 2 else None
    if logits is None or logits.shape[0] != batch:
        raise TargetError(_non_tensor_message(output))
    num_classes = logits.shape[1]
    if target is None:
        classes = logits.detach().argmax(dim=1)
    else:
        if isinstance(target, bool):
            raise TargetError("target must be a class index, a list of class indices, a callable or None; got a bool")
        if isinstance(target, numbers.Integral) or (isinstance(target, torch.Tensor) and target.dim() == 0):
            values = [int(target)] * batch
        elif hasattr(target, "tolist") or (isinstance(target, Sequence) and not isinstance(target, str)):
            values = [int(v) for v in (target.tolist() if hasattr(target, "tolist") else target)]
            if len(values) != batch:
                raise TargetError(
                    f"target has {len(values)} class indices but the batch has {batch} samples; "
                    "give one class per sample, a single int for all, or None for the predicted class")
        else:
            raise TargetError(
                f"target must be a class index, a list of class indices, a callable or None, got "
                f"{type(target).__name__}")
        bad = [v for v in values if not 0 <= v < num_classes]
        if bad:
            raise TargetError(
                f"target class {bad[0]} is out of range for a model with {num_classes} outputs; "
                f"use an index in 0..{num_classes - 1}")
        classes = torch.tensor(values, dtype=torch.long)
    return Target(classes=classes.to(device), batch=batch)
