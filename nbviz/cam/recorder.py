"""One forward pass that records every module's output, the raw material of all CAM methods."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .errors import InputError
from .hygiene import hooks_removed_after
from .layouts import Layout, detect_layout


@dataclass
class LayerRecord:
    """What one module produced during the recorded forward pass."""

    name: str
    module: nn.Module
    raw: torch.Tensor | None  # last tensor output (its final version if modified in place later)
    calls: int
    finished: int  # completion order of the module's last call
    layout: Layout | None = None

    def spatial(self) -> torch.Tensor:
        """The output as a detached (B, K, h, w) tensor."""
        assert self.raw is not None and self.layout is not None
        return self.layout.to_spatial(self.raw.detach())


@dataclass
class ForwardRecord:
    """A forward pass of one input batch: output, every module's output, and the autograd graph."""

    key: torch.Tensor  # detached copy of the input, to recognise it again
    x: torch.Tensor  # the input as fed to the model (requires grad when the graph was kept)
    output: Any
    layers: dict[str, LayerRecord]
    candidates: list[str]  # spatial layers, input to output, one name per distinct tensor
    linear_inputs: dict[str, torch.Tensor] = field(default_factory=dict)
    stamp: tuple = ()

    @property
    def logits(self) -> torch.Tensor | None:
        """The output when it is a (B, C) tensor, else None."""
        out = self.output
        if isinstance(out, torch.Tensor) and out.dim() == 2 and out.shape[0] == self.x.shape[0]:
            return out
        return None


_NO_OPS = (nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)


def parameter_stamp(model: nn.Module) -> tuple:
    """Identity and in-place version of every parameter and buffer: changes whenever the weights change."""
    return tuple((id(t), t._version) for t in (*model.parameters(), *model.buffers()))


def run_model(model: Callable[[torch.Tensor], Any], x: torch.Tensor) -> Any:
    """Call the model, turning a failure on this input into an InputError that says what to check."""
    try:
        return model(x)
    except (RuntimeError, TypeError, IndexError) as exc:
        raise InputError(
            f"the model failed on an input of shape {tuple(x.shape)} and dtype {x.dtype}: {exc}. "
            "Check the number of channels, the image size and the normalisation the model expects"
        ) from exc


def record_forward(model: nn.Module, x: torch.Tensor, keep_graph: bool) -> ForwardRecord:
    """Run ``model(x)`` once with a forward hook on every submodule and return what each produced.

    With ``keep_graph`` the input is made to require grad (so frozen models still build a graph) and
    the graph is kept for later ``torch.autograd.grad`` calls.
    """
    names = {module: name for name, module in model.named_modules() if name}
    records: dict[str, LayerRecord] = {}
    linear_inputs: dict[str, torch.Tensor] = {}
    counter = [0]

    def hook(module: nn.Module, inputs: tuple, output: Any) -> None:
        name = names[module]
        counter[0] += 1
        previous = records.get(name)
        tensor = output if isinstance(output, torch.Tensor) else None
        calls = previous.calls + 1 if previous else 1
        records[name] = LayerRecord(name, module, tensor, calls, counter[0])
        if isinstance(module, nn.Linear) and inputs and isinstance(inputs[0], torch.Tensor):
            linear_inputs[name] = inputs[0]

    feed = x.detach().clone().requires_grad_(True) if keep_graph else x.detach()
    with hooks_removed_after([]) as handles:
        for module in names:
            handles.append(module.register_forward_hook(hook))
        if keep_graph:
            output = run_model(model, feed)
        else:
            with torch.no_grad():
                output = run_model(model, feed)
    input_hw = (x.shape[-2], x.shape[-1])
    for rec in records.values():
        if rec.raw is not None and rec.raw.is_floating_point() and rec.raw.shape[:1] == x.shape[:1]:
            rec.layout = detect_layout(tuple(rec.raw.shape), input_hw)
    return ForwardRecord(
        key=x.detach().clone(), x=feed, output=output, layers=records,
        candidates=_distinct_spatial_layers(records), linear_inputs=linear_inputs,
        stamp=parameter_stamp(model))


def _distinct_spatial_layers(records: dict[str, LayerRecord]) -> list[str]:
    """Spatial layers called once, input to output; of modules sharing one output tensor keep the last to finish.

    A container and its last child, or a BatchNorm followed by an in-place ReLU, hand on the same
    tensor object: listing both would show the same map twice.  No-op modules (Identity, Dropout
    in eval mode) only name a tensor when nothing else does.
    """
    def rank(rec: LayerRecord) -> tuple[bool, int]:
        return (not isinstance(rec.module, _NO_OPS), rec.finished)

    by_tensor: dict[int, LayerRecord] = {}
    for rec in records.values():
        if rec.layout is None or rec.calls != 1:
            continue
        current = by_tensor.get(id(rec.raw))
        if current is None or rank(rec) > rank(current):
            by_tensor[id(rec.raw)] = rec
    return [rec.name for rec in sorted(by_tensor.values(), key=lambda r: r.finished)]
