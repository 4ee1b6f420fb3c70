"""Reusable work arrays for the blocked gradient loops, owned by the run that uses them.

Every block of the exact repulsion needs a few (rows, N) arrays of about a megabyte. Fresh
allocations that large are served by mmap, and the page faults on every block cost more than
the arithmetic; reusing the same arrays keeps them mapped and in cache. Each optimizer owns a
`Workspace` and makes it current on its thread while it computes (`with workspace.active():`),
so several runs in several threads never share arrays, and `release()` (called by the
optimizer's `close()` and at the end of `TSNE.fit`) gives the memory back.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch


class _Current(threading.local):
    workspace: "Workspace | None" = None


_current = _Current()


class Workspace:
    """Named work arrays, grown on demand and kept until `release()`."""

    def __init__(self) -> None:
        self._arrays: dict[tuple, torch.Tensor] = {}

    @contextmanager
    def active(self) -> Iterator["Workspace"]:
        """Make this the workspace `scratch()` draws from on this thread, for the block's duration."""
        previous, _current.workspace = _current.workspace, self
        try:
            yield self
        finally:
            _current.workspace = previous

    def array(self, name: str, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """An uninitialised tensor of `shape` backed by the array `name` (grown when too small)."""
        key = (name, dtype, device)
        size = math.prod(shape)
        array = self._arrays.get(key)
        if array is None or array.numel() < size:
            array = torch.empty(size, dtype=dtype, device=device)
            self._arrays[key] = array
        return array[:size].view(shape)

    @property
    def nbytes(self) -> int:
        """Bytes held by the work arrays."""
        return sum(a.numel() * a.element_size() for a in self._arrays.values())

    def release(self) -> None:
        """Drop every work array (the next use allocates afresh)."""
        self._arrays.clear()


def scratch(name: str, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Work storage of `shape`: from the current workspace if one is active, else a fresh tensor.

    The contents are overwritten by the next request for the same name in the same workspace, so
    a result that must outlive the call is never returned from scratch storage."""
    workspace = _current.workspace
    if workspace is None:
        return torch.empty(shape, dtype=dtype, device=device)
    return workspace.array(name, shape, dtype, device)
