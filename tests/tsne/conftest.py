"""Shared data for the t-SNE engine tests."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session")
def digits():
    from nbviz.data import digits as load

    X, y = load()
    return X, y


@pytest.fixture(autouse=True)
def _fixed_torch_seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """One intra-op thread: on a shared 2-core runner, two threads that wait on each other at
    every op are several times slower than one (measured); restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
