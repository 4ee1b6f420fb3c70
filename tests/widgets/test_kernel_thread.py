"""KernelThread: updates from workers run on the event loop's thread, in order, coalesced by key."""
from __future__ import annotations

import asyncio
import threading

import pytest

from nbviz.widgets.kernel_thread import KernelThread, find_kernel_loop


def in_thread(function) -> None:
    """Run `function` in a new thread and wait for it (a worker posting updates)."""
    worker = threading.Thread(target=function)
    worker.start()
    worker.join(5)
    assert not worker.is_alive()


def test_with_a_running_loop_worker_updates_run_on_the_loop_thread_in_order_and_coalesced(kernel_loop):
    log: list[tuple[str, threading.Thread]] = []

    def record(name: str):
        return lambda: log.append((name, threading.current_thread()))

    async def scenario() -> None:
        kernel = KernelThread(asyncio.get_running_loop())
        assert kernel.on_kernel_thread

        def worker() -> None:
            assert not kernel.on_kernel_thread
            kernel.call(record("a"))
            kernel.call(record("progress 1"), key="progress")
            kernel.call(record("b"))
            kernel.call(record("progress 2"), key="progress")  # replaces progress 1, moves to the end
            kernel.call(record("c"), key="status")

        in_thread(worker)
        assert log == []  # nothing ran on the worker: it all waits for the loop
        await asyncio.sleep(0.05)
        assert [name for name, _ in log] == ["a", "b", "progress 2", "c"]
        assert {thread for _, thread in log} == {threading.current_thread()}

    kernel_loop(scenario())


def test_a_call_on_the_kernel_thread_runs_at_once_after_the_queued_ones(kernel_loop):
    log: list[str] = []

    async def scenario() -> None:
        kernel = KernelThread(asyncio.get_running_loop())
        in_thread(lambda: kernel.call(lambda: log.append("from the worker")))
        kernel.call(lambda: log.append("from the kernel"))  # no await: the loop has not run yet
        assert log == ["from the worker", "from the kernel"]
        await asyncio.sleep(0.02)  # the scheduled drain finds nothing left
        assert log == ["from the worker", "from the kernel"]

    kernel_loop(scenario())


def test_a_blocked_kernel_thread_applies_the_queue_itself_with_drain(kernel_loop):
    log: list[str] = []

    async def scenario() -> None:
        kernel = KernelThread(asyncio.get_running_loop())
        in_thread(lambda: kernel.call(lambda: log.append("update")))
        kernel.drain()  # e.g. TSNEScatter.wait(), blocking the loop
        assert log == ["update"]
        in_thread(lambda: kernel.call(lambda: log.append("second")))
        in_thread(kernel.drain)  # another thread may not apply them while the loop runs
        assert log == ["update"]
        await asyncio.sleep(0.02)
        assert log == ["update", "second"]

    kernel_loop(scenario())


def test_without_an_event_loop_updates_run_on_the_calling_thread():
    kernel = KernelThread()
    assert not kernel.on_kernel_thread
    ran_on: list[threading.Thread] = []
    kernel.call(lambda: ran_on.append(threading.current_thread()))
    in_thread(lambda: kernel.call(lambda: ran_on.append(threading.current_thread())))
    assert ran_on[0] is threading.current_thread()
    assert ran_on[1] is not threading.current_thread()


def test_a_loop_that_stopped_no_longer_takes_updates():
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever)
    runner.start()
    kernel = asyncio.run_coroutine_threadsafe(_make_kernel(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    runner.join(5)
    log: list[str] = []
    in_thread(lambda: kernel.call(lambda: log.append("after the loop stopped")))
    assert log == ["after the loop stopped"]
    loop.close()
    in_thread(lambda: kernel.call(lambda: log.append("after the loop closed")))
    assert log[-1] == "after the loop closed"


async def _make_kernel() -> KernelThread:
    return KernelThread(asyncio.get_running_loop())


def test_an_update_that_raises_does_not_hold_back_the_rest(kernel_loop):
    log: list[str] = []

    def broken() -> None:
        raise RuntimeError("observer failed")

    async def scenario() -> None:
        kernel = KernelThread(asyncio.get_running_loop())
        in_thread(lambda: kernel.call(broken))
        in_thread(lambda: kernel.call(lambda: log.append("next")))
        with pytest.raises(RuntimeError, match="observer failed"):
            kernel.drain()
        assert log == ["next"]

    kernel_loop(scenario())


def test_after_close_updates_are_dropped(kernel_loop):
    async def scenario() -> None:
        kernel = KernelThread(asyncio.get_running_loop())
        log: list[str] = []
        in_thread(lambda: kernel.call(lambda: log.append("queued")))
        kernel.close()
        kernel.call(lambda: log.append("late"))
        await asyncio.sleep(0.02)
        kernel.drain()
        assert log == []

    kernel_loop(scenario())


def test_the_kernels_loop_is_found_and_no_other(kernel_loop):
    async def outside_a_kernel() -> None:
        # A running loop that is no kernel's (Playwright's sync API keeps one "running" that
        # turns only when called into): not trusted, updates are applied by whoever makes them.
        assert find_kernel_loop() == (None, None)
        kernel = KernelThread()
        ran_on: list[threading.Thread] = []
        in_thread(lambda: kernel.call(lambda: ran_on.append(threading.current_thread())))
        assert ran_on and ran_on[0] is not threading.current_thread()

    kernel_loop(outside_a_kernel())


def test_inside_a_kernel_its_loop_and_thread_are_found(kernel_stand_in, kernel_loop):
    async def in_a_cell() -> None:
        kernel_stand_in()
        loop = asyncio.get_running_loop()
        assert find_kernel_loop() == (loop, threading.get_ident())
        found: list = []
        in_thread(lambda: found.append(find_kernel_loop()))  # a widget built off the kernel thread
        assert found == [(loop, threading.main_thread().ident)]

    kernel_loop(in_a_cell())
