"""Fixtures for the widget tests (TSNE fixtures are prefixed tsne_)."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from cam_widget_helpers import CamTinyNet, cam_test_images, cam_transform_32
from harness import wait_until


@pytest.fixture(scope="session")
def tsne_digits_small():
    """240 digits (64 features) and their labels: small enough for sub-second t-SNE runs."""
    from nbviz.data import digits

    X, y = digits()
    return X[:240].copy(), y[:240].copy()


class TsneSlowClient:
    """Stands in for a browser: records every frame the widget sends, acks each after `delay_s`.

    It checks the flow-control promise at every send: the frames sent and not yet acknowledged
    (including the new one) never exceed `limit`.
    """

    def __init__(self, widget, delay_s: float = 0.15, limit: int = 2, ack: bool = True):
        self.widget = widget
        self.delay_s = delay_s
        self.limit = limit
        self.ack_enabled = ack
        self.frames: list[dict] = []
        self.layouts: list[np.ndarray] = []
        self.snapshots: list[bytes] = []
        self.unacked: set[int] = set()
        self.max_unacked = 0
        self.lock = threading.Lock()
        self.timers: list[threading.Timer] = []
        widget.send = self.receive

    def receive(self, content, buffers=None):
        if content.get("type") != "frame":
            return
        layout = np.frombuffer(buffers[0], dtype=np.float32).reshape(-1, 2)
        with self.lock:
            self.frames.append(dict(content, at=time.monotonic()))
            self.layouts.append(layout)
            self.snapshots.append(bytes(layout.tobytes()))
            self.unacked.add(content["seq"])
            self.max_unacked = max(self.max_unacked, len(self.unacked))
        if self.ack_enabled:
            timer = threading.Timer(self.delay_s, self.ack, args=(content["seq"],))
            timer.daemon = True
            self.timers.append(timer)
            timer.start()

    def ack(self, seq: int) -> None:
        with self.lock:
            self.unacked = {s for s in self.unacked if s > seq}
        self.widget._handle_message(self.widget, {"type": "ack", "seq": seq}, [])

    def stop(self) -> None:
        for timer in self.timers:
            timer.cancel()


@pytest.fixture
def tsne_slow_client():
    """Factory: `tsne_slow_client(widget, delay_s=0.15)` attaches a slow fake browser."""
    clients = []

    def attach(widget, **options):
        client = TsneSlowClient(widget, **options)
        clients.append(client)
        return client

    yield attach
    for client in clients:
        client.stop()


tsne_wait_until = wait_until


KERNEL_THREAD_NAME = "kernel-stand-in"


@pytest.fixture
def kernel_loop():
    """An asyncio loop on its own thread (named KERNEL_THREAD_NAME), standing in for a kernel's:
    `kernel_loop(coroutine)` runs the coroutine there and returns its result. (Not the test's
    thread: Playwright's sync API, used by the browser tests, keeps a loop "running" there.)"""
    import asyncio

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name=KERNEL_THREAD_NAME, daemon=True)
    thread.start()

    def run(coroutine, timeout: float = 180.0):
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)

    run.thread_name = KERNEL_THREAD_NAME
    yield run
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


@pytest.fixture
def kernel_stand_in(monkeypatch):
    """Call inside a running asyncio loop: from then on the process looks like an IPython kernel
    whose main loop is that one (what `nbviz.widgets.kernel_thread.find_kernel_loop` reads)."""

    def install() -> None:
        import asyncio
        import sys
        import types

        io_loop = types.SimpleNamespace(asyncio_loop=asyncio.get_running_loop())
        kernel = types.SimpleNamespace(io_loop=io_loop)
        kernel_class = types.SimpleNamespace(initialized=lambda: True, instance=lambda: kernel)
        monkeypatch.setitem(sys.modules, "ipykernel.kernelbase", types.SimpleNamespace(Kernel=kernel_class))

    return install


@pytest.fixture
def tsne_wait():
    return tsne_wait_until


# ---- CAMExplorer fixtures (prefixed cam_) ----------------------------------------------------------
class CamFrontEnd:
    """Stands in for the browser: records the widget's messages and sends it requests."""

    def __init__(self, widget, client: str = "test"):
        self.widget = widget
        self.client = client
        self.messages: list[tuple[dict, list]] = []
        self.lock = threading.Lock()
        self.counter = 0
        widget.send = self.receive

    def receive(self, content, buffers=None):
        with self.lock:
            self.messages.append((content, list(buffers or [])))

    def of_type(self, kind: str) -> list[tuple[dict, list]]:
        with self.lock:
            return [(c, b) for c, b in self.messages if c.get("type") == kind]

    def request(self, lane: str = "main", *choices: dict) -> list[str]:
        """Send a compute batch; each choice is {"image", "layer", "target", "method"}. Returns ids."""
        requests = []
        for choice in choices:
            self.counter += 1
            requests.append({"id": f"{self.client}-{self.counter}", **choice})
        self.widget._on_message(self.widget, {"type": "compute", "client": self.client, "lane": lane,
                                              "requests": requests}, [])
        return [r["id"] for r in requests]

    def send(self, content: dict) -> None:
        self.widget._on_message(self.widget, content, [])

    def maps(self) -> dict[str, np.ndarray]:
        """Every map received so far, by key, decoded from its float32 buffer."""
        return {c["key"]: np.frombuffer(bytes(b[0]), dtype="<f4").reshape(c["shape"]) for c, b in self.of_type("map")}


@pytest.fixture
def cam_make_explorer():
    """Factory: `cam_make_explorer(**kwargs)` builds a CAMExplorer on CamTinyNet; closed afterwards."""
    from nbviz.widgets.cam_explorer import CAMExplorer

    made = []

    def make(model=None, images=None, **kwargs):
        kwargs.setdefault("transform", cam_transform_32())
        explorer = CAMExplorer(model if model is not None else CamTinyNet(),
                               images if images is not None else cam_test_images(), **kwargs)
        made.append(explorer)
        return explorer

    yield make
    for explorer in made:
        explorer.close()


@pytest.fixture
def cam_tiny_net():
    """The CamTinyNet class (for test modules that cannot import it: `conftest` is ambiguous
    once several test folders have one)."""
    return CamTinyNet


@pytest.fixture
def cam_front_end():
    """Factory: `cam_front_end(explorer)` attaches a recording fake browser."""
    return CamFrontEnd


cam_wait_until = wait_until
