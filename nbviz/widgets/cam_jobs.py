"""Scheduling of map computations for CAMExplorer: one worker thread, newest wishes first.

The browser sends, per view ("client") and lane ("main": the map on screen, "compare": the grid of
every method), the full list of maps that lane wants now. A new list replaces the old one: jobs
nobody wants any more are dropped, or cancelled if already running. Lanes run in priority order
main > scores > compare, so the map on screen never waits behind the comparison grid.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

LANE_PRIORITY = {"main": 0, "scores": 1, "compare": 2}
log = logging.getLogger("nbviz.cam_explorer")

Owner = tuple[str, str]  # (client, lane)


@dataclass(eq=False)
class Job:
    """One computation: its kind ("map" or "scores"), the map key, the choices, who waits for it."""

    kind: str
    key: str
    params: Any
    owners: dict[Owner, str] = field(default_factory=dict)  # owner -> the id that owner gave it
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def priority(self) -> int:
        return min((LANE_PRIORITY.get(lane, 3) for _, lane in self.owners), default=3)

    @property
    def ids(self) -> list[str]:
        return list(self.owners.values())


class JobScheduler:
    """Runs `execute(job)` for queued jobs, one at a time, in a daemon thread started on demand."""

    def __init__(self, execute: Callable[[Job], None], name: str = "nbviz-cam-worker") -> None:
        self._execute = execute
        self._name = name
        self._condition = threading.Condition()
        self._pending: list[Job] = []
        self._running: Job | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- queries (for tests and the widget) -----------------------------------------------------
    @property
    def running(self) -> Job | None:
        return self._running

    def pending_keys(self) -> list[str]:
        with self._condition:
            return [job.key for job in sorted(self._pending, key=lambda j: j.priority)]

    # -- submissions ----------------------------------------------------------------------------
    def submit_lane(self, client: str, lane: str, requests: list[tuple[str, str, Any]]) -> None:
        """Replace what (client, lane) wants with `requests`, a list of (id, key, params)."""
        owner = (client, lane)
        wanted = {key: (request_id, params) for request_id, key, params in requests}
        with self._condition:
            for job in list(self._jobs()):
                if job.kind == "map" and owner in job.owners and job.key not in wanted:
                    del job.owners[owner]
                    if not job.owners:
                        self._abandon(job)
            for key, (request_id, params) in wanted.items():
                job = next((j for j in self._jobs() if j.kind == "map" and j.key == key), None)
                if job is None:
                    job = Job("map", key, params)
                    self._pending.append(job)
                job.owners[owner] = request_id
            self._wake()

    def submit_scores(self, client: str, request_id: str, key: str, params: Any) -> None:
        """Queue a deletion / insertion score computation (never replaced by later wishes)."""
        with self._condition:
            self._pending.append(Job("scores", key, params, {(client, "scores"): request_id}))
            self._wake()

    def submit_alone(self, job: Job) -> None:
        """Cancel every queued or running job and queue ``job``: for a worker whose newest request
        supersedes the ones before it (the sanity check of the map on screen)."""
        with self._condition:
            for other in list(self._jobs()):
                self._abandon(other)
            self._pending.append(job)
            self._wake()

    def cancel_all(self) -> None:
        """Cancel every queued or running job (the worker stays ready for the next one)."""
        with self._condition:
            for job in list(self._jobs()):
                self._abandon(job)

    def cancel(self, request_id: str) -> Job | None:
        """Cancel the job some owner knows as `request_id`. Returns a job that was only queued
        (the caller tells the browser), or None if it is running (its execute reports) or unknown."""
        with self._condition:
            for job in self._jobs():
                if request_id in job.owners.values():
                    job.cancel.set()
                    if job is not self._running:
                        self._pending.remove(job)
                        return job
                    return None
        return None

    def close(self, timeout: float = 5.0) -> None:
        """Cancel everything and stop the worker thread."""
        with self._condition:
            self._closed = True
            for job in self._jobs():
                job.cancel.set()
            self._pending.clear()
            self._condition.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until nothing is queued or running (for tests). Returns False on timeout."""
        with self._condition:
            return self._condition.wait_for(lambda: not self._pending and self._running is None, timeout)

    # -- internals ------------------------------------------------------------------------------
    def _jobs(self):
        if self._running is not None:
            yield self._running
        yield from self._pending

    def _abandon(self, job: Job) -> None:
        if job is self._running:
            job.cancel.set()
        else:
            self._pending.remove(job)

    def _wake(self) -> None:
        if self._closed:
            raise RuntimeError("this CAMExplorer was closed; create a new one")
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
            self._thread.start()
        self._condition.notify_all()

    def _work(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._pending or self._closed)
                if self._closed:
                    return
                job = min(self._pending, key=lambda j: j.priority)  # min() keeps FIFO among equals
                self._pending.remove(job)
                self._running = job
            try:
                self._execute(job)
            except Exception:  # execute reports its own errors; never let the worker die
                log.exception("CAMExplorer worker failed on %s", job.key)
            finally:
                with self._condition:
                    self._running = None
                    self._condition.notify_all()


def throttled(report: Callable[[int, int], None], interval_s: float) -> Callable[[int, int], None]:
    """``progress(done, total)`` that forwards to ``report`` at most every ``interval_s`` seconds, and always
    the last call (``done == total``), so a fast loop does not flood the browser with messages."""
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < interval_s:
            return
        last[0] = now
        report(done, total)

    return progress
