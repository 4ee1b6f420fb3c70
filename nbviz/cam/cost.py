"""How long a map will take: the model passes a method makes times the measured time of one pass.

``seconds = F * t_forward + B * t_backward + L * t_after(layer)`` where ``F``, ``B`` and ``L``
count images (the method's :class:`Passes`, declared with its registration as a function of its
options and the layer's channel count) and the times are measured on this model, input size and
device (:func:`pass_times`):

- ``t_forward``: one image through the whole model without gradients;
- ``t_backward``: the backward pass of one image (measured as a forward with gradients and a
  backward, minus ``t_forward``; at least ``t_forward``);
- ``t_after(layer)``: one image through the part of the model after ``layer`` (what Ablation-CAM
  runs on its ablated copies), read off the same timed forward pass as the time from the layer's
  output to the model's output.

The passes are timed once per model (weights), input shape and device, each after one untimed
pass (the first pass in a mode sets kernels up), at batch 1 on a CPU (where
time per image hardly depends on the batch) and at the score methods' batch on an accelerator,
where a batch costs far less per image than a single one; batched passes on a CPU run a little
faster per image than the probe, so estimates err on the long side there.

A front end asks before starting anything estimated above :data:`CONFIRM_ABOVE_S` seconds.
"""
from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .hygiene import evaluation_mode, hooks_removed_after

#: Maps estimated to take longer than this many seconds are started only after the user asks
#: for them (the explorer's method menu and compare grid show the estimate and a Compute button).
CONFIRM_ABOVE_S = 3.0

#: Images per timed pass on an accelerator (the score methods' batch there): per image, a batch
#: of 64 costs a small fraction of a single image on a GPU.
ACCELERATOR_PROBE_BATCH = 64


@dataclass(frozen=True)
class Passes:
    """Model passes one map makes beyond the explainer's recorded forward pass, counted in images.

    ``forward``: images through the whole model without gradients (masked or noisy inputs);
    ``backward``: images through a backward pass (each new input's also counts in ``forward``);
    ``after_layer``: images through the part of the model after the layer only.
    """

    forward: float = 0.0
    backward: float = 0.0
    after_layer: float = 0.0


@dataclass(frozen=True)
class PassTimes:
    """Measured seconds per image: whole-model forward, backward, and the part after each layer."""

    forward: float
    backward: float
    after_layer: Mapping[str, float]

    def seconds(self, passes: Passes, layer: str | None) -> float:
        """``F * t_forward + B * t_backward + L * t_after(layer)`` for ``passes``."""
        after = self.after_layer.get(layer, self.forward) if layer is not None else self.forward
        return passes.forward * self.forward + passes.backward * self.backward + passes.after_layer * after


_cache: weakref.WeakKeyDictionary[nn.Module, dict[tuple, PassTimes]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def pass_times(model: nn.Module, x: torch.Tensor, layers: Sequence[str]) -> PassTimes:
    """Time one pass of ``x[:1]`` through ``model`` (see the module docstring), cached per model
    weights, input shape, device and layer set; the model's hooks and training flags are restored."""
    from .recorder import parameter_stamp

    key = (parameter_stamp(model), tuple(x.shape[1:]), x.device, x.dtype, tuple(layers))
    with _cache_lock:
        cached = _cache.get(model, {}).get(key)
    if cached is not None:
        return cached
    times = _measure(model, _probe(x), list(layers))
    with _cache_lock:
        _cache.setdefault(model, {})[key] = times
    return times


def _probe(x: torch.Tensor) -> torch.Tensor:
    one = x[:1].detach()
    batch = 1 if one.device.type == "cpu" else ACCELERATOR_PROBE_BATCH
    return one.expand(batch, *one.shape[1:]).contiguous()


def _measure(model: nn.Module, x: torch.Tensor, layers: list[str]) -> PassTimes:
    modules = dict(model.named_modules())
    finished: dict[str, float] = {}
    sync = _synchronizer(x.device)

    def stamp(name: str):
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            sync()
            finished[name] = time.perf_counter()
        return hook

    batch = x.shape[0]
    with evaluation_mode(model):
        with hooks_removed_after([]) as handles:
            for name in layers:
                if name in modules:
                    handles.append(modules[name].register_forward_hook(stamp(name)))
            with torch.inference_mode():
                for _ in range(2):  # the first pass in a mode sets up kernels (measured: up to 10x slower)
                    sync()
                    start = time.perf_counter()
                    model(x)
                    sync()
                    end = time.perf_counter()
        forward = (end - start) / batch
        after = {name: max(0.0, end - at) / batch for name, at in finished.items()}
        backward = min(_backward_time(model, x, sync) for _ in range(2)) / batch
    return PassTimes(forward=forward, backward=max(backward - forward, forward), after_layer=after)


def _backward_time(model: nn.Module, x: torch.Tensor, sync) -> float:
    """Seconds of a forward with gradients plus a backward to the input (twice the forward when
    the output has no tensor to differentiate)."""
    with torch.inference_mode(False), torch.enable_grad():
        feed = x.clone().requires_grad_(True)
        sync()
        start = time.perf_counter()
        output = _first_tensor(model(feed))
        if output is None or not output.requires_grad:
            return 3 * (time.perf_counter() - start)
        torch.autograd.grad(output.sum(), feed, allow_unused=True)
        sync()
        return time.perf_counter() - start


def _first_tensor(output: Any) -> torch.Tensor | None:
    if isinstance(output, torch.Tensor):
        return output
    values = output.values() if isinstance(output, dict) else output if isinstance(output, (list, tuple)) else ()
    return next((value for value in values if isinstance(value, torch.Tensor)), None)


def _synchronizer(device: torch.device):
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None
