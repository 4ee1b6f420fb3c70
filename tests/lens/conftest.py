"""Fixtures for the lens tests: the embedded digits example (a trained CNN and held-out digits)."""
from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(scope="session")
def digits_example():
    """nbviz.data.digits_example(): DigitsCNN trained on 70% of the digits, the other 539 held out."""
    from nbviz.data import digits_example

    return digits_example()


def gray_transform(image):
    """PIL image -> (1, 8, 8) intensities in [0, 1] (the digits model's input)."""
    return torch.from_numpy(np.asarray(image.convert("L"), dtype=np.float32) / 255.0)[None]


@pytest.fixture
def gray():
    return gray_transform
