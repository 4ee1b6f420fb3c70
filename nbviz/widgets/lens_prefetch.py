"""Maps prepared before the click, so a click on a point paints its map at once.

A click on a new image costs the explorer a forward and a backward pass through the model: about
ten times its class switch, which reuses the forward. This worker computes maps at the explorer's
current choices into the explorer's cache ahead of time, in this order of urgency:

1. the point the pointer rests on (the scatter's "hover" message; a click usually follows within a
   few hundred milliseconds). Only the newest hover is kept;
2. the nearest points in the layout to the point just clicked (people click around a point of
   interest next);
3. with ``sweep=True``, while the t-SNE is not running: every other point, mistakes first. Then
   any click paints a cached map. The sweep pauses whenever the t-SNE runs
   (so streaming keeps its speed) and starts over when the layer or method changes.

Each pass holds the model for one image, so a click that misses the cache waits for at most
one image's pass; and the work of steps 2 and 3 waits until the explorer has been left alone for
QUIET_S, so a class or method switch right after a click never queues behind it. The worker
sleeps until it is told of new work (or a quiet period ends): an idle lens costs nothing.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

if TYPE_CHECKING:
    from nbviz.widgets.cam_explorer import CAMExplorer

log = logging.getLogger("nbviz.lens")

#: Seconds the explorer must be left alone before neighbours and the sweep are prepared.
QUIET_S = 0.5
#: Layout neighbours of a clicked point whose maps are prepared next.
NEIGHBOURS = 8


class MapPrefetcher:
    """A daemon thread preparing maps, one image at a time: with `near`, the hovered point and a
    clicked point's layout neighbours; with `sweep`, then all points (in `sweep_order`) while
    `may_sweep()` says the kernel is otherwise idle (call `resume()` when that may have changed)."""

    def __init__(self, explorer: CAMExplorer, *, sweep_order: Sequence[int] = (),
                 may_sweep: Callable[[], bool] = lambda: True, near: bool = True, sweep: bool = True) -> None:
        self.explorer = explorer
        self.near = bool(near)
        self.sweep = bool(sweep)
        self._condition = threading.Condition()
        self._hovered: int | None = None
        self._nearby: list[int] = []
        self._sweep_order = [int(i) for i in sweep_order]
        self._sweep_position = 0
        self._may_sweep = may_sweep
        self._closed = False
        self._touched = 0.0
        self._thread: threading.Thread | None = None
        #: Points whose maps this prefetcher computed, in order (for tests and the benchmark).
        self.computed: list[int] = []

    # ---- wishes ---------------------------------------------------------------------------
    def hovered(self, index: int) -> None:
        """The pointer rests on point `index`: its map comes next (replacing an older hover)."""
        if self.near:
            with self._condition:
                self._hovered = int(index)
                self._wake()

    def clicked_near(self, neighbours: Sequence[int]) -> None:
        """A point was clicked: prepare these points (its layout neighbours) after any hover."""
        if self.near:
            with self._condition:
                self._nearby = [int(i) for i in neighbours]
                self._wake()

    def touched(self) -> None:
        """The explorer was just used (image, class, method...): hold back the background work for
        QUIET_S so the user's own requests get the model first."""
        with self._condition:
            self._touched = time.monotonic()

    def restart_sweep(self) -> None:
        """The map choices changed (layer, method): the sweep starts over at the first point."""
        with self._condition:
            self._sweep_position = 0
            self._wake()

    def resume(self) -> None:
        """Re-check whether the sweep may run (call when the t-SNE stops)."""
        with self._condition:
            self._wake()

    def sweep_done(self) -> bool:
        """Whether the sweep has passed every point at the current choices."""
        with self._condition:
            return self._sweep_position >= len(self._sweep_order)

    def close(self) -> None:
        """Stop the worker after its current map."""
        with self._condition:
            self._closed = True
            self._condition.notify()

    # ---- worker ---------------------------------------------------------------------------
    def _wake(self) -> None:
        if self._closed:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="nbviz-lens-prefetch", daemon=True)
            self._thread.start()
        self._condition.notify()

    def _next_point(self) -> tuple[int | None, float | None]:
        """(the next point to prepare, most urgent first, or None; then how long to wait before
        asking again: the rest of the quiet period, or None for "until woken")."""
        if self._hovered is not None:
            index, self._hovered = self._hovered, None
            return index, None
        background = bool(self._nearby) or (
            self.sweep and self._sweep_position < len(self._sweep_order) and self._may_sweep())
        quiet_left = QUIET_S - (time.monotonic() - self._touched)
        if not background:
            return None, None
        if quiet_left > 0:
            return None, quiet_left
        if self._nearby:
            return self._nearby.pop(0), None
        self._sweep_position += 1
        return self._sweep_order[self._sweep_position - 1], None

    def _work(self) -> None:
        while True:
            with self._condition:
                index, wait = self._next_point()
                while index is None and not self._closed:
                    self._condition.wait(timeout=wait)
                    index, wait = self._next_point()
                if self._closed:
                    return
            if not 0 <= index < self.explorer.n_images or self.explorer.has_map(index):
                continue
            try:
                self.explorer.compute_batch([index], upsample=False)
                self.computed.append(index)
            except Exception:  # a map the click will then compute (and report) itself
                log.debug("prefetch of point %d failed", index, exc_info=True)


def layout_neighbours(layout: np.ndarray, index: int, count: int = NEIGHBOURS) -> list[int]:
    """The `count` points nearest to point `index` in the 2-D / 3-D layout (itself excluded)."""
    if not 0 <= index < len(layout) or len(layout) < 2:
        return []
    distances = ((layout - layout[index]) ** 2).sum(axis=1)
    distances[index] = np.inf
    count = min(count, len(layout) - 1)
    nearest = np.argpartition(distances, count - 1)[:count]
    return nearest[np.argsort(distances[nearest], kind="stable")].tolist()


def sweep_order(n_points: int, first: Sequence[int]) -> list[int]:
    """Every point once: the `first` ones (e.g. the misclassified) in order, then the rest."""
    return list(dict.fromkeys([*map(int, first), *range(n_points)]))
