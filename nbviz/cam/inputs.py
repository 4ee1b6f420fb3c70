"""Validation of the image batch handed to the engine, and the model's device."""
from __future__ import annotations

import torch
from torch import nn

from .errors import InputError


def model_device(model: nn.Module, fallback: torch.device) -> torch.device:
    """The device of the model's first parameter or buffer (``fallback`` for a model with neither)."""
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return fallback


def model_dtype(model: nn.Module) -> torch.dtype | None:
    """The dtype of the model's first floating-point parameter, or None."""
    for tensor in model.parameters():
        if tensor.is_floating_point():
            return tensor.dtype
    return None


def validate_input(model: nn.Module, x: object) -> torch.Tensor:
    """Check that ``x`` is a finite floating (B, C, H, W) batch and return it detached on the model's device."""
    if not isinstance(x, torch.Tensor):
        raise InputError(
            f"x must be a torch.Tensor of shape (B, C, H, W), got {type(x).__name__}; "
            "convert images with torchvision transforms (e.g. transforms.ToTensor()) first")
    if x.dim() != 4:
        fix = "add the batch dimension with x.unsqueeze(0)" if x.dim() == 3 else "reshape it"
        raise InputError(
            f"x must have 4 dimensions (B, C, H, W), got shape {tuple(x.shape)}; {fix}")
    if not x.is_floating_point():
        raise InputError(
            f"x must be a floating-point tensor, got dtype {x.dtype}; "
            "convert it with x.float() (and normalise it the way the model expects)")
    if min(x.shape) < 1:
        raise InputError(f"x must not be empty, got shape {tuple(x.shape)}")
    x = x.detach()
    dtype = model_dtype(model)
    if dtype is not None and x.dtype != dtype:
        raise InputError(
            f"x has dtype {x.dtype} but the model's parameters are {dtype}; "
            f"convert the input with x.to({dtype})")
    x = x.to(model_device(model, x.device))
    if not bool(torch.isfinite(x).all()):
        raise InputError("x contains NaN or infinite values; clean the input before explaining it")
    return x
