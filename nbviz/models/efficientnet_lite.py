"""EfficientNet-Lite0 (Tan & Le 2019, "Lite" variant): MBConv blocks, ReLU6, no squeeze-excite.

Written here rather than taken from the `efficientnet-lite-pytorch` package because that package
fixes its "same" padding to one input size at construction, is unmaintained since 2020, and names
its modules `_blocks.N._bn1`. Ours pads like TensorFlow's "SAME" for any input size, uses
out-of-place activations (safe for backward hooks), and has readable module names for the CAM
layer list (`blocks.15`, `head`). `load_state_dict_from_reference` maps the published weights.
"""
from __future__ import annotations

import math
from collections import OrderedDict
import re

import torch
from torch import nn
from torch.nn import functional as F

# One row per stage: (repeats, kernel, first stride, expand ratio, output channels).
LITE0_STAGES = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
BN_EPS = 1e-3  # the TensorFlow training default the weights were trained with


class SamePadConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding computed from the actual input size.

    Output size o = ceil(i / s); total padding p = max((o - 1) s + k - i, 0), split with the
    extra pixel at the bottom/right: (floor(p / 2), p - floor(p / 2)).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, kernel, stride in zip(x.shape[-1:-3:-1], self.kernel_size[::-1], self.stride[::-1]):
            total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
            pads += [total // 2, total - total // 2]
        if any(pads):
            x = F.pad(x, pads)
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class ConvBN(nn.Sequential):
    """Convolution, batch norm and (optionally) ReLU6: y = relu6(BN(conv(x)))."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, act: bool = True):
        layers = [
            ("conv", SamePadConv2d(cin, cout, kernel, stride, groups=groups, bias=False)),
            ("bn", nn.BatchNorm2d(cout, eps=BN_EPS)),
        ]
        if act:
            layers.append(("act", nn.ReLU6()))
        super().__init__(OrderedDict(layers))


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, k x k depthwise, 1x1 project; y = x + f(x) when shapes match."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        self.expand = ConvBN(cin, hidden, 1) if expand != 1 else nn.Identity()
        self.depthwise = ConvBN(hidden, hidden, kernel, stride, groups=hidden)
        self.project = ConvBN(hidden, cout, 1, act=False)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.depthwise(self.expand(x)))
        return x + y if self.residual else y


class EfficientNetLite(nn.Module):
    """stem -> blocks.0..15 -> head (1x1 conv to 1280) -> global average pool -> classifier."""

    def __init__(self, stages=LITE0_STAGES, num_classes: int = 1000, dropout: float = 0.2):
        super().__init__()
        self.stem = ConvBN(3, STEM_CHANNELS, 3, stride=2)
        blocks, cin = [], STEM_CHANNELS
        for repeats, kernel, stride, expand, cout in stages:
            for index in range(repeats):
                blocks.append(MBConv(cin, cout, kernel, stride if index == 0 else 1, expand))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head = ConvBN(cin, HEAD_CHANNELS, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(HEAD_CHANNELS, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.head(self.blocks(self.stem(x)))
        return self.classifier(self.dropout(torch.flatten(self.pool(features), 1)))

    def load_state_dict_from_reference(self, state: dict[str, torch.Tensor]) -> None:
        """Load weights published with the reference naming (`_blocks.3._bn1.weight`, ...)."""
        self.load_state_dict({_rename_reference_key(key): value for key, value in state.items()})


_BLOCK_PARTS = {
    "_expand_conv": "expand.conv", "_bn0": "expand.bn",
    "_depthwise_conv": "depthwise.conv", "_bn1": "depthwise.bn",
    "_project_conv": "project.conv", "_bn2": "project.bn",
}
_TOP_PARTS = {"_conv_stem": "stem.conv", "_bn0": "stem.bn", "_conv_head": "head.conv", "_bn1": "head.bn", "_fc": "classifier"}


def _rename_reference_key(key: str) -> str:
    block = re.match(r"_blocks\.(\d+)\.(\w+)\.(.+)", key)
    if block:
        index, part, rest = block.groups()
        return f"blocks.{index}.{_BLOCK_PARTS[part]}.{rest}"
    part, rest = key.split(".", 1)
    return f"{_TOP_PARTS[part]}.{rest}"


def efficientnet_lite0(num_classes: int = 1000) -> EfficientNetLite:
    """An untrained EfficientNet-Lite0 (4.65 M parameters)."""
    return EfficientNetLite(LITE0_STAGES, num_classes=num_classes)
