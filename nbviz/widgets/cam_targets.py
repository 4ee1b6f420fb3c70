"""Class choices of CAMExplorer: a class index, or a class name looked up in the explorer's labels."""
from __future__ import annotations

from typing import Any, Sequence

import traitlets


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
