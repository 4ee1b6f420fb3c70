"""The CAMExplorer job scheduler: lanes replace their wishes, priorities, owners, cancellation."""
from __future__ import annotations

import threading

from nbviz.widgets.cam_jobs import JobScheduler


class Recorder:
    def __init__(self):
        self.done: list[str] = []
        self.gate = threading.Event()
        self.started = threading.Event()

    def __call__(self, job):
        self.started.set()
        if job.key == "block":
            self.gate.wait(5)
        if not job.cancel.is_set():
            self.done.append(job.key)


def test_priority_fifo_and_lane_replacement():
    recorder = Recorder()
    scheduler = JobScheduler(recorder)
    scheduler.submit_lane("a", "main", [("1", "block", None)])
    assert recorder.started.wait(5)
    scheduler.submit_lane("a", "compare", [("2", "c1", None), ("3", "c2", None), ("4", "c3", None)])
    scheduler.submit_scores("a", "5", "s1", None)
    scheduler.submit_lane("a", "main", [("1", "block", None), ("6", "m1", None)])
    scheduler.submit_lane("a", "compare", [("2", "c1", None), ("4", "c3", None)])  # c2 no longer wanted
    assert scheduler.pending_keys() == ["m1", "s1", "c1", "c3"]
    recorder.gate.set()
    assert scheduler.wait_idle(5)
    assert recorder.done == ["block", "m1", "s1", "c1", "c3"]
    scheduler.close()


def test_running_job_is_cancelled_only_when_no_owner_wants_it():
    recorder = Recorder()
    scheduler = JobScheduler(recorder)
    scheduler.submit_lane("a", "main", [("1", "block", None)])
    assert recorder.started.wait(5)
    scheduler.submit_lane("a", "compare", [("2", "block", None)])  # the grid wants it too
    scheduler.submit_lane("a", "main", [])
    assert not scheduler.running.cancel.is_set()
    scheduler.submit_lane("a", "compare", [])
    assert scheduler.running.cancel.is_set()
    recorder.gate.set()
    assert scheduler.wait_idle(5) and recorder.done == []
    scheduler.close()


def test_cancel_by_id_of_queued_and_running_jobs():
    recorder = Recorder()
    scheduler = JobScheduler(recorder)
    scheduler.submit_lane("a", "main", [("1", "block", None)])
    assert recorder.started.wait(5)
    scheduler.submit_lane("b", "main", [("7", "other", None)])
    queued = scheduler.cancel("7")
    assert queued is not None and queued.key == "other" and queued.ids == ["7"]
    assert scheduler.cancel("1") is None and scheduler.running.cancel.is_set()
    assert scheduler.cancel("unknown") is None
    recorder.gate.set()
    assert scheduler.wait_idle(5) and recorder.done == []
    scheduler.close()
