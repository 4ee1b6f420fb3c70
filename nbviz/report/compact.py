"""Compact encodings for arrays a report embeds: what a page needs, in as few bytes as it allows.

A map with values in [0, 1] that the page colours through a 256-entry lookup table needs no more
than 256 levels: `unit_codes` stores q = round(255 v) as one byte per value (a quarter of float32;
decoded as q / 255, off by at most 1/510, less than one colour-table step). The front end decodes
with `fromUnitCodes` in js/src/lib/dataview_float32.js. Reusable by any widget's `export_state`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

#: Largest code: values in [0, 1] become integers 0..UNIT_LEVELS.
UNIT_LEVELS = 255
#: The most a decoded value differs from the value encoded (values inside [0, 1]).
UNIT_CODE_ERROR = 0.5 / UNIT_LEVELS


def unit_codes(values: Any) -> bytes:
    """One byte per value: q = round(255 * clip(v, 0, 1)), row-major; NaN is stored as 0.

    Values must lie in [0, 1] (a normalised map); outside it they are clipped to the ends.
    """
    array = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
    return np.rint(np.clip(array, 0.0, 1.0) * UNIT_LEVELS).astype(np.uint8).tobytes(order="C")


def from_unit_codes(data: bytes, shape: Sequence[int]) -> np.ndarray:
    """The float32 values of `unit_codes` bytes (q / 255), reshaped to `shape`."""
    codes = np.frombuffer(data, dtype=np.uint8)
    expected = int(np.prod(shape))
    if codes.size != expected:
        raise ValueError(f"unit codes hold {codes.size} values, but shape {tuple(shape)} needs {expected}")
    return (codes.astype(np.float32) / np.float32(UNIT_LEVELS)).reshape(tuple(shape))
