"""Layer choices of CAMExplorer: a layer name or the layer's module, checked against the layers on offer."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import traitlets
from torch import nn


def explorer_layer(model: nn.Module, value: Any, offered: Sequence[str],
                   listed_name: Callable[[str], str | None] = lambda name: None) -> str:
    """The ``named_modules()`` name of ``value`` (a submodule of ``model`` or its name), which must be
    one of the ``offered`` layers (none offered yet: any layer of the model). A layer whose output is
    listed under another name (``listed_name(name)``: a container and its last child share one
    output) stands for that name.

    Errors (``traitlets.TraitError``) name the type of a foreign module, never its repr, and list the
    offered layers abbreviated as :func:`nbviz.cam.compute` does (the deepest eight).
    """
    from nbviz.cam.errors import LayerError
    from nbviz.cam.layers import describe_names, layer_name

    try:
        name = layer_name(model, value, list(offered), "this explorer's layers are")
    except LayerError as error:
        raise traitlets.TraitError(str(error)) from None
    if offered and name not in offered and listed_name(name) in offered:
        return listed_name(name)
    if offered and name not in offered:
        raise traitlets.TraitError(
            f"layer {name!r} is not offered by this explorer (CAMExplorer(layers=...) chose them); "
            f"choose one of: {describe_names(list(offered))}")
    return name


class LayerChoice(traitlets.Unicode):
    """A ``Unicode`` trait that also accepts the layer's module, stored as its ``named_modules()`` name."""

    info_text = "a layer name or a submodule of the model"

    def validate(self, obj: Any, value: Any) -> str:
        """A module becomes its name in ``obj._model``; anything else is checked as a ``Unicode``."""
        if isinstance(value, nn.Module):
            return explorer_layer(obj._model, value, getattr(obj, "_layers", None) or [], obj._listed_layer)
        return super().validate(obj, value)
