"""Streamed frames travel as uint16 codes plus a bounding box exactly when every view's quantisation
step is below one device pixel, and decode to the layout within half a step."""
from __future__ import annotations

import numpy as np

from harness import wait_until
from nbviz.widgets.tsne_frames import FrameEncoder
from nbviz.widgets.tsne_keyframes import QUANT_LEVELS


def test_encoding_follows_the_widest_view():
    encoder = FrameEncoder()
    layout = np.random.default_rng(0).normal(scale=30, size=(500, 2)).astype(np.float32)
    extra, buffer = encoder.encode(layout)
    assert extra == {} and bytes(buffer) == layout.tobytes(), "no view reported yet: float32"
    encoder.report("a", 900.0)
    extra, buffer = encoder.encode(layout)
    assert len(buffer) == layout.size * 2, "half the bytes of float32"
    codes = np.frombuffer(buffer, dtype="<u2").reshape(-1, 2)
    xmin, ymin, xmax, ymax = extra["bounds"]
    decoded = np.array([xmin, ymin]) + codes / QUANT_LEVELS * np.array([xmax - xmin, ymax - ymin])
    step = np.array([xmax - xmin, ymax - ymin]) / QUANT_LEVELS
    assert np.all(np.abs(decoded - layout) <= step / 2 * (1 + 1e-9) + 1e-12)
    # On screen: the longer side spans 900 px, so the step is <= 900 / 65535 px: far below a pixel.
    assert max(step) / max(xmax - xmin, ymax - ymin) * 900 < 1
    encoder.report("b", 70_000.0)  # a second view zoomed in so far that a step would show
    assert encoder.encode(layout)[0] == {}
    encoder.report("b", 65_534.0)
    assert "bounds" in encoder.encode(layout)[0]


def test_the_widget_sends_uint16_frames_once_its_view_reports_its_span(tsne_digits_small):
    from nbviz import TSNEScatter

    X, _ = tsne_digits_small
    w = TSNEScatter(X, autostart=False, random_state=0, n_iter=20)
    sent = []
    w.send = lambda content, buffers=None: sent.append((content, [bytes(b) for b in buffers or []]))
    try:
        w._handle_message(w, {"type": "hello", "view": "v1", "span_px": 1200.0}, [])
        w.step()
        assert wait_until(lambda: any(c.get("type") == "frame" for c, _ in sent), timeout=60)
        frames = [(c, b) for c, b in sent if c.get("type") == "frame"]
        assert frames and all("bounds" in c and len(b[0]) == len(X) * 4 for c, b in frames)
        w._handle_message(w, {"type": "view_span", "view": "v1", "span_px": 1e6}, [])
        sent.clear()
        w.step()
        assert wait_until(lambda: any(c.get("type") == "frame" for c, _ in sent), timeout=60)
        frames = [(c, b) for c, b in sent if c.get("type") == "frame"]
        assert frames and all("bounds" not in c and len(b[0]) == len(X) * 8 for c, b in frames)
    finally:
        w.close()
