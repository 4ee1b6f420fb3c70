"""Progress bars for work people wait on outside the widgets (engines' fits and batched passes).

The bar is tqdm.auto's: a widget bar in Jupyter and marimo, a text bar on stderr in a terminal.
Each engine decides what a step is and what the bar's postfix says; this module decides whether a
bar is shown. `show` is True (always), False (never) or "auto": only in a notebook, and only once
the work is predicted to take longer than `AUTO_AFTER_S` seconds, predicted as::

    elapsed since the work began / steps done * total steps.
"""
from __future__ import annotations

import sys
import time
from typing import Any, Callable

#: "auto" opens a bar once the whole job is predicted to take longer than this many seconds.
AUTO_AFTER_S = 3.0

SHOW_VALUES = "True, False or 'auto'"


def is_show_setting(value: Any) -> bool:
    """True for the accepted settings of a progress switch: True, False or "auto"."""
    return isinstance(value, bool) or (isinstance(value, str) and value == "auto")


def in_notebook() -> bool:
    """True inside a Jupyter kernel or a running marimo notebook (where a bar is a widget)."""
    marimo = sys.modules.get("marimo")
    if marimo is not None and getattr(marimo, "running_in_notebook", lambda: False)():
        return True
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class ProgressBar:
    """A tqdm.auto bar over `total` steps, opened according to `show` (see the module docstring).

    Call `advance(done, postfix)` after each step (`done` counts steps finished, absolute);
    `close()` (or leaving the `with` block) finishes the bar. While no bar is open every call is
    a cheap no-op, so the caller need not know whether one is shown.
    """

    def __init__(self, total: int, show: bool | str, description: str, unit: str = "it",
                 clock: Callable[[], float] = time.monotonic, started_at: float | None = None) -> None:
        if not is_show_setting(show):
            raise ValueError(f"a progress setting must be {SHOW_VALUES}, got {show!r}")
        self.total = int(total)
        self.description = description
        self.unit = unit
        self._clock = clock
        # When the work began (clock time): set it when the bar is made after the work started.
        self._started = clock() if started_at is None else started_at
        self._waiting = show == "auto" and in_notebook()
        self._bar = self._open(0) if show is True else None

    @property
    def active(self) -> bool:
        """Whether a bar is shown now."""
        return self._bar is not None

    def _open(self, done: int):
        from tqdm.auto import tqdm

        return tqdm(total=self.total, initial=done, desc=self.description, unit=self.unit, leave=True,
                    dynamic_ncols=True)

    def _predicted_s(self, done: int) -> float:
        return (self._clock() - self._started) / done * self.total

    def advance(self, done: int, postfix: str | None = None) -> None:
        """Move the bar to `done` finished steps; opens it in "auto" mode once the job looks slow."""
        if self._bar is None:
            if not self._waiting or done <= 0 or self._predicted_s(done) <= AUTO_AFTER_S:
                return
            self._waiting = False
            self._bar = self._open(done)
        if postfix is not None:
            self._bar.set_postfix_str(postfix, refresh=False)
        self._bar.update(done - self._bar.n)

    def close(self, postfix: str | None = None) -> None:
        """Finish the bar (with a last postfix, e.g. the final result); later calls do nothing."""
        self._waiting = False
        if self._bar is not None:
            if postfix is not None:
                self._bar.set_postfix_str(postfix, refresh=False)
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
