"""Keyword options of a report call handed to the widgets whose protocol methods accept them."""
from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence


def accepted_options(method: Callable[..., Any]) -> tuple[list[str], bool]:
    """(names of the keyword parameters of `method`, whether its `**options` accepts any name)."""
    parameters = inspect.signature(method).parameters.values()
    named = [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return named, any(p.kind is p.VAR_KEYWORD for p in parameters)


def route_options(
    widgets: Sequence[Any], options: dict[str, Any], method: str, *, own: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """For each widget, the options its `method` accepts; an option no widget accepts is a TypeError.

    `own` names the options the calling function consumes itself, listed in the error message.
    """
    routed: list[dict[str, Any]] = []
    taken: set[str] = set()
    open_ended = False
    for widget in widgets:
        named, takes_any = accepted_options(getattr(widget, method))
        open_ended |= takes_any
        taken.update(named)
        routed.append(dict(options) if takes_any else {k: v for k, v in options.items() if k in named})
    unknown = sorted(set(options) - taken)
    if unknown and not open_ended:
        accepted = "; ".join(
            f"{type(w).__name__}: {', '.join(accepted_options(getattr(w, method))[0]) or 'none'}" for w in widgets
        )
        also = f"; the call itself takes {', '.join(own)}" if own else ""
        raise TypeError(
            f"unknown option(s) {', '.join(unknown)}: no widget here takes them "
            f"(options each widget takes: {accepted}{also})"
        )
    return routed
