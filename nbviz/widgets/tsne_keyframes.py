"""Recorded layouts of a t-SNE run, kept small enough to live in a widget trait and a saved report.

Each keyframe is an N x 2 (or N x 3) layout quantised to uint16 against its own bounding box, so a replay
costs 4 bytes per point per keyframe instead of 8 (float32) and still resolves 1/65535 of the
layout's extent, far below one screen pixel. When the recording outgrows its byte budget, every
other keyframe is dropped and the recording interval doubles, so a run of any length fits.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

QUANT_LEVELS = 65535


def quantize_layout(layout: np.ndarray) -> tuple[np.ndarray, tuple[float, ...]]:
    """Encode an N x D layout (D = 2 or 3) as uint16 codes and its bounds (mins..., maxes...):
    (xmin, ymin, xmax, ymax) in 2-D, (xmin, ymin, zmin, xmax, ymax, zmax) in 3-D.

    code = round((x - min) / (max - min) * 65535) per axis; an axis with max == min encodes as 0.
    Decoding is x = min + code / 65535 * (max - min), error <= (max - min) / 131070.
    """
    layout = np.asarray(layout, dtype=np.float64)
    lo = layout.min(axis=0)
    hi = layout.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    codes = np.rint((layout - lo) / span * QUANT_LEVELS).astype(np.uint16)
    return codes, tuple(float(v) for v in (*lo, *hi))


def dequantize_layout(codes: np.ndarray, bounds: tuple[float, ...]) -> np.ndarray:
    """Inverse of `quantize_layout`: x = min + code / 65535 * (max - min), as float32 N x D."""
    dims = len(bounds) // 2
    lo = np.array(bounds[:dims], dtype=np.float64)
    hi = np.array(bounds[dims:], dtype=np.float64)
    return (lo + codes.astype(np.float64) / QUANT_LEVELS * (hi - lo)).astype(np.float32)


@dataclass
class KeyframeRecorder:
    """Keeps a layout every `every` iterations within `budget_bytes` (thinning by 2 when full)."""

    every: int = 10
    budget_bytes: int = 48 * 2**20
    iterations: list[int] = field(default_factory=list)
    bounds: list[tuple[float, float, float, float]] = field(default_factory=list)
    codes: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError(f"keyframe_every must be a positive number of iterations, got {self.every}")

    def clear(self) -> None:
        self.iterations.clear()
        self.bounds.clear()
        self.codes.clear()

    def wants(self, iteration: int) -> bool:
        """True when `iteration` falls on the recording grid and is not recorded yet."""
        return iteration % self.every == 0 and (not self.iterations or self.iterations[-1] != iteration)

    def record(self, iteration: int, layout: np.ndarray) -> None:
        """Quantise and keep `layout` (copied); thin the recording while it exceeds the budget."""
        if self.iterations and self.iterations[-1] == iteration:
            return
        codes, bounds = quantize_layout(layout)
        self.iterations.append(int(iteration))
        self.bounds.append(bounds)
        self.codes.append(codes)
        frame_bytes = codes.nbytes
        while len(self.codes) > 2 and len(self.codes) * frame_bytes > self.budget_bytes:
            self._thin()

    def _thin(self) -> None:
        """Keep keyframes whose iteration is a multiple of 2 * every (and always the first/last)."""
        self.every *= 2
        keep = [
            i for i, it in enumerate(self.iterations)
            if it % self.every == 0 or i == 0 or i == len(self.iterations) - 1
        ]
        self.iterations = [self.iterations[i] for i in keep]
        self.bounds = [self.bounds[i] for i in keep]
        self.codes = [self.codes[i] for i in keep]

    def packed(self) -> bytes:
        """All keyframes as one little-endian uint16 blob, K x N x 2, in recording order.

        Joined straight into the result (one allocation of the recording's size, not a stacked
        array and then its bytes): it is rebuilt whenever the layout settles."""
        return b"".join(np.ascontiguousarray(codes, dtype="<u2").data for codes in self.codes)
