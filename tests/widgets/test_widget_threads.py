"""Threads of the widgets: synced traits are written on the kernel's thread only, settings hammered
from the kernel while a run streams are never lost, and no thread outlives `close()`.

"The kernel" here is an asyncio loop on a thread of its own standing in for ipykernel's (its cells
and comm messages run on one thread's loop); the browser's acks arrive through that loop too.
A last test runs a real kernel. A
recording comm stands in for the front end: folding its "update" messages gives the state a
browser would hold.
"""
from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import comm
import nbformat
import numpy as np
import pytest
import traitlets
from nbclient import NotebookClient

from harness import wait_until

from nbviz.widgets.tsne_scatter import TSNEScatter

N_COMMANDS = 200
SETTINGS = ("perplexity", "exaggeration", "learning_rate")


class RecordingComm(comm.DummyComm):
    """A comm whose messages are kept: what the front end would receive, in order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.messages: list[dict] = []
        self.messages_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **keys: Any) -> None:
        with self.messages_lock:
            self.messages.append(dict(data or {}))

    def front_end_state(self) -> dict[str, Any]:
        """The state a front end holds after applying every message: opening state, then updates."""
        state: dict[str, Any] = {}
        with self.messages_lock:
            for data in self.messages:
                if "state" in data and data.get("method", "update") == "update":
                    state.update(data["state"])
        return state


@pytest.fixture
def recording_comms(monkeypatch):
    """Widgets made from now on talk through a RecordingComm (`widget.comm`)."""
    monkeypatch.setattr(comm, "create_comm", RecordingComm)


def stream_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("nbviz-") and t.is_alive()]


def make_scatter(data, **options) -> TSNEScatter:
    X, y = data
    params = dict(labels=y, random_state=0, autostart=False, n_iter=10**6, early_exaggeration_iter=20)
    params.update(options)
    return TSNEScatter(X, **params)


def ack_through(widget: TSNEScatter, deliver: Callable[[Callable[[], None]], None]) -> None:
    """Acknowledge every frame at once, the ack handled by `deliver` (the kernel's way in)."""

    def receive(content: dict, buffers: Any = None) -> None:
        if content.get("type") == "frame":
            message = {"type": "ack", "seq": content["seq"]}
            deliver(lambda: widget._handle_message(widget, message, []))

    widget.send = receive


def record_setter_calls(widget: TSNEScatter) -> dict[str, list[float]]:
    """Wrap the optimizer's setters: the values each was called with, in order."""
    calls: dict[str, list[float]] = {name: [] for name in SETTINGS}
    optimizer = widget.optimizer
    for name in SETTINGS:
        original = getattr(optimizer, f"set_{name}")

        def recording(value, _original=original, _name=name):
            calls[_name].append(0.0 if value == "auto" else float(value))
            return _original(value)

        setattr(optimizer, f"set_{name}", recording)
    return calls


def hammer(widget: TSNEScatter, writes: dict[str, list], rng: np.random.Generator) -> Iterator[float]:
    """N_COMMANDS random settings and pause/resume commands; yields the seconds to let pass after
    each (the driver sleeps there, letting the worker step and the kernel loop run)."""
    for _ in range(N_COMMANDS):
        kind = rng.choice(["perplexity", "exaggeration", "learning_rate", "pause", "resume"],
                          p=[0.3, 0.25, 0.25, 0.1, 0.1])
        if kind == "perplexity":
            value = float(rng.integers(5, 60))
        elif kind == "exaggeration":
            value = float(rng.integers(1, 40)) / 2
        elif kind == "learning_rate":
            value = 0.0 if rng.random() < 0.2 else float(rng.integers(10, 400))
        else:
            value = None
        if value is None:
            getattr(widget, kind)()
            writes["run"].append(kind)
        elif value != getattr(widget, kind):  # an equal value is no change: no command to check
            setattr(widget, kind, value)
            writes[kind].append(value)
        yield float(rng.uniform(0, 0.006))


def settled(widget: TSNEScatter, calls: dict[str, list[float]], writes: dict[str, list]) -> bool:
    """Every command has run and its effect is in the traits."""
    expected_status = {"pause": "paused", "resume": "running"}[writes["run"][-1]]
    return (all(calls[name] == writes[name] for name in SETTINGS)
            and all(getattr(widget, name) == writes[name][-1] for name in SETTINGS)
            and widget.status == expected_status)


def record_values(widget: TSNEScatter) -> dict[str, list[float]]:
    """Every value each setting trait takes from now on, in order."""
    values: dict[str, list[float]] = {name: [] for name in SETTINGS}
    widget.observe(lambda change: values[change["name"]].append(change["new"]), names=list(SETTINGS))
    return values


def check_nothing_was_lost(widget: TSNEScatter, calls, writes, shown_values, front_end: RecordingComm) -> None:
    for name in SETTINGS:
        assert len(writes[name]) >= 30, (name, len(writes[name]))
        # Every write reached the optimizer exactly once, in order: no command lost, none repeated.
        assert calls[name] == writes[name], name
        # The trait showed exactly the user's values: the engine never put back a stale one.
        assert shown_values[name] == writes[name], name
    optimizer = widget.optimizer
    last = {name: writes[name][-1] for name in SETTINGS}
    assert widget.perplexity == optimizer.perplexity == last["perplexity"]
    assert widget.exaggeration == optimizer.exaggeration == last["exaggeration"]
    expected_rate = last["learning_rate"] or widget.n_points / last["exaggeration"]
    assert widget.learning_rate == last["learning_rate"]
    assert optimizer.learning_rate == pytest.approx(expected_rate, rel=1e-12)
    assert widget.status == {"pause": "paused", "resume": "running"}[writes["run"][-1]]
    assert widget.error == ""
    # The front end got every change too: its state agrees with the traits.
    shown = front_end.front_end_state()
    for name in (*SETTINGS, "status", "error", "n_iter"):
        assert shown[name] == getattr(widget, name), name


def fresh_writes() -> dict[str, list]:
    return {"perplexity": [], "exaggeration": [], "learning_rate": [], "run": ["resume"]}


def test_settings_hammered_from_the_kernel_loop_while_streaming_are_never_lost(tsne_digits_small, recording_comms,
                                                                             kernel_loop, kernel_stand_in):
    writers: set[str] = set()

    async def scenario() -> None:
        kernel_stand_in()
        loop = asyncio.get_running_loop()
        widget = make_scatter(tsne_digits_small)
        widget.observe(lambda change: writers.add(threading.current_thread().name), names=traitlets.All)
        ack_through(widget, loop.call_soon_threadsafe)
        calls = record_setter_calls(widget)
        writes = fresh_writes()
        widget.start()
        try:
            while widget.iteration <= 25:  # past early exaggeration: the schedule changes nothing now
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.05)
            shown_values = record_values(widget)
            for pause in hammer(widget, writes, np.random.default_rng(0)):
                await asyncio.sleep(pause)
            deadline = time.monotonic() + 60
            while not settled(widget, calls, writes) and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            # Still streaming after the hammering (a perplexity change rebuilds P, ~10 ms each, so
            # how far the run got during it depends on the machine; that it goes on does not).
            hammered_to = widget.iteration
            widget.resume()
            writes["run"].append("resume")
            while widget.iteration <= hammered_to + 10 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.1)  # any late update would land here and be caught below
            assert widget.iteration > hammered_to + 10
            check_nothing_was_lost(widget, calls, writes, shown_values, widget.comm)
        finally:
            widget.close()

    kernel_loop(scenario())
    assert writers == {kernel_loop.thread_name}  # every synced-trait write happened on the kernel's thread
    assert wait_until(lambda: not stream_threads(), timeout=5)


def test_settings_hammered_without_an_event_loop_are_never_lost(tsne_digits_small, recording_comms):
    """A plain script or a test: no loop takes the worker's updates, which it then applies itself."""
    widget = make_scatter(tsne_digits_small)
    ack_through(widget, lambda ack: ack())
    calls = record_setter_calls(widget)
    writes = fresh_writes()
    widget.start()
    try:
        assert wait_until(lambda: widget.iteration > 25, timeout=30)
        time.sleep(0.05)
        shown_values = record_values(widget)
        for pause in hammer(widget, writes, np.random.default_rng(1)):
            time.sleep(pause)
        assert wait_until(lambda: settled(widget, calls, writes), timeout=60)
        time.sleep(0.1)
        check_nothing_was_lost(widget, calls, writes, shown_values, widget.comm)
    finally:
        widget.close()
    assert wait_until(lambda: not stream_threads(), timeout=5)


def test_wait_on_a_blocked_kernel_loop_ends_with_the_traits_set(tsne_digits_small, kernel_loop, kernel_stand_in):
    """`wait()` in a notebook cell blocks the kernel's loop: it applies the worker's updates itself."""
    writers: set[str] = set()

    async def scenario() -> TSNEScatter:
        kernel_stand_in()
        widget = make_scatter(tsne_digits_small, n_iter=80)
        widget.observe(lambda change: writers.add(threading.current_thread().name), names=traitlets.All)
        widget.start()
        assert widget.wait(timeout=60) is True  # no await: the loop is blocked all along
        return widget

    widget = kernel_loop(scenario())
    try:
        assert widget.status == "finished" and widget.iteration_count == 80 == widget.iteration
        np.testing.assert_array_equal(np.frombuffer(widget.positions, np.float32).reshape(-1, 2), widget.embedding)
        assert widget.keyframe_iterations[-1] == 80
        assert writers == {kernel_loop.thread_name}
    finally:
        widget.close()


# ---- no thread survives close() -------------------------------------------------------------------
def threads_now() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive()}


@pytest.mark.parametrize("state", ["running", "paused", "finished", "never started", "stepped"])
def test_no_thread_of_a_scatter_survives_close(tsne_digits_small, state):
    before = threads_now()
    widget = make_scatter(tsne_digits_small, n_iter=40 if state == "finished" else 10**6)
    ack_through(widget, lambda ack: ack())
    if state == "stepped":
        widget.step()
        assert wait_until(lambda: widget.iteration == 1 and widget.status == "paused", timeout=30)
    elif state != "never started":
        widget.start()
        assert wait_until(lambda: widget.iteration > 3, timeout=30)
    if state == "paused":
        widget.pause()
        assert wait_until(lambda: widget.status == "paused", timeout=30)
    if state == "finished":
        assert widget.wait(timeout=60)
    if state != "never started":
        assert threads_now() - before or state == "finished"  # a worker ran (a finished one has ended)
    widget.close()
    assert wait_until(lambda: not threads_now() - before, timeout=5), threads_now() - before


def test_no_thread_of_an_explorer_survives_close_during_a_slow_map(cam_make_explorer, cam_front_end, cam_tiny_net):
    before = threads_now()
    explorer = cam_make_explorer(model=cam_tiny_net(slow_batch_s=0.2))
    browser = cam_front_end(explorer)
    base = {"image": 0, "layer": explorer.layer, "target": explorer.target}
    browser.request("main", dict(base, method="scorecam"))
    browser.request("compare", *[dict(base, method=m) for m in ("ablationcam", "gradcam++", "layercam")])
    assert wait_until(lambda: browser.of_type("progress"), timeout=30)  # the slow map is running
    assert threads_now() - before
    explorer.close()
    assert wait_until(lambda: not threads_now() - before, timeout=5), threads_now() - before


# ---- in a real kernel --------------------------------------------------------------------------------
KERNEL_CELLS = [
    """
import asyncio, json, threading
import traitlets
from nbviz import TSNEScatter
from nbviz.data import digits

X, y = digits()
writers = set()
scatter = TSNEScatter(X[:240], labels=y[:240], n_iter=60, early_exaggeration_iter=20, random_state=0, autostart=False)
scatter.observe(lambda change: writers.add(threading.current_thread().name), names=traitlets.All)
scatter.start()
finished = scatter.wait(timeout=120)  # blocks the kernel's loop: wait() applies the updates
print(json.dumps({"finished": finished, "status": scatter.status, "count": scatter.iteration_count}))
""",
    """
scatter.start()  # 250 more iterations; the cell ends at once and the kernel's loop takes the updates
""",
    """
for _ in range(1200):
    if scatter.status == "finished" and scatter.iteration_count == 310:
        break
    await asyncio.sleep(0.05)
print(json.dumps({"status": scatter.status, "count": scatter.iteration_count,
                  "positions": len(scatter.positions), "writers": sorted(writers)}))
scatter.close()
""",
]


def test_in_a_real_kernel_every_trait_write_is_on_the_kernel_thread(monkeypatch, tmp_path):
    repo = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(repo), os.environ.get("PYTHONPATH", "")) if p))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in KERNEL_CELLS]
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = [json.loads(output["text"]) for cell in notebook.cells for output in cell.get("outputs", [])
               if output.get("name") == "stdout"]
    assert printed[0] == {"finished": True, "status": "finished", "count": 60}
    assert printed[1] == {"status": "finished", "count": 310, "positions": 240 * 2 * 4, "writers": ["MainThread"]}
