"""Class choices of CAMExplorer: a class index, or a class name looked up in the explorer's labels;
and beyond one class, several classes summed, optionally against a "versus" class.

The score explained is ``y[target] + sum_j y[extra_j] - y[versus]`` (logits): one class alone, the sum
of several (multi-label, :func:`nbviz.cam.class_sum`), "why these rather than versus" (with one class,
:func:`nbviz.cam.contrast`). In map keys ("image|layer|target|method") the choice is written as a
target spec: ``"281"``, ``"281+285"``, ``"281-285"``, ``"281+282-285"``; js/src/cam/target_spec.js
writes the same text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

import traitlets

_SPEC = re.compile(r"^(\d+)((?:\+\d+)*)(?:-(\d+))?$")


@dataclass(frozen=True)
class TargetChoice:
    """The classes a map explains: ``target`` first, ``extra`` summed with it, ``versus`` subtracted."""

    target: int
    extra: tuple[int, ...] = ()
    versus: int | None = None

    def __post_init__(self) -> None:
        chosen = (self.target, *self.extra)
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"the classes {list(chosen)} repeat a class; choose each class once")
        if self.versus is not None and self.versus in chosen:
            raise ValueError(f"the versus class {self.versus} is one of the chosen classes {list(chosen)}; "
                             "compare with a class that is not chosen, or set versus=None")

    @property
    def spec(self) -> str:
        """The text of this choice in a map key, e.g. ``"281+282-285"``."""
        text = "+".join(str(k) for k in (self.target, *self.extra))
        return text if self.versus is None else f"{text}-{self.versus}"

    @property
    def classes(self) -> tuple[int, ...]:
        """Every class index the choice names (chosen classes, then the versus class)."""
        return (self.target, *self.extra) + (() if self.versus is None else (self.versus,))

    def label(self, names: list[str]) -> str:
        """How the choice reads, e.g. ``"tabby + tiger cat vs. Egyptian cat"`` (class names from ``names``)."""
        name = lambda k: names[k] if 0 <= k < len(names) else f"class {k}"  # noqa: E731
        text = " + ".join(name(k) for k in (self.target, *self.extra))
        return text if self.versus is None else f"{text} vs. {name(self.versus)}"

    def score_target(self):
        """What the engine explains: the class index alone, else a :class:`~nbviz.cam.ClassCombination`."""
        from nbviz.cam import ClassCombination

        if not self.extra and self.versus is None:
            return self.target
        terms = tuple((k, 1.0) for k in (self.target, *self.extra))
        return ClassCombination(terms + (() if self.versus is None else ((self.versus, -1.0),)))


def parse_target_spec(text: str | int) -> TargetChoice:
    """The :class:`TargetChoice` written as ``text`` (an int is one class)."""
    match = _SPEC.match(str(text).strip())
    if match is None:
        raise ValueError(f"target {text!r} is not a class choice; write a class index such as '281', classes "
                         "summed as '281+285', or one against another as '281-285'")
    extra = tuple(int(k) for k in match.group(2).split("+")[1:])
    versus = None if match.group(3) is None else int(match.group(3))
    return TargetChoice(int(match.group(1)), extra, versus)


def target_index(value: Any, class_names: Sequence[str]) -> int:
    """The class index ``value`` stands for: an int as is, a name through :func:`nbviz.cam.class_index`
    (exact, then case-insensitive). Bad names raise ``traitlets.TraitError`` with the engine's message."""
    if isinstance(value, str):
        from nbviz import cam

        try:
            return cam.class_index(value, class_names, listing="explorer.class_names")
        except cam.TargetError as error:
            raise traitlets.TraitError(str(error)) from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise traitlets.TraitError(
            f"target must be a class index (an int) or a class name (a str), got {type(value).__name__}")
    return value


class ClassTarget(traitlets.Int):
    """An ``Int`` trait that also accepts a class name, stored as that class's index."""

    info_text = "a class index or a class name"

    def validate(self, obj: Any, value: Any) -> int:
        """A name becomes its index in ``obj._class_names``; anything else is checked as an ``Int``."""
        if isinstance(value, str):
            return target_index(value, getattr(obj, "_class_names", None) or [])
        return super().validate(obj, value)
