"""Shared tiny models and helpers for the CAM engine tests."""
from __future__ import annotations

import os

import pytest
import torch
from torch import nn


# Two threads by default; NBVIZ_TEST_THREADS sets another count (`make test` runs these with 1 too).
torch.set_num_threads(int(os.environ.get("NBVIZ_TEST_THREADS", "2")))


class LinearHeadNet(nn.Module):
    """x (B, 1, h, w) -> conv1x1 to K channels (layer 'features') -> GAP -> Linear (C classes).

    Linear in the features, so dy_c/dA_kij = W_ck / (h w) exactly: every map has a closed form.
    """

    def __init__(self, conv_w, conv_b, fc_w, fc_b):
        super().__init__()
        k = len(conv_w)
        self.features = nn.Conv2d(1, k, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(k, len(fc_w))
        with torch.no_grad():
            self.features.weight.copy_(torch.tensor(conv_w, dtype=torch.float32).view(k, 1, 1, 1))
            self.features.bias.copy_(torch.tensor(conv_b, dtype=torch.float32))
            self.fc.weight.copy_(torch.tensor(fc_w, dtype=torch.float32))
            self.fc.bias.copy_(torch.tensor(fc_b, dtype=torch.float32))

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.features(x))))


@pytest.fixture
def linear_net() -> LinearHeadNet:
    return LinearHeadNet(conv_w=[1.0, -0.5, 2.0], conv_b=[0.1, 0.3, -0.2],
                         fc_w=[[0.5, -1.0, 0.25], [-0.3, 0.2, 1.5]], fc_b=[0.05, -0.1])


@pytest.fixture
def image4() -> torch.Tensor:
    """A fixed 1x1x4x4 image with distinct values."""
    return torch.tensor([[0.9, 0.1, -0.4, 0.3],
                         [0.2, -0.7, 0.8, 0.0],
                         [-0.2, 0.6, 0.5, -0.9],
                         [0.4, -0.1, 0.7, 0.15]]).view(1, 1, 4, 4)


@pytest.fixture(scope="module")
def lite0_chelsea():
    """The embedded pretrained EfficientNet-Lite0 and the "chelsea" photo as a (1, 3, 224, 224) batch."""
    from nbviz.data import load_pretrained, sample_image

    model, transform, _ = load_pretrained()
    return model, transform(sample_image("chelsea"))[None]
