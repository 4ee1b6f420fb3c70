"""Name groups and tables derived from the method registry, kept live as methods are (un)registered.

Each is a read-only view: ``"gradcam" in METHODS``, ``list(SLOW_METHODS)``, ``METHOD_LABELS["gradcam"]``
always reflect the methods registered at that moment.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from .registry import MethodSpec, specs


class MethodNames(Sequence[str]):
    """The canonical names of the registered methods that satisfy ``keep``, in menu order."""

    def __init__(self, keep: Callable[[MethodSpec], bool], description: str) -> None:
        self._keep = keep
        self.__doc__ = description

    def _names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in specs() if self._keep(spec))

    def __getitem__(self, index: Any) -> Any:
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __repr__(self) -> str:
        return repr(self._names())


class MethodTable(Mapping[str, Any]):
    """Canonical name -> ``value(spec)`` for every registered method, in menu order."""

    def __init__(self, value: Callable[[MethodSpec], Any], description: str) -> None:
        self._value = value
        self.__doc__ = description

    def _table(self) -> dict[str, Any]:
        return {spec.name: self._value(spec) for spec in specs()}

    def __getitem__(self, name: str) -> Any:
        return self._table()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def __repr__(self) -> str:
        return repr(self._table())


#: Every registered method, by canonical name.
METHODS = MethodNames(lambda spec: True, "Every registered method, by canonical name.")

#: Methods computed from the cached forward pass and at most one backward pass per class.
GRADIENT_METHODS = MethodNames(
    lambda spec: spec.family in ("activation", "gradient") and not spec.slow,
    "Methods computed from the cached forward pass and at most one backward pass per class.")

#: Methods that need extra batched model passes (they report progress and honour ``cancel``).
SLOW_METHODS = MethodNames(lambda spec: spec.slow, "Methods that need extra batched model passes.")

#: Methods built on one extra forward and backward pass with guided ReLUs (cached per class).
GUIDED_METHODS = MethodNames(lambda spec: spec.family == "guided", "Methods built on guided backpropagation.")

#: Methods that work on any model: they do not read the model's linear head.
ANY_MODEL_METHODS = MethodNames(lambda spec: not spec.needs_head, "Methods that do not read a linear head.")

#: Canonical name -> label shown in menus, figures and reports.
METHOD_LABELS = MethodTable(lambda spec: spec.label, "Canonical name -> label shown in menus and reports.")

#: Canonical name -> the keyword options the method accepts, with their defaults.
METHOD_OPTIONS = MethodTable(lambda spec: spec.defaults, "Canonical name -> option defaults.")
