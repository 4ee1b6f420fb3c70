"""Small models, images and transforms shared by the CAMExplorer widget tests (imported by name,
so test modules need no `from conftest import`, which is ambiguous when several test folders
with a conftest.py are collected together)."""
from __future__ import annotations

import time

import numpy as np


class CamTinyNet(__import__("torch").nn.Module):
    """Two conv layers, global average pooling and a linear head (CAM applies at `features.3`).

    `slow_batch_s` sleeps in every batched forward (B > 1): the perturbation methods (Score-CAM)
    run batches, so a test can make them slow enough to watch progress and cancel them.
    """

    def __init__(self, classes: int = 5, slow_batch_s: float = 0.0):
        import torch
        from torch import nn

        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU()
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, classes)
        self.slow_batch_s = slow_batch_s

    def forward(self, x):
        if self.slow_batch_s and x.shape[0] > 1:
            time.sleep(self.slow_batch_s)
        return self.fc(self.pool(self.features(x)).flatten(1))


def cam_transform_32():
    """Resize to 40 px, centre-crop 32 px, to tensor: the photo shown must be the 32 px crop."""
    from torchvision import transforms

    return transforms.Compose([transforms.Resize(40), transforms.CenterCrop(32), transforms.ToTensor()])


def cam_test_images():
    """Two deterministic 48x64 RGB photos: a bright square on dark, and a diagonal gradient."""
    a = np.zeros((48, 64, 3), np.uint8)
    a[10:30, 20:44] = (230, 200, 40)
    yy, xx = np.mgrid[0:48, 0:64]
    b = np.stack([(xx * 4) % 256, (yy * 5) % 256, ((xx + yy) * 2) % 256], axis=-1).astype(np.uint8)
    return [a, b]
