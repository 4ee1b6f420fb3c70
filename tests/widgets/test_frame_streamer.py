"""FrameStreamer's worker lifecycle: a start(), step or command that races the end of a run is never lost."""
from __future__ import annotations

import threading
from collections import deque

import pytest
from harness import wait_until

from nbviz.widgets.streaming import FlowControl, FrameStreamer, StreamCallbacks


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


def _held_in_final_settle(streamer: FrameStreamer, states: list[str], final: str):
    """Start `streamer` and return (in_settle, release): the worker waits inside its on_settle
    after announcing `final`, the window between its last command check and its decision to end."""
    in_settle, release = threading.Event(), threading.Event()

    def on_settle() -> None:
        if states and states[-1] == final and not release.is_set():
            in_settle.set()
            release.wait(5)

    streamer.callbacks.on_settle = on_settle
    return in_settle, release


def test_a_command_submitted_as_the_run_ends_runs_before_the_worker_ends():
    """submit() lands after the worker's last command check, before it lets go: the worker must
    run it (it used to sit in the queue until the next start())."""
    optimizer = CountingOptimizer(target=5)
    states: list[str] = []
    streamer = _streamer(optimizer, states.append)
    in_settle, release = _held_in_final_settle(streamer, states, "finished")
    streamer.start()
    assert in_settle.wait(5)
    ran_on: list[threading.Thread] = []
    streamer.submit(lambda: ran_on.append(threading.current_thread()))
    assert ran_on == []  # queued for the worker, which has not let go yet
    release.set()
    assert wait_until(lambda: not streamer.alive, timeout=5)
    assert len(ran_on) == 1 and ran_on[0] is streamer._thread
    assert streamer._commands == deque()


def test_a_command_submitted_after_the_worker_let_go_runs_at_once_on_the_caller():
    optimizer = CountingOptimizer(target=3)
    streamer = _streamer(optimizer, lambda state: None)
    streamer.start()
    assert streamer.wait(timeout=5)
    ran_on: list[threading.Thread] = []
    streamer.submit(lambda: ran_on.append(threading.current_thread()))
    assert ran_on == [threading.current_thread()]


def test_a_step_requested_as_a_stopped_run_ends_is_taken():
    optimizer = CountingOptimizer(target=10**9)
    states: list[str] = []
    streamer = _streamer(optimizer, states.append)
    in_settle, release = _held_in_final_settle(streamer, states, "stopped")
    streamer.start()
    assert wait_until(lambda: optimizer.iteration > 3, timeout=5)
    stop = threading.Thread(target=streamer.stop)
    stop.start()
    assert in_settle.wait(5)
    stopped_at = optimizer.iteration
    streamer.step_once()
    release.set()
    stop.join(5)
    assert wait_until(lambda: optimizer.iteration == stopped_at + 1 and streamer.state == "paused", timeout=5)
    assert streamer.alive  # paused after the step, waiting for the next command
    streamer.stop()
    assert not streamer.alive and optimizer.iteration == stopped_at + 1


def test_wait_paces_unacknowledged_frames_only_while_waiting_and_reports_the_end():
    optimizer = CountingOptimizer(target=10**9)
    streamer = _streamer(optimizer, lambda state: None)
    seen: list[float] = []
    streamer.start()
    # A paused worker never ends: wait() gives up at its timeout, polling on the way.
    streamer.pause()
    assert not streamer.wait(timeout=0.3, unacked_after_s=0.25,
                             poll=lambda: seen.append(streamer.flow.effective_timeout_s))
    assert len(seen) >= 2 and set(seen) == {0.25}
    assert streamer.flow.effective_timeout_s == streamer.flow.timeout_s == 3.0
    optimizer.target = optimizer.iteration + 5
    streamer.resume()
    assert streamer.wait(timeout=5)
    assert streamer.state == "finished" and not streamer._thread.is_alive()


def test_flow_control_pacing_nests_and_rejects_a_bad_timeout():
    flow = FlowControl(max_in_flight=1, timeout_s=3.0)
    with flow.paced(0.5):
        with flow.paced(1.0):
            assert flow.effective_timeout_s == 0.5
        flow.sent(1)
        assert not flow.can_send()
        flow._sent_at[1] -= 0.6  # the frame went out 0.6 s ago: past the paced timeout
        assert flow.can_send()
    assert flow.effective_timeout_s == 3.0
    with pytest.raises(ValueError, match="timeout_s must be a positive number"):
        with flow.paced(0):
            pass


class FailingOptimizer(CountingOptimizer):
    """Its fourth step waits for `gate`, then raises."""

    def __init__(self) -> None:
        super().__init__(target=10**9)
        self.failing, self.gate = threading.Event(), threading.Event()

    def step(self, compute_kl: bool = False) -> int:
        if self.iteration == 3:
            self.failing.set()
            self.gate.wait(5)
            raise RuntimeError("diverged")
        return super().step(compute_kl)


def test_an_optimizer_error_ends_the_worker_and_still_runs_the_commands_it_had_queued():
    optimizer = FailingOptimizer()
    states: list[str] = []
    errors: list[BaseException] = []
    ran: list[int] = []
    streamer = FrameStreamer(optimizer, StreamCallbacks(on_frame=lambda frame, seq: None, on_state=states.append,
                                                        on_error=errors.append))
    streamer.start()
    assert optimizer.failing.wait(5)
    streamer.submit(lambda: ran.append(optimizer.iteration))  # queued while the failing step runs
    optimizer.gate.set()
    assert streamer.wait(timeout=5)
    assert states[-1] == "error" and streamer.state == "error"
    assert [str(e) for e in errors] == ["diverged"]
    assert ran == [3]
