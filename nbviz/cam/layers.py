"""Finding the layers a CAM can be computed at, and resolving what the user asked for."""
from __future__ import annotations

import difflib
from collections.abc import Callable

import torch
from torch import nn

from .errors import LayerError
from .hygiene import model_session
from .inputs import validate_input
from .recorder import ForwardRecord, LayerRecord, record_forward


def candidate_layers(model: nn.Module, example_input: torch.Tensor) -> list[str]:
    """Names of the layers whose output is a spatial map for ``example_input``, input to output.

    A layer qualifies when it is called once per forward pass and its output is a (B, K, h, w) map,
    a channels-last (B, h, w, K) map, or a (B, T, K) token sequence whose patch tokens form an
    ``h x w`` grid (``h*w > 1``).  Modules that hand on the same tensor (a container and its last
    child, BatchNorm followed by an in-place ReLU) are listed once, under the last to finish.
    Runs one forward pass without gradients; the model is left unchanged.
    """
    x = validate_input(model, example_input)
    with model_session(model):
        record = record_forward(model, x, keep_graph=False)
    return list(record.candidates)


def describe_names(names: list[str], limit: int = 8) -> str:
    """``names`` quoted and comma-separated; beyond ``limit`` only the last ``limit`` (the deepest
    layers, the likeliest choices), after "... (N earlier)"."""
    shown = names[-limit:]
    more = f"... ({len(names) - limit} earlier), " if len(names) > limit else ""
    return more + ", ".join(repr(n) for n in shown)


def layer_name(model: nn.Module, layer: nn.Module | str, suggestions: list[str],
               suggestions_label: str = "layers with a spatial output are") -> str:
    """The ``named_modules()`` name of ``layer`` (a submodule of ``model`` or such a name).

    Raises LayerError for a module outside the model, an unknown name (naming the closest names
    and, abbreviated, ``suggestions`` after ``suggestions_label``) or another type.
    """
    if isinstance(layer, nn.Module):
        name = next((n for n, m in model.named_modules() if m is layer and n), None)
        if name is None:
            raise LayerError(
                f"the layer module {type(layer).__name__} is not a submodule of this model; "
                "pass a module of the same model object or its name from model.named_modules()")
        return name
    if isinstance(layer, str):
        known = [n for n, _ in model.named_modules() if n]
        if layer not in known:
            close = difflib.get_close_matches(layer, known, n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
            raise LayerError(
                f"the model has no layer named {layer!r}; {hint}"
                f"{suggestions_label}: {describe_names(suggestions)}")
        return layer
    raise LayerError(
        f"layer must be a module, a name from model.named_modules() or None, got {type(layer).__name__}")


def resolve_layer(model: nn.Module, record: ForwardRecord, layer: nn.Module | str,
                  ) -> LayerRecord:
    """The recorded output of ``layer`` (a module of ``model`` or a ``named_modules()`` name).

    Raises LayerError for an unknown name (suggesting the closest names), a module outside the
    model, a layer not called or called several times, and a layer without spatial output.
    """
    name = layer_name(model, layer, record.candidates)
    rec = record.layers.get(name)
    if rec is None:
        raise LayerError(
            f"layer {name!r} was not called during the forward pass, so it has no output to explain; "
            f"choose one of: {describe_names(record.candidates)}")
    if rec.calls > 1:
        raise LayerError(
            f"layer {name!r} is called {rec.calls} times in one forward pass (a shared module), so its "
            f"output is ambiguous; choose a layer called once, e.g. its parent block, or one of: "
            f"{describe_names(record.candidates)}")
    if rec.layout is None:
        shape = tuple(rec.raw.shape) if rec.raw is not None else "a non-tensor value"
        raise LayerError(
            f"layer {name!r} outputs {shape}, not a spatial map, so no CAM can be drawn from it; "
            f"choose a layer with a spatial output: {describe_names(record.candidates)}")
    return rec


def default_layer(record: ForwardRecord, reaches_output: Callable[[LayerRecord], bool]) -> LayerRecord:
    """The last spatial layer; token-grid layers whose patch tokens do not reach the output are skipped.

    In a ViT only the class token of the last blocks feeds the head, so their patch-token gradient
    is zero and every gradient map would be blank; ``reaches_output`` tells whether it is.
    """
    if not record.candidates:
        raise LayerError(
            "the model has no layer with a spatial output (B, K, h, w), channels-last map or square "
            "token grid for this input, so there is nothing to draw a CAM from; use a convolutional "
            "or vision-transformer model, or a larger input image")
    for name in reversed(record.candidates):
        rec = record.layers[name]
        if rec.layout is None or rec.layout.kind != "tokens" or reaches_output(rec):
            return rec
    return record.layers[record.candidates[-1]]
