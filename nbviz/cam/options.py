"""Keyword options of CAM methods: a default, what values are accepted, and the check."""
from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import MethodError

#: Names ``explain`` / ``compute`` use themselves, so no method option may take them.
RESERVED_NAMES = frozenset({"x", "model", "method", "layer", "target", "upsample", "progress", "cancel"})


def _anything(value: Any) -> bool:
    return True


@dataclass(frozen=True)
class Option:
    """One keyword option of a method.

    ``default`` is used when the caller does not pass the option; ``accepts(value)`` says whether a
    value is valid and ``requirement`` says in words what a valid value is (it completes the
    sentence "option n must be ..."). ``Option(3)`` accepts any value.
    """

    default: Any
    accepts: Callable[[Any], bool] = _anything
    requirement: str = "any value"


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(default: int | None, *, auto: bool = False) -> Option:
    """An integer >= 1; with ``auto=True`` also None, meaning "the method chooses" (the default then)."""
    if auto:
        return Option(default, lambda v: v is None or (_is_int(v) and v >= 1),
                      "a positive integer, or None to let the method choose for the device")
    return Option(default, lambda v: _is_int(v) and v >= 1, "a positive integer")


def non_negative(default: float) -> Option:
    """A real number >= 0."""
    return Option(default, lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool) and v >= 0,
                  "a non-negative number")


def integer(default: int) -> Option:
    """Any integer (for example a random seed)."""
    return Option(default, _is_int, "an integer")


def declare_options(method: str, options: Mapping[str, Option | Any] | None) -> dict[str, Option]:
    """Normalise a method's option declarations: bare values become ``Option(value)``; defaults are checked."""
    declared: dict[str, Option] = {}
    for name, option in (options or {}).items():
        if not isinstance(name, str) or not name.isidentifier():
            raise MethodError(f"option names of method {method!r} must be Python identifiers, got {name!r}")
        if name in RESERVED_NAMES:
            raise MethodError(f"method {method!r} cannot have an option named {name!r}: explain() uses that "
                              f"name itself ({', '.join(sorted(RESERVED_NAMES))}); rename the option")
        option = option if isinstance(option, Option) else Option(option)
        if not option.accepts(option.default):
            raise MethodError(f"the default {option.default!r} of option {name} of method {method!r} is not "
                              f"{option.requirement}; fix the default or the check")
        declared[name] = option
    return declared


def resolve_options(method: str, declared: Mapping[str, Option], given: Mapping[str, Any]) -> dict[str, Any]:
    """The defaults of ``declared`` updated with ``given``; unknown names and invalid values raise MethodError."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        accepted = ", ".join(declared) if declared else "none"
        raise MethodError(f"method {method!r} does not take the option(s) {', '.join(unknown)}; "
                          f"options it accepts: {accepted}")
    for name, value in given.items():
        option = declared[name]
        if not option.accepts(value):
            raise MethodError(f"option {name} of method {method!r} must be {option.requirement}, got {value!r}")
    return {**{name: option.default for name, option in declared.items()}, **given}
