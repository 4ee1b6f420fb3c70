"""The keyframe codec and recorder behind TSNEScatter's timeline."""
from __future__ import annotations

import numpy as np

from nbviz.widgets.tsne_keyframes import KeyframeRecorder, dequantize_layout, quantize_layout


def test_quantization_round_trip_error_is_half_a_step():
    rng = np.random.default_rng(0)
    layout = rng.normal(scale=40, size=(500, 2)).astype(np.float32)
    codes, bounds = quantize_layout(layout)
    assert codes.dtype == np.uint16 and codes.min() == 0 and codes.max() == 65535
    decoded = dequantize_layout(codes, bounds)
    step = (layout.max(0) - layout.min(0)) / 65535
    assert np.all(np.abs(decoded - layout) <= step / 2 + 1e-5)


def test_hand_computed_codes_and_flat_axis():
    layout = np.array([[0.0, 5.0], [2.0, 5.0], [1.0, 5.0]])
    codes, bounds = quantize_layout(layout)
    assert bounds == (0.0, 5.0, 2.0, 5.0)
    assert codes.tolist() == [[0, 0], [65535, 0], [32768, 0]]  # round(0.5 * 65535) = 32768
    np.testing.assert_allclose(dequantize_layout(codes, bounds)[:, 1], 5.0)


def test_recorder_thins_by_two_when_over_budget():
    layout = np.zeros((100, 2), np.float32)
    recorder = KeyframeRecorder(every=10, budget_bytes=100 * 4 * 6)  # room for 6 keyframes
    for iteration in range(0, 201, 10):
        if recorder.wants(iteration):
            recorder.record(iteration, layout + iteration)
    assert len(recorder.codes) <= 6
    assert recorder.every >= 40
    assert recorder.iterations[0] == 0 and recorder.iterations[-1] == 200
    assert all(it % recorder.every == 0 for it in recorder.iterations)
    assert len(recorder.packed()) == len(recorder.codes) * 100 * 4


def test_packed_is_the_keyframes_in_order_as_little_endian_uint16():
    recorder = KeyframeRecorder(every=1)
    assert recorder.packed() == b""
    layouts = [np.array([[0.0, 0.0], [1.0, 2.0], [0.5, 1.0]]) * scale for scale in (1, 3)]
    for iteration, layout in enumerate(layouts):
        recorder.record(iteration, layout)
    # Each layout spans its own box: corners are 0 and 65535, the middle point half-way (32768).
    expected = np.array([[[0, 0], [65535, 65535], [32768, 32768]]] * 2, dtype="<u2")
    assert recorder.packed() == expected.tobytes()
    decoded = np.frombuffer(recorder.packed(), dtype="<u2").reshape(2, 3, 2)
    np.testing.assert_allclose(dequantize_layout(decoded[1], recorder.bounds[1]), layouts[1], atol=3 / 65535)
