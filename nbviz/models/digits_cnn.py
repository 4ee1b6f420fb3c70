"""A small CNN for scikit-learn's 8x8 handwritten digits, trained on the CPU in about two seconds.

Input: (B, 1, 8, 8) intensities in [0, 1]. Three 3x3 convolutions (padding 1) keep the 8x8 grid, so
class-activation maps at `features.5` (the last ReLU) are 8x8, one cell per pixel of the digit.
Global average pooling and a linear head follow, so every CAM method applies, the original CAM too.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


class DigitsCNN(nn.Module):
    """conv 16 -> ReLU -> conv 32 -> ReLU -> conv 32 -> ReLU -> mean over the 8x8 grid -> linear."""

    def __init__(self, n_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(32, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 8, 8) images -> (B, n_classes) logits."""
        return self.classifier(self.pool(self.features(x)).flatten(1))


def train_digits_cnn(
    images: np.ndarray, labels: np.ndarray, *, epochs: int = 10, batch_size: int = 64, seed: int = 0
) -> DigitsCNN:
    """A DigitsCNN fitted to (N, 8, 8) images in [0, 1] and their labels: Adam (lr 1e-2) on the
    cross-entropy, minibatches shuffled by a generator seeded with `seed`, weights initialised under
    the same seed, on one CPU thread (so the sums, and the model, do not depend on the thread count;
    on a busy 2-core machine one thread is also ~10x faster than two). Returned in eval mode."""
    if images.ndim != 3 or images.shape[1:] != (8, 8) or len(images) != len(labels):
        raise ValueError(f"train_digits_cnn needs (N, 8, 8) images and N labels, got {images.shape} and {len(labels)}")
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = DigitsCNN(int(labels.max()) + 1)
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).unsqueeze(1)
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model.train()
        for _ in range(epochs):
            order = torch.randperm(len(x), generator=generator)
            for start in range(0, len(x), batch_size):
                batch = order[start:start + batch_size]
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
                optimizer.step()
    finally:
        torch.set_num_threads(threads)
    return model.eval()
