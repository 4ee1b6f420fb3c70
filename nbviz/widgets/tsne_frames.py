"""How a streamed layout travels: float32, or uint16 codes plus a bounding box when that is exact
to the pixel in every view that shows it.

A layout quantised against its own bounding box (`quantize_layout`) has a step of span / 65535 per
axis. A view draws the layout's longer side over `span_px` device pixels (plot size x zoom x pixel
ratio), so the step on screen is at most span_px / 65535 pixels: below one pixel whenever
span_px < 65535, and then uint16 frames (4 bytes per point instead of 8) draw the same picture.
Each view reports its span_px when it appears and whenever its size or zoom changes.
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

from nbviz.widgets.tsne_keyframes import QUANT_LEVELS, quantize_layout


class FrameEncoder:
    """Chooses each frame's encoding from the pixel spans the views reported (thread-safe)."""

    def __init__(self) -> None:
        self._spans: dict[str, float] = {}
        self._lock = threading.Lock()

    def report(self, view_id: str, span_px: float) -> None:
        """View `view_id` now draws the layout's longer side over `span_px` device pixels."""
        with self._lock:
            self._spans[str(view_id)] = float(span_px)

    @property
    def quantized(self) -> bool:
        """True when every view that reported has a quantisation step below one device pixel."""
        with self._lock:
            return bool(self._spans) and max(self._spans.values()) < QUANT_LEVELS

    def encode(self, layout: np.ndarray) -> tuple[dict[str, Any], memoryview]:
        """(extra message fields, buffer) for an N x D float32 layout: {"bounds": [...]} with
        uint16 codes when quantised (x = min + code / 65535 * (max - min)), else {} and float32."""
        if not self.quantized:
            return {}, memoryview(layout).cast("B")
        codes, bounds = quantize_layout(layout)
        return {"bounds": list(bounds)}, memoryview(np.ascontiguousarray(codes, dtype="<u2")).cast("B")
