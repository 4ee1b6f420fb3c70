"""How a layer's output tensor maps onto a spatial (B, K, h, w) grid.

Three layouts occur in vision models:

* ``nchw``   convolutional maps (B, K, h, w),
* ``nhwc``   channels-last maps (B, h, w, K), e.g. torchvision ``swin_t`` stages,
* ``tokens`` a token sequence (B, T, K) whose last ``h*w`` tokens form the patch grid, after
  ``prefix`` class/distillation tokens, e.g. torchvision ``vit_b_16`` (prefix 1, 14x14 grid).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

#: A grid is accepted when its vertical and horizontal strides differ by at most this factor.
_MAX_STRIDE_RATIO = 1.3


@dataclass(frozen=True)
class Layout:
    """Where the channel axis and the spatial grid live in a layer's output tensor."""

    kind: str  # "nchw", "nhwc" or "tokens"
    height: int
    width: int
    prefix: int = 0  # tokens before the patch grid (tokens layout only)

    @property
    def channel_dim(self) -> int:
        """Index of the channel axis in the raw tensor."""
        return 1 if self.kind == "nchw" else 3 if self.kind == "nhwc" else 2

    def to_spatial(self, raw: torch.Tensor) -> torch.Tensor:
        """View a raw output (or its gradient) as (B, K, h, w)."""
        if self.kind == "nchw":
            return raw
        if self.kind == "nhwc":
            return raw.permute(0, 3, 1, 2)
        grid = raw[:, self.prefix:, :]
        return grid.reshape(raw.shape[0], self.height, self.width, raw.shape[2]).permute(0, 3, 1, 2)

    def ablated_copies(self, raw_one: torch.Tensor, channels: torch.Tensor) -> torch.Tensor:
        """Copies of a one-sample raw output, copy ``i`` with channel ``channels[i]`` set to zero on the grid."""
        copies = raw_one.expand(len(channels), *raw_one.shape[1:]).clone()
        rows = torch.arange(len(channels), device=raw_one.device)
        channels = channels.to(raw_one.device)
        if self.kind == "nchw":
            copies[rows, channels] = 0
        elif self.kind == "nhwc":
            copies.permute(0, 3, 1, 2)[rows, channels] = 0
        else:
            copies[:, self.prefix:, :].permute(0, 2, 1)[rows, channels] = 0
        return copies


def _stride_ratio(input_hw: tuple[int, int], grid_hw: tuple[int, int]) -> float:
    """max/min of the vertical and horizontal strides H/h and W/w (1.0 for a perfectly isotropic grid)."""
    (big_h, big_w), (h, w) = input_hw, grid_hw
    sh, sw = big_h / h, big_w / w
    return max(sh, sw) / min(sh, sw)


def detect_layout(shape: tuple[int, ...], input_hw: tuple[int, int]) -> Layout | None:
    """The spatial layout of an output of ``shape`` for an input of size ``input_hw``, or None.

    4-D outputs are channels-first unless channels-last gives strides closer to isotropic
    (``H/h ~ W/w``); 3-D outputs are token grids when ``T - prefix = h*w`` for ``prefix`` in 0..2
    with isotropic strides.  Grids of a single position are not spatial.
    """
    if len(shape) == 4:
        _, a, b, c = shape
        first = _stride_ratio(input_hw, (b, c)) if b > 0 and c > 0 else math.inf
        last = _stride_ratio(input_hw, (a, b)) if a > 0 and b > 0 else math.inf
        if last < first and last <= _MAX_STRIDE_RATIO and a * b > 1:
            return Layout("nhwc", a, b)
        if b * c > 1:
            return Layout("nchw", b, c)
        return None
    if len(shape) == 3:
        _, tokens, _ = shape
        best: tuple[float, Layout] | None = None
        for prefix in (0, 1, 2):
            count = tokens - prefix
            if count < 2:
                continue
            big_h, big_w = input_hw
            w = max(1, round(math.sqrt(count * big_w / big_h)))
            for width in (w - 1, w, w + 1):
                if width < 1 or count % width:
                    continue
                height = count // width
                ratio = _stride_ratio(input_hw, (height, width))
                if ratio <= _MAX_STRIDE_RATIO and (best is None or ratio < best[0] - 1e-9):
                    best = (ratio, Layout("tokens", height, width, prefix))
        return None if best is None else best[1]
    return None
