"""Bookkeeping for settings a user changes while a background engine runs (TSNEScatter's sliders).

A user write of a setting reaches the engine as a command that runs later, on the worker. Until it
has run, anything the engine reports about that setting is stale: showing it would overwrite the
user's newer value in the trait. So each setting counts the user's writes (`count_write`, on the
kernel thread), the worker records which count its last command carried and the value the engine
then used (`took`), and an engine-side write of the setting (a lowered perplexity, a rejected value
put back, the exaggeration schedule) is applied only while `is_current(name, count)`: no user
write is still on its way. Where writes can come from two threads, the caller makes "check
`is_current`, then write" atomic against `count_write` with a lock of its own (the widget uses
`KernelThread.lock`); this class only keeps its counters consistent.
"""
from __future__ import annotations

import threading
from typing import Iterable


class LiveSettings:
    """Per setting: user writes counted, the count the engine took last, and the value it uses."""

    def __init__(self, values: dict[str, float]) -> None:
        self._lock = threading.Lock()
        self._written = {name: 0 for name in values}
        self._taken = {name: 0 for name in values}
        self._values = {name: float(value) for name, value in values.items()}

    @property
    def names(self) -> Iterable[str]:
        """The settings tracked."""
        return tuple(self._written)

    def count_write(self, name: str) -> int:
        """A user wrote `name` (call before the value is stored); returns the new count."""
        with self._lock:
            self._written[name] += 1
            return self._written[name]

    def written(self, name: str) -> int:
        """How many times the user has written `name`."""
        with self._lock:
            return self._written[name]

    def took(self, name: str, count: int, value: float) -> None:
        """The engine has handled the user's write number `count` of `name` and now uses `value`."""
        with self._lock:
            self._taken[name] = max(self._taken[name], count)
            self._values[name] = float(value)

    def taken(self, name: str) -> int:
        """The count of the last user write of `name` the engine has handled."""
        with self._lock:
            return self._taken[name]

    def engine_value(self, name: str) -> float:
        """The value the engine uses for `name`, as of the last command it ran."""
        with self._lock:
            return self._values[name]

    def is_current(self, name: str, count: int) -> bool:
        """Whether engine news about `name` as of user write `count` is not stale (no newer write)."""
        with self._lock:
            return self._written[name] == count
