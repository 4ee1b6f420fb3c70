"""Run a widget's trait updates on the kernel's thread, wherever they were produced.

ipywidgets keeps its sync bookkeeping (`_holding_sync`, `_states_to_send`, `_property_lock`) in
plain attributes, so a trait written from a worker thread while the kernel thread writes another
(or is inside `hold_sync()`) can delay or lose an update to the front end. A worker therefore
never writes a synced trait itself: it hands the write to `KernelThread.call`, which runs it

- at once, when called on the kernel's thread (after any updates still queued, in order);
- otherwise on the kernel's event loop (`call_soon_threadsafe`): the IPython kernel's main loop,
  which runs the cells and handles the front end's messages; the kernel thread may also apply
  the queue itself (`drain()`), e.g. while it blocks in `TSNEScatter.wait()`;
- outside a running kernel (a plain script, a test, a kernel shutting down): on the calling
  thread, under `lock`, never inside `hold_sync()`. Nothing then listens to the sync messages,
  and the trait values are what counts: they are written in order, one writer at a time.
Only the kernel's loop is trusted to turn while the widget lives: another loop found running on
a thread may not (Playwright's sync API, for one, keeps a loop "running" that advances only while
its owner calls into it).

An update given a `key` replaces a queued update with the same key (and moves to the end of the
queue), so a worker producing progress faster than the kernel applies it queues one update per key,
never a backlog; each keyed update must therefore carry the complete state of the traits it writes.
"""
from __future__ import annotations

import asyncio
import itertools
import sys
import threading
from collections import OrderedDict
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Callable, Hashable

Update = Callable[[], None]


def find_kernel_loop() -> tuple[asyncio.AbstractEventLoop | None, int | None]:
    """The asyncio loop of the IPython kernel running in this process and the id of its thread
    (the calling thread when it runs that loop, as a cell does, else the main thread);
    (None, None) outside a kernel.
    """
    kernelbase = sys.modules.get("ipykernel.kernelbase")  # never imported here: only if running
    if kernelbase is None or not kernelbase.Kernel.initialized():
        return None, None
    loop = getattr(getattr(kernelbase.Kernel.instance(), "io_loop", None), "asyncio_loop", None)
    if loop is None:
        return None, None
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    return loop, threading.get_ident() if running is loop else threading.main_thread().ident


class KernelThread:
    """Runs trait updates on the thread that owns a widget's synced state (see the module doc)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """`loop`: the event loop to hand updates to, run by the calling thread (for a host other
        than ipykernel, or a test); by default the running kernel's (`find_kernel_loop`)."""
        if loop is not None:
            self._loop, self._owner = loop, threading.get_ident()
        else:
            self._loop, self._owner = find_kernel_loop()
        #: Held while an update runs: updates never interleave, whichever thread runs them.
        self.lock = threading.RLock()
        self._queue_lock = threading.Lock()  # short sections only: a worker never waits on updates
        self._pending: OrderedDict[Hashable, Update] = OrderedDict()
        self._unkeyed = itertools.count()
        self._scheduled = False
        self._closed = False

    @property
    def on_kernel_thread(self) -> bool:
        """Whether the calling thread is the kernel's (the widget's event-loop thread)."""
        return self._owner is not None and threading.get_ident() == self._owner

    @property
    def pending(self) -> int:
        """Updates queued and not applied yet (at most one per key, plus unkeyed ones)."""
        with self._queue_lock:
            return len(self._pending)

    def _loop_running(self) -> bool:
        loop = self._loop
        return loop is not None and loop.is_running() and not loop.is_closed()

    def call(self, update: Update, *, key: Hashable | None = None) -> None:
        """Run `update()` on the kernel's thread (now if this is it), after those queued before.

        With `key`, a still-queued update with the same key is dropped in favour of this one.
        After `close()`, updates are ignored.
        """
        if self._closed:
            return
        if self.on_kernel_thread:
            with self.lock:
                try:
                    self._run_pending()
                finally:
                    update()
            return
        with self._queue_lock:
            queued_key = key if key is not None else ("unkeyed", next(self._unkeyed))
            self._pending.pop(queued_key, None)
            self._pending[queued_key] = update
            if self._loop_running():
                if self._scheduled:
                    return
                try:
                    self._loop.call_soon_threadsafe(self._drain_scheduled)
                    self._scheduled = True
                    return
                except RuntimeError:  # the loop closed since the check
                    pass
            self._scheduled = False
        with self.lock:  # no running event loop takes the update: apply it here
            self._run_pending()

    def drain(self) -> None:
        """Apply the queued updates now, when called on the kernel's thread or when there is no
        running event loop (otherwise the loop applies them, and this does nothing)."""
        if self.on_kernel_thread or not self._loop_running():
            with self.lock:
                self._run_pending()

    def held(self, widget: Any) -> AbstractContextManager:
        """`widget.hold_sync()` on the kernel's thread (one message for many traits), else a no-op
        context: `hold_sync` state is not safe to share between threads."""
        return widget.hold_sync() if self.on_kernel_thread else nullcontext()

    def close(self) -> None:
        """Drop whatever is queued; later updates are ignored."""
        with self._queue_lock:
            self._closed = True
            self._pending.clear()

    def _drain_scheduled(self) -> None:
        with self._queue_lock:
            self._scheduled = False
        if not self._closed:
            with self.lock:
                self._run_pending()

    def _run_pending(self) -> None:
        """Run the queue in order; an update that raises does not hold back the ones after it
        (the first error is raised once the queue is empty)."""
        error: BaseException | None = None
        while True:
            with self._queue_lock:
                if not self._pending:
                    break
                _, update = self._pending.popitem(last=False)
            try:
                update()
            except Exception as exc:  # e.g. a user's observer of a trait the update writes
                error = error or exc
        if error is not None:
            raise error
