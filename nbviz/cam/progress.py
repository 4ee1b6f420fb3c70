"""A progress bar over the batches of the slow (score-based) methods, for `nbviz.cam.compute`.

`progress` is a callable `progress(done, total)` (passed through), None (nothing), or True / False
/ "auto" for a tqdm.auto bar (see `nbviz.progress`). The bar opens at the first batch that leaves
work to do, so the fast methods, which report only (1, 1) when they are finished, never show one.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Callable

from nbviz.progress import SHOW_VALUES, ProgressBar, is_show_setting

from .errors import CAMError

ProgressLike = Callable[[int, int], None] | bool | str | None


@contextlib.contextmanager
def batch_progress(progress: ProgressLike, method: str) -> Iterator[Callable[[int, int], None] | None]:
    """The `progress(done, total)` callback for `progress`, closing its bar on exit (an error or
    a cancel included)."""
    if progress is None or (callable(progress) and not isinstance(progress, bool)):
        yield progress
        return
    if not is_show_setting(progress):
        raise CAMError(f"progress must be {SHOW_VALUES}, a callable progress(done, total) or None, got {progress!r}")
    started = time.monotonic()
    bars: list[ProgressBar] = []

    def report(done: int, total: int) -> None:
        if not bars:
            if done >= total:
                return
            bars.append(ProgressBar(total, progress, method, unit="batch", started_at=started))
        bars[0].advance(done)

    try:
        yield report
    finally:
        for bar in bars:
            bar.close()
