"""The mean class-activation map of a group of images, computed on a worker thread.

For the images i_1..i_K of a lasso (at most `limit` of them, in selection order) the worker asks
the explorer for each image's map M_k at the current layer and method for the image's most probable
class, and reports the mean (1/K) sum_k M_k together with the maps themselves (uint8 codes,
`nbviz.report.compact.unit_codes`). The maps are computed GROUP_BATCH images per model pass; progress arrives after each
pass, and a new group or `cancel()` stops the old one between two passes.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from nbviz.report.compact import unit_codes

if TYPE_CHECKING:
    from nbviz.widgets.cam_explorer import CAMExplorer

#: Images per model pass while computing a group's maps (progress and cancel act between passes).
GROUP_BATCH = 16


@dataclass
class GroupResult:
    """What the panel shows: status ("idle", "computing", "done", "cancelled", "error"), progress,
    the images whose maps are in the mean, the mean (float32 h x w), their uint8 maps, a message."""

    status: str = "idle"
    done: int = 0
    total: int = 0
    indices: list[int] = field(default_factory=list)
    mean: np.ndarray | None = None
    maps: bytes = b""
    message: str = ""


def group_message(selected: int, used: int, limit: int) -> str:
    """The panel's sentence about how many of the selected images the mean covers."""
    if selected <= limit:
        return f"mean over all {selected} selected image{'s' if selected != 1 else ''}"
    return (f"mean over the first {used} of {selected} selected images (group_limit={limit}; "
            "raise it for more, each image costs one map)")


class GroupWorker:
    """Computes one group at a time; `report(result)` is called from the worker thread."""

    def __init__(self, explorer: CAMExplorer, report: Callable[[GroupResult], None]) -> None:
        self.explorer = explorer
        self.report = report
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()

    def start(self, indices: Sequence[int], limit: int) -> None:
        """Stop the running group (if any) and compute this one; an empty group reports "idle"."""
        chosen = [int(i) for i in indices][:limit]
        layer, method = self.explorer.layer, self.explorer.method
        cancel = threading.Event()
        with self._lock:
            self._cancel.set()
            self._cancel = cancel
            if not chosen:
                self.report(GroupResult())
                return
            message = group_message(len(indices), len(chosen), limit)
            self._thread = threading.Thread(
                target=self._run, args=(chosen, layer, method, message, cancel), name="nbviz-lens-group", daemon=True)
            self._thread.start()

    def cancel(self) -> None:
        """Stop the running group after its current image (it then reports "cancelled")."""
        with self._lock:
            self._cancel.set()

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until the running group has ended (for tests and scripts); False on timeout."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _emit(self, cancel: threading.Event, result: GroupResult) -> None:
        """Report `result` unless a newer group has replaced the one it belongs to."""
        with self._lock:
            if cancel is self._cancel:
                self.report(result)

    def _run(self, indices: list[int], layer: str, method: str, message: str, cancel: threading.Event) -> None:
        total = len(indices)
        maps: list[np.ndarray] = []
        done = 0
        try:
            for start in range(0, total, GROUP_BATCH):
                if cancel.is_set():
                    self._emit(cancel, GroupResult("cancelled", done, total, message="cancelled"))
                    return
                self._emit(cancel, GroupResult("computing", done, total, message=message))
                chunk = indices[start:start + GROUP_BATCH]
                maps.append(self.explorer.compute_batch(chunk, layer=layer, method=method, upsample=False))
                done += len(chunk)
            stack = np.concatenate(maps)
            mean = stack.mean(axis=0, dtype=np.float64).astype(np.float32)
            self._emit(cancel, GroupResult("done", total, total, list(indices), mean, unit_codes(stack), message))
        except Exception as error:  # shown in the panel; the lens stays usable
            self._emit(cancel, GroupResult("error", done, total, message=f"{type(error).__name__}: {error}"))
