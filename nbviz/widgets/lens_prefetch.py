"""Maps prepared before the click: the point under the pointer gets its map computed in advance.

The scatter tells the kernel which point the pointer rests on (a "hover" message). A click usually
follows a few hundred milliseconds later, and a click on a new image costs a forward and a backward
pass (about 15x the explorer's class switch, which reuses the forward). This worker computes the
hovered point's map at the explorer's current choices meanwhile, into the explorer's cache, so the
click finds it there. Only the newest hover is kept: a pointer sweeping over many points costs at
most one map in flight and one waiting.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbviz.widgets.cam_explorer import CAMExplorer

log = logging.getLogger("nbviz.lens")


class HoverPrefetcher:
    """A daemon thread computing the map of the newest hovered point (`hovered(i)`)."""

    def __init__(self, explorer: CAMExplorer) -> None:
        self.explorer = explorer
        self._condition = threading.Condition()
        self._wanted: int | None = None
        self._closed = False
        self._thread: threading.Thread | None = None
        #: Points whose maps this prefetcher computed (for tests and the benchmark).
        self.computed: list[int] = []

    def hovered(self, index: int) -> None:
        """The pointer rests on point `index`: compute its map next (replacing an older wish)."""
        with self._condition:
            if self._closed:
                return
            self._wanted = int(index)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="nbviz-lens-prefetch", daemon=True)
                self._thread.start()
            self._condition.notify()

    def close(self) -> None:
        """Stop the worker after its current map."""
        with self._condition:
            self._closed = True
            self._condition.notify()

    def _work(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._wanted is not None or self._closed)
                if self._closed:
                    return
                index, self._wanted = self._wanted, None
            try:
                if 0 <= index < self.explorer.n_images:
                    self.explorer.compute_batch([index], upsample=False)
                    self.computed.append(index)
            except Exception:  # a map the click will then compute (and report) itself
                log.debug("prefetch of point %d failed", index, exc_info=True)
