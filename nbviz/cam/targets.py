"""What score a map explains: a class index per sample, or a callable on the model's output."""
from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

import torch

from .errors import TargetError



@dataclass(frozen=True)
class ClassCombination:
    """A score that is a fixed linear combination of logits, the same for every sample:
    ``score = sum_j coefficient_j * y[class_j]`` (build it with :func:`contrast` or :func:`class_sum`)."""

    terms: tuple[tuple[int, float], ...]

    def __str__(self) -> str:
        parts = [f"{'-' if c < 0 else '+'} {'' if abs(c) == 1 else f'{abs(c):g} '}y[{k}]" for k, c in self.terms]
        return " ".join(parts).lstrip("+ ")


def _class_index(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TargetError(f"{what} must be a class index (an int), got {value!r}")
    return int(value)


def contrast(a: int, b: int) -> ClassCombination:
    """Target for "why class ``a`` rather than ``b``": the score ``y_a - y_b`` (logits), for every method.

    For gradient methods the map is that of ``y_a`` minus that of ``y_b`` before the ReLU, so it shows
    where the evidence for ``a`` exceeds the evidence for ``b``.
    """
    a, b = _class_index(a, "contrast's first class"), _class_index(b, "contrast's second class")
    if a == b:
        raise TargetError(f"contrast({a}, {b}) compares class {a} with itself: y_a - y_b is 0 everywhere and every "
                          "map would be blank; choose two different classes")
    return ClassCombination(((a, 1.0), (b, -1.0)))


def class_sum(*classes: int) -> ClassCombination:
    """Target for several classes at once (multi-label): the score ``sum_j y[classes_j]`` (logits)."""
    if not classes:
        raise TargetError("class_sum() needs at least one class index, e.g. class_sum(281, 285)")
    indices = [_class_index(value, "each class of class_sum") for value in classes]
    if len(set(indices)) != len(indices):
        raise TargetError(f"class_sum{tuple(indices)} repeats a class; give each class once")
    return ClassCombination(tuple((k, 1.0) for k in indices))


TargetLike = Union[None, int, Sequence[int], torch.Tensor, ClassCombination, Callable[[Any], torch.Tensor]]


@dataclass(frozen=True)
class Target:
    """A resolved target: ``classes`` (one per sample), a :class:`ClassCombination` (``combination``, with
    ``coefficients`` (C,) over the logits) or a score function ``fn(output) -> (N,)``."""

    classes: torch.Tensor | None
    fn: Callable[[Any], torch.Tensor] | None = None
    batch: int | None = None  # samples in the explained batch (rows of a plain forward)
    combination: ClassCombination | None = None
    coefficients: torch.Tensor | None = None

    @property
    def key(self) -> tuple | None:
        """Hashable cache key; None for callables (their results are never cached)."""
        if self.combination is not None:
            return ("combination", self.combination.terms)
        return None if self.classes is None else tuple(self.classes.tolist())

    @property
    def is_linear(self) -> bool:
        """Whether the score is a fixed combination of logits (a class or a :class:`ClassCombination`)."""
        return self.classes is not None or self.combination is not None

    def head_rows(self, weight: torch.Tensor) -> torch.Tensor:
        """The rows of a linear head ``weight`` (C, K) that give each sample's score: (B, K)."""
        if self.coefficients is not None:
            row = self.coefficients.to(weight.device, weight.dtype) @ weight
            return row.expand(self.batch or 1, -1)
        assert self.classes is not None
        return weight[self.classes.to(weight.device)]

    def scores(self, output: Any, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Score per output row: ``output[n, class of sample rows[n]]`` or ``fn(output)``.

        ``rows`` gives the sample each row belongs to (perturbation batches of one sample); None
        means row n is sample n.
        """
        if self.fn is not None:
            return _check_callable_scores(self.fn(output), self.batch if rows is None else len(rows))
        if not isinstance(output, torch.Tensor) or output.dim() != 2:
            raise TargetError(_non_tensor_message(output))
        if self.coefficients is not None:
            return output @ self.coefficients.to(output.device, output.dtype)
        classes = self.classes if rows is None else self.classes[rows]
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
    a sequence or 1-D tensor gives one class per sample; a :class:`ClassCombination` (from
    :func:`contrast` or :func:`class_sum`) a combination of logits; a callable maps the output to scores.
    """
    if callable(target) and not isinstance(target, torch.Tensor):
        return Target(classes=None, fn=target, batch=batch)
    logits = output if isinstance(output, torch.Tensor) and output.dim() == 2 else None
    if logits is None or logits.shape[0] != batch:
        raise TargetError(_non_tensor_message(output))
    num_classes = logits.shape[1]
    if isinstance(target, ClassCombination):
        _check_range([k for k, _ in target.terms], num_classes, str(target))
        coefficients = torch.zeros(num_classes, dtype=torch.float64)
        for k, c in target.terms:
            coefficients[k] = c
        return Target(classes=None, batch=batch, combination=target, coefficients=coefficients.to(device))
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
            named = (" (a class name works where the labels are known: in CAMExplorer, or turn it into an index "
                     "with nbviz.cam.class_index(name, labels))") if isinstance(target, str) else ""
            raise TargetError(
                f"target must be a class index, a list of class indices, a callable or None, got "
                f"{type(target).__name__}{named}")
        _check_range(values, num_classes, "target")
        classes = torch.tensor(values, dtype=torch.long)
    return Target(classes=classes.to(device), batch=batch)


def class_index(name: str, labels: Sequence[str], *, listing: str = "the labels you passed") -> int:
    """The index of the class called ``name`` in ``labels``: an exact match first, then a
    case-insensitive one.

    Raises :class:`~nbviz.cam.TargetError` when several labels match case-insensitively (listing them
    with their indices) or none does (naming the closest labels, found with ``difflib``, and
    ``listing``: where the caller can read every label, e.g. ``"explorer.class_names"``).
    """
    if not isinstance(name, str):
        raise TargetError(f"a class name must be a string, got {type(name).__name__}")
    names = [str(label) for label in labels]
    exact = [i for i, label in enumerate(names) if label == name]
    if len(exact) == 1:
        return exact[0]
    folded = name.casefold()
    matches = exact or [i for i, label in enumerate(names) if label.casefold() == folded]
    if len(matches) == 1:
        return matches[0]
    if matches:
        listed = ", ".join(f"{i} ({names[i]!r})" for i in matches)
        raise TargetError(f"class name {name!r} matches {len(matches)} labels: {listed}; pass the class index instead")
    by_folded: dict[str, int] = {}
    for i, label in enumerate(names):
        by_folded.setdefault(label.casefold(), i)
    close = difflib.get_close_matches(folded, list(by_folded), n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(f'{names[by_folded[c]]!r} ({by_folded[c]})' for c in close)}? " if close else ""
    raise TargetError(f"no class is called {name!r} among the {len(names)} labels; {hint}{listing} lists them all")


def _check_range(values: Sequence[int], num_classes: int, what: str) -> None:
    bad = [v for v in values if not 0 <= v < num_classes]
    if bad:
        raise TargetError(f"class {bad[0]} of {what} is out of range for a model with {num_classes} outputs; "
                          f"use an index in 0..{num_classes - 1}")
