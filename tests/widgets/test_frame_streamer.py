"""FrameStreamer's worker lifecycle: a start() that races the end of a run is never lost."""
from __future__ import annotations

import threading

from harness import wait_until

from nbviz.widgets.streaming import FrameStreamer, StreamCallbacks


class CountingOptimizer:
    """Steps until `target`; `done` is read by the streamer."""

    def __init__(self, target: int) -> None:
        self.iteration = 0
        self.target = target

    @property
    def done(self) -> bool:
        return self.iteration >= self.target

    def step(self, compute_kl: bool = False) -> int:
        self.iteration += 1
        return self.iteration


def _streamer(optimizer, on_state, on_settle=lambda: None) -> FrameStreamer:
    return FrameStreamer(optimizer, StreamCallbacks(on_frame=lambda frame, seq: None, on_state=on_state,
                                                    on_settle=on_settle))


def test_start_during_the_end_of_a_run_continues_it():
    """start() lands while the worker is announcing "finished" (the window where it used to be
    dropped: the thread was still alive, so start() did nothing, then the thread ended)."""
    optimizer = CountingOptimizer(target=5)
    states: list[str] = []
    in_settle, release = threading.Event(), threading.Event()

    def on_settle() -> None:
        if states and states[-1] == "finished" and not release.is_set():
            in_settle.set()
            release.wait(5)

    streamer = _streamer(optimizer, states.append, on_settle)
    streamer.start()
    assert in_settle.wait(5)
    optimizer.target = 12  # what TSNEScatter.start() does after a finished run: extend, then start
    streamer.start()
    release.set()
    assert wait_until(lambda: optimizer.iteration == 12 and states[-1] == "finished", timeout=5)
    assert states.count("running") == 2
    streamer.stop()
    assert not streamer.alive


def test_start_after_the_worker_let_go_launches_a_new_one():
    optimizer = CountingOptimizer(target=3)
    states: list[str] = []
    streamer = _streamer(optimizer, states.append)
    streamer.start()
    first = streamer._thread
    assert wait_until(lambda: not streamer.alive, timeout=5)
    optimizer.target = 6
    streamer.start()
    assert wait_until(lambda: optimizer.iteration == 6 and not streamer.alive, timeout=5)
    assert streamer._thread is not first
    assert states == ["running", "finished", "running", "finished"]


def test_stop_then_start_resumes_and_a_stop_ends_the_worker():
    optimizer = CountingOptimizer(target=10**9)
    states: list[str] = []
    streamer = _streamer(optimizer, states.append)
    streamer.start()
    assert wait_until(lambda: optimizer.iteration > 10, timeout=5)
    streamer.stop()
    assert not streamer.alive and states[-1] == "stopped"
    done = optimizer.iteration
    streamer.start()
    assert wait_until(lambda: optimizer.iteration > done + 10, timeout=5)
    streamer.stop()
    assert not streamer._thread.is_alive() and states[-1] == "stopped"
