"""Binary values lifted out of widget state with their paths; values JSON cannot carry are refused."""
from __future__ import annotations

import numpy as np
import pytest

from nbviz.report import StateNotSerializableError
from nbviz.report.buffers import encode_buffers, separate_buffers


def test_separate_buffers_records_paths_top_level_and_nested():
    state = {"a": b"\x01", "b": {"c": [b"\x02\x03", {"d": bytearray(b"\x04")}]}, "e": (1, 2.5, "x")}
    clean, paths, buffers = separate_buffers(state)
    assert clean == {"a": None, "b": {"c": [None, {"d": None}]}, "e": [1, 2.5, "x"]}
    assert paths == [["a"], ["b", "c", 0], ["b", "c", 1, "d"]]
    assert buffers == [b"\x01", b"\x02\x03", b"\x04"]
    assert encode_buffers([b"\x00\x01\x02\xff"]) == ["AAEC/w=="]
    assert state["a"] == b"\x01", "the widget's own state is not modified"


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"x": float("nan")}, r"state\['x'\].*NaN"),
        ({"x": {1: 2}}, r"non-string key 1"),
        ({"x": [object()]}, r"type object at state\['x'\]\[0\]"),
    ],
)
def test_unserialisable_state_names_the_place(bad, message):
    with pytest.raises(StateNotSerializableError, match=message):
        separate_buffers(bad)


def test_numpy_arrays_are_refused_with_the_fix():
    with pytest.raises(StateNotSerializableError, match=r"tobytes"):
        separate_buffers({"x": np.zeros(3)})
    clean, _, _ = separate_buffers({"x": np.float32(1.5), "n": np.int64(3)})
    assert clean == {"x": 1.5, "n": 3}
