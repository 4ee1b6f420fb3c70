"""Binary values inside widget state: lifted out for embedding, with the path that puts them back.

ipywidgets sends `bytes` found anywhere in a widget's state (top level or nested in dicts and lists)
as separate binary buffers, leaving `None` in their place and recording each one's path of keys and
indices; the front end then restores them as `DataView`s. A report does the same, with the buffers
written as base64 text, so the widget code sees exactly what a live kernel would give it.
"""
from __future__ import annotations

import base64
import math
from typing import Any

from nbviz.report.errors import StateNotSerializableError

BINARY_TYPES = (bytes, bytearray, memoryview)
BufferPath = list  # a buffer path: keys (str) and indices (int) from the state's root


def separate_buffers(state: dict[str, Any]) -> tuple[dict[str, Any], list[BufferPath], list[bytes]]:
    """Copy `state` with every binary value replaced by None; return (copy, paths, buffers).

    For each i, following paths[i] through the copy reaches the None that stood for buffers[i].
    Tuples become lists (as in JSON); dict keys must be strings; floats must be finite.
    """
    paths: list[BufferPath] = []
    buffers: list[bytes] = []
    clean = _walk(state, [], paths, buffers)
    return clean, paths, buffers


def encode_buffers(buffers: list[bytes]) -> list[str]:
    """Standard base64 (RFC 4648, padded) of each buffer: 4 characters per 3 bytes."""
    return [base64.b64encode(buffer).decode("ascii") for buffer in buffers]


def _walk(value: Any, path: BufferPath, paths: list[BufferPath], buffers: list[bytes]) -> Any:
    if isinstance(value, BINARY_TYPES):
        paths.append(list(path))
        buffers.append(bytes(value))
        return None
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise StateNotSerializableError(
                    f"exported widget state has a non-string key {key!r} at {_describe(path)}; "
                    "JSON objects only have string keys: convert it with str()"
                )
            out[key] = _walk(item, [*path, key], paths, buffers)
        return out
    if isinstance(value, (list, tuple)):
        return [_walk(item, [*path, index], paths, buffers) for index, item in enumerate(value)]
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise StateNotSerializableError(
                f"exported widget state holds {value} at {_describe(path)}; JSON has no NaN or "
                "infinity: replace it with None or a finite number"
            )
        return value
    if getattr(value, "ndim", 0) and hasattr(value, "dtype"):  # numpy / torch arrays
        raise StateNotSerializableError(
            f"exported widget state holds an array ({type(value).__name__}, dtype {value.dtype}) at "
            f"{_describe(path)}; send arrays as bytes (array.astype('<f4').tobytes()) and their shape "
            "as a separate list"
        )
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return _walk(value.item(), path, paths, buffers)
    raise StateNotSerializableError(
        f"exported widget state holds a value of type {type(value).__name__} at {_describe(path)}, which JSON cannot "
        "carry; use str, int, float, bool, None, bytes, or lists and dicts of those"
    )


def _describe(path: BufferPath) -> str:
    return "state" + "".join(f"[{key!r}]" for key in path)
