"""Reusable per-thread work arrays for the blocked gradient loops.

Every block of the exact repulsion needs a few (rows, N) arrays of about a megabyte. Fresh
allocations that large are served by mmap, and the page faults on every block cost more than
the arithmetic; reusing the same arrays keeps them mapped and in cache. The pool is
thread-local because several optimizers (one per widget) can run in background threads.
"""
from __future__ import annotations

import math
import threading

import torch


class _Pool(threading.local):
    def __init__(self) -> None:
        self.arrays: dict[tuple, torch.Tensor] = {}


_pool = _Pool()


def scratch(name: str, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """An uninitialised tensor of `shape` backed by this thread's array `name` (grown when too small).

    The contents are overwritten by the next request for the same name on the same thread, so a
    result that must outlive the call is never returned from scratch storage."""
    key = (name, dtype, device)
    size = math.prod(shape)
    array = _pool.arrays.get(key)
    if array is None or array.numel() < size:
        array = torch.empty(size, dtype=dtype, device=device)
        _pool.arrays[key] = array
    return array[:size].view(shape)
