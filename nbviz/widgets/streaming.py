"""Run an iterative optimizer in a background thread and stream its newest state to a slow consumer.

The optimizer never waits for the consumer: after every step the worker checks whether a send slot
is free (fewer than `max_in_flight` frames unacknowledged) and only then copies the state and hands
it over. Frames that find no free slot are simply skipped, so there is never a backlog of stale
frames, and the newest state is always the one sent.
"""
from __future__ import annotations

import atexit
import threading
import time
import weakref
from collections import deque
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol


class SteppableOptimizer(Protocol):
    """What the streamer needs from an optimizer (nbviz.tsne.TSNEOptimizer fits this)."""

    done: bool

    def step(self, compute_kl: bool = False) -> Any: ...


@dataclass
class FlowControl:
    """Bookkeeping of frames sent but not yet acknowledged by the consumer (thread-safe).

    A frame counts as in flight from `sent(seq)` until an `ack(seq')` with seq' >= seq arrives
    (acks are cumulative), until `reset()` (a new view said hello), or until it is older than
    the timeout: `timeout_s` (its view went away without acknowledging), or the shortest
    `paced(...)` timeout while one is active.
    """

    max_in_flight: int = 2
    timeout_s: float = 3.0
    _sent_at: dict[int, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _paced_timeouts: list[float] = field(default_factory=list)
    peak: int = 0

    @property
    def effective_timeout_s(self) -> float:
        """Seconds after which an unacknowledged frame counts as delivered, as of now."""
        with self._lock:
            return min([self.timeout_s, *self._paced_timeouts])

    @contextmanager
    def paced(self, timeout_s: float) -> Iterator[None]:
        """While inside, unacknowledged frames count as delivered after `timeout_s` (if shorter):
        for a consumer that cannot acknowledge for a while (its kernel thread is blocked)."""
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
        with self._lock:
            self._paced_timeouts.append(float(timeout_s))
        try:
            yield
        finally:
            with self._lock:
                self._paced_timeouts.remove(float(timeout_s))

    def _expire(self, now: float) -> None:
        timeout = min([self.timeout_s, *self._paced_timeouts])
        for seq in [s for s, t in self._sent_at.items() if now - t > timeout]:
            del self._sent_at[seq]

    def can_send(self) -> bool:
        """Whether a frame may go now: fewer than `max_in_flight` are unacknowledged."""
        with self._lock:
            self._expire(time.monotonic())
            return len(self._sent_at) < self.max_in_flight

    def sent(self, seq: int) -> None:
        """Count frame `seq` as in flight from now."""
        with self._lock:
            self._sent_at[seq] = time.monotonic()
            self.peak = max(self.peak, len(self._sent_at))

    def ack(self, seq: int) -> None:
        """The consumer drew every frame up to `seq` (acks are cumulative)."""
        with self._lock:
            for done in [s for s in self._sent_at if s <= seq]:
                del self._sent_at[done]

    def reset(self) -> None:
        """Forget every frame in flight."""
        with self._lock:
            self._sent_at.clear()

    @property
    def in_flight(self) -> int:
        """Frames sent and not yet acknowledged (or expired)."""
        with self._lock:
            return len(self._sent_at)


@dataclass
class StreamCallbacks:
    """What the streamer does with what the optimizer produces (all called on the worker thread).

    - `on_frame(frame, seq)`: a send slot was free; copy `frame`'s state and send it.
    - `on_step(frame)`: after every step (record keyframes, KL history); must be cheap.
    - `on_state(state)`: "running", "paused", "stopped", "finished" or "error".
    - `on_settle()`: the layout stopped changing (paused, stopped, finished, or after a single step).
    - `on_error(exc)`: the optimizer or a queued command raised; the worker ends (a later
      `start()` begins a new one).
    """

    on_frame: Callable[[Any, int], None]
    on_step: Callable[[Any], None] = lambda frame: None
    on_state: Callable[[str], None] = lambda state: None
    on_settle: Callable[[], None] = lambda: None
    on_error: Callable[[BaseException], None] = lambda exc: None


_LIVE_STREAMERS: "weakref.WeakSet[FrameStreamer]" = weakref.WeakSet()


@atexit.register
def _stop_all_at_exit() -> None:
    """Kernel shutdown: end every worker so none outlives the interpreter's teardown."""
    for streamer in list(_LIVE_STREAMERS):
        streamer.stop(timeout=2.0)


class FrameStreamer:
    """One background thread that steps `optimizer` and streams frames under flow control.

    Commands (`pause`, `resume`, `step_once`, `stop`, `submit`) are safe from any thread and take
    effect between two optimizer steps. None is lost to the end of a run: the worker decides to
    end under the same lock that `start`, `step_once` and `submit` take, and carries on when one
    of them came in since it last looked (a new start or step, or a command still waiting).
    """

    def __init__(
        self,
        optimizer: SteppableOptimizer,
        callbacks: StreamCallbacks,
        *,
        max_in_flight: int = 2,
        ack_timeout_s: float = 3.0,
        kl_every: int = 10,
        finished: Callable[[], bool] | None = None,
        name: str = "nbviz-stream",
    ) -> None:
        self.optimizer = optimizer
        self.finished = finished or (lambda: bool(optimizer.done))
        self.callbacks = callbacks
        self.flow = FlowControl(max_in_flight=max_in_flight, timeout_s=ack_timeout_s)
        self.kl_every = max(1, int(kl_every))
        self.name = name
        self._thread: threading.Thread | None = None
        self._wake = threading.Condition()
        self._paused = False
        self._stop_requested = False
        self._steps_requested = 0
        self._state = "idle"
        self._commands: deque[Callable[[], None]] = deque()
        # Under _wake: whether a worker is running its loop (False once it has decided to end),
        # and a count of start() calls, so a worker about to end sees a start() that raced it.
        self._running = False
        self._generation = 0
        self._seq = 0
        self.steps_taken = 0
        self.frames_sent = 0

    # ---- lifecycle -------------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        """Whether a worker is running (it takes commands); False once it has decided to end."""
        with self._wake:
            return self._running

    @property
    def state(self) -> str:
        """The worker's last announced state: "idle" (never started), "running", "paused",
        "stopped", "finished" or "error"."""
        with self._wake:
            return self._state

    def start(self, paused: bool = False) -> None:
        """Start the worker (when one already runs, only `paused` is applied).

        A worker that is about to end (finished or stopped) either sees this call and carries
        on, or has already let go (`_running` False) and a new worker is started here.
        Starting unpaused drops single steps still requested: running supersedes them.
        """
        with self._wake:
            if not paused:
                self._steps_requested = 0
            thread = self._start_locked(paused)
        if thread is not None:
            _LIVE_STREAMERS.add(self)
            thread.start()

    def _start_locked(self, paused: bool) -> threading.Thread | None:
        """Under `_wake`: apply `paused`, cancel a stop; return a new worker to start, if needed."""
        self._paused = paused
        self._stop_requested = False
        self._generation += 1
        self._wake.notify_all()
        if self._running:
            return None
        self._running = True
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        return self._thread

    def pause(self) -> None:
        """Freeze after the current step (the worker stays, waiting for a command)."""
        with self._wake:
            self._paused = True
            self._wake.notify_all()

    def resume(self) -> None:
        """Continue stepping after `pause()` (single steps still requested are dropped)."""
        with self._wake:
            self._paused = False
            self._steps_requested = 0
            self._wake.notify_all()

    def step_once(self) -> None:
        """Take exactly one more step while paused (starts a paused worker if none runs)."""
        with self._wake:
            self._steps_requested += 1
            thread = self._start_locked(paused=True)
        if thread is not None:
            _LIVE_STREAMERS.add(self)
            thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Ask the worker to end after the current step and wait for it (up to `timeout` s)."""
        with self._wake:
            self._stop_requested = True
            self._wake.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def submit(self, command: Callable[[], None]) -> None:
        """Run `command` on the worker between two steps (or right here when no worker runs).

        Atomic with the end of a run: a worker that has not let go yet runs the command before
        it ends; once it has let go, the command runs here.
        """
        with self._wake:
            if self._running:
                self._commands.append(command)
                self._wake.notify_all()
                return
        command()

    def wait(
        self,
        timeout: float | None = None,
        *,
        unacked_after_s: float | None = None,
        poll: Callable[[], None] | None = None,
        poll_interval_s: float = 0.05,
    ) -> bool:
        """Block until the worker has ended (finished, stopped or failed); False on `timeout`.

        A caller that blocks the consumer's acknowledgements (a kernel thread waiting here) passes
        `unacked_after_s`: frames then count as delivered after that long, so they keep flowing at
        a slow pace. `poll()` runs on this thread every `poll_interval_s` and once at the end
        (the widget applies the trait updates the worker queued for this thread).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pacing = self.flow.paced(unacked_after_s) if unacked_after_s is not None else nullcontext()
        with pacing:
            while True:
                with self._wake:
                    running, thread = self._running, self._thread
                if poll is not None:
                    poll()
                if not running:
                    break
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                if thread is not None:
                    thread.join(poll_interval_s if remaining is None else min(poll_interval_s, remaining))
        if thread is not None and not running and thread is not threading.current_thread():
            thread.join(1.0)  # it only has its `finally` left to run
        return not running

    # ---- flow control from the consumer ------------------------------------------------------
    def ack(self, seq: int) -> None:
        """The consumer drew every frame up to `seq`: their send slots are free again."""
        self.flow.ack(seq)

    def consumer_reset(self) -> None:
        """A new view appeared: forget frames sent to views that may never answer."""
        self.flow.reset()

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest frame sent so far (0 before the first)."""
        return self._seq

    def force_frame(self, frame: Any) -> None:
        """Send `frame` regardless of the in-flight limit (used when the layout settles)."""
        self._send(frame)

    def offer_frame(self, frame: Any) -> bool:
        """Send `frame` if the in-flight limit allows one now (True), else drop it (False): for
        frames made between two steps, e.g. while new points are being placed."""
        if not self.flow.can_send():
            return False
        self._send(frame)
        return True

    # ---- the worker --------------------------------------------------------------------------
    def _send(self, frame: Any) -> None:
        self._seq += 1
        self.flow.sent(self._seq)
        self.callbacks.on_frame(frame, self._seq)
        self.frames_sent += 1

    def _run_commands(self) -> None:
        while True:
            with self._wake:
                if not self._commands:
                    return
                command = self._commands.popleft()
            command()

    def _take_step(self) -> Any:
        compute_kl = (getattr(self.optimizer, "iteration", self.steps_taken) + 1) % self.kl_every == 0
        frame = self.optimizer.step(compute_kl=compute_kl)
        self.steps_taken += 1
        self.callbacks.on_step(frame)
        return frame

    def _run(self) -> None:
        state = None

        def announce(new_state: str) -> None:
            nonlocal state
            if new_state != state:
                state = new_state
                with self._wake:
                    self._state = new_state
                self.callbacks.on_state(new_state)

        try:
            while True:
                self._run_commands()
                with self._wake:
                    generation = self._generation
                    stopping = self._stop_requested
                    single_step = self._paused and self._steps_requested > 0
                    if self._paused and not single_step and not stopping:
                        settle_needed = state != "paused"
                    else:
                        settle_needed = False
                    if single_step and not stopping:
                        self._steps_requested -= 1
                if stopping:
                    announce("stopped")
                    self.callbacks.on_settle()
                    if self._end_unless_restarted(generation):
                        return
                    continue
                if settle_needed:
                    announce("paused")
                    self.callbacks.on_settle()
                    continue
                if self._paused and not single_step:
                    with self._wake:
                        if self._paused and not self._stop_requested and not self._commands \
                                and self._steps_requested == 0:
                            self._wake.wait(timeout=0.5)
                    continue
                if self.finished():
                    announce("finished")
                    self.callbacks.on_settle()
                    if self._end_unless_restarted(generation):
                        return
                    continue
                if not single_step:
                    announce("running")
                frame = self._take_step()
                if single_step:
                    self._send(frame)
                    self.callbacks.on_settle()
                elif self.flow.can_send():
                    self._send(frame)
        except BaseException as exc:  # the error is reported in the widget; the worker ends cleanly
            try:
                self.callbacks.on_error(exc)
                announce("error")
            finally:
                self._let_go_after_error()
        finally:
            with self._wake:
                if not self._running:
                    _LIVE_STREAMERS.discard(self)

    def _let_go_after_error(self) -> None:
        """End the worker role after an error; commands already submitted still run (here, as
        `submit` runs them when no worker is left), each error reported."""
        with self._wake:
            self._running = False
            stranded = list(self._commands)
            self._commands.clear()
        for command in stranded:
            try:
                command()
            except Exception as exc:
                self.callbacks.on_error(exc)

    def _end_unless_restarted(self, generation: int) -> bool:
        """Let go of the worker role (True) unless start() was called since `generation`, or a
        submitted command is still waiting (False: the loop goes on and runs it).

        Decided under the lock that start(), step_once() and submit() hold, so none racing the
        end of a run is lost: it either lands before this check (the loop goes on) or after it
        (it then sees `_running` False: start() launches a new worker, submit() runs the
        command itself)."""
        with self._wake:
            if self._commands:
                return False
            if self._generation != generation and not self._stop_requested:
                return False
            self._running = False
            return True

