"""Choosing the attraction kernel: the C function of nbviz.tsne.native, torch.compile'd, or eager.

The attraction pass gathers W neighbours per point. On the CPU the C function (built once per
process in a fraction of a second) is the fastest at every N: 0.18 against 0.79 ms per pass for
the digits, 5-10.5 against 17-19 ms (compiled) at 70,000 points. Where it cannot be built (no C
compiler) or does not apply (float64 layouts, more than 3 dimensions), torch runs the pass: in
eager torch each elementwise step writes an (N, W) temporary, so for large N a fused, compiled
kernel is several times faster. Compilation costs seconds the first time (cached on disk
afterwards), so it is used only from COMPILE_MIN_POINTS points on and falls back to eager torch
if it fails. The environment variables NBVIZ_TSNE_NATIVE=0 and NBVIZ_TSNE_COMPILE=0 switch the
C function and compilation off.
"""
from __future__ import annotations

import os
import warnings
from typing import Callable

import torch

from .gradients import attraction_table, attraction_table_eager
from . import native

#: Smallest N for which the compiled attraction kernel pays for its compilation.
COMPILE_MIN_POINTS = 15_000

_compiled: Callable | None = None
_compile_failed = False


def _compiled_attraction() -> Callable | None:
    """torch.compile(attraction_table, dynamic=True), built once per process (None if unusable)."""
    global _compiled, _compile_failed
    if _compiled is None and not _compile_failed:
        try:
            _compiled = torch.compile(attraction_table, dynamic=True)
        except Exception as exc:  # no compiler toolchain, unsupported platform
            _compile_failed = True
            warnings.warn(f"torch.compile unavailable ({exc}); using eager torch for the attraction", stacklevel=3)
    return _compiled


def attraction_kernel(n_points: int, device: torch.device, use_compile: bool | None = None) -> Callable:
    """The attraction-table function to use for this problem size and device.

    On a GPU: the unblocked table pass. On the CPU: the C function where it can be built and
    applies (unless NBVIZ_TSNE_NATIVE=0), else torch_attraction_kernel.
    """
    torch_kernel = torch_attraction_kernel(n_points, device, use_compile)
    c_kernel = native.native_attraction() if device.type == "cpu" else None
    if c_kernel is None:
        return torch_kernel

    def native_else_torch(y: torch.Tensor, owner: torch.Tensor, table: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        out = c_kernel(y, owner, table, weights)
        return torch_kernel(y, owner, table, weights) if out is None else out

    return native_else_torch


def torch_attraction_kernel(n_points: int, device: torch.device, use_compile: bool | None = None) -> Callable:
    """The torch attraction-table function for this problem size and device.

    On a GPU: the unblocked table pass. On the CPU: use_compile=None decides by size
    (N >= COMPILE_MIN_POINTS) and honours the environment variable NBVIZ_TSNE_COMPILE=0 to
    switch compilation off; otherwise the cache-blocked eager version.
    """
    if use_compile is None:
        use_compile = (
            device.type == "cpu" and n_points >= COMPILE_MIN_POINTS
            and os.environ.get("NBVIZ_TSNE_COMPILE", "1") != "0"
        )
    if device.type != "cpu":
        return attraction_table  # one pass over the whole table: few kernel launches on a GPU
    if not use_compile:
        return attraction_table_eager
    compiled = _compiled_attraction()
    if compiled is None:
        return attraction_table_eager

    def guarded(y: torch.Tensor, owner: torch.Tensor, table: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        global _compile_failed
        if not _compile_failed:
            try:
                return compiled(y, owner, table, weights)
            except Exception as exc:  # compilation happens lazily on the first call
                _compile_failed = True
                warnings.warn(f"torch.compile failed ({type(exc).__name__}: {exc}); using eager torch", stacklevel=2)
        return attraction_table_eager(y, owner, table, weights)

    return guarded
