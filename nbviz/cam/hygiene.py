"""Leave the model exactly as we found it: training flags, hooks and grad mode."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle


@contextlib.contextmanager
def model_session(model: nn.Module) -> Iterator[None]:
    """Run the body with every module in eval mode and gradients enabled, then restore each module's flag.

    Gradients are enabled even under ``torch.no_grad()`` or ``torch.inference_mode()`` because the
    gradient methods need them; parameters' ``requires_grad`` is never touched (the input is made to
    require grad instead, so frozen models work).
    """
    with evaluation_mode(model), torch.inference_mode(False), torch.enable_grad():
        yield


@contextlib.contextmanager
def evaluation_mode(model: nn.Module) -> Iterator[None]:
    """Run the body with every module in eval mode, then restore each module's own training flag."""
    modes = [(module, module.training) for module in model.modules()]
    try:
        model.eval()
        yield
    finally:
        for module, mode in modes:
            module.training = mode


@contextlib.contextmanager
def hooks_removed_after(handles: list[RemovableHandle]) -> Iterator[list[RemovableHandle]]:
    """Yield ``handles`` for the body to fill; remove every one of them afterwards, also on error."""
    try:
        yield handles
    finally:
        for handle in handles:
            handle.remove()
        handles.clear()


def count_hooks(model: nn.Module) -> int:
    """Total number of forward, pre-forward, backward and pre-backward hooks on the model's modules."""
    attrs = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")
    return sum(len(getattr(module, attr, None) or ()) for module in model.modules() for attr in attrs)
