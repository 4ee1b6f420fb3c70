"""Maps stored compactly in a report: one byte per value at feature resolution.

A map's values v lie in [0, 1] (the engine min-max normalises them); the code is q = round(255 v),
decoded in the browser as q / 255 (js/src/lib/uint8_maps.js), so a decoded value is within 1/510
of the map's. A 7x7 map takes 49 bytes instead of 196 as float32.
"""
from __future__ import annotations

import numpy as np

#: The largest difference between a map value and its decoded code: half a step of 1/255.
MAX_ERROR = 0.5 / 255


def encode_uint8(values: np.ndarray) -> bytes:
    """uint8 codes round(255 v) of a map with values in [0, 1], row-major."""
    array = np.asarray(values, dtype=np.float64)
    if array.size and (not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0):
        raise ValueError("a map to encode as uint8 must hold finite values in [0, 1]")
    return np.rint(array * 255.0).astype(np.uint8).tobytes()


def decode_uint8(codes: bytes, shape: tuple[int, ...]) -> np.ndarray:
    """float32 values q / 255 of uint8 codes, in `shape` (what the browser computes)."""
    return (np.frombuffer(codes, dtype=np.uint8).astype(np.float32) / np.float32(255.0)).reshape(shape)
