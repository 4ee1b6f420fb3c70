"""A run that cannot fit in memory fails at once, naming the memory it needs and what it has."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nbviz.tsne import TSNE, TSNEError
from nbviz.tsne import memory


def test_the_estimate_counts_pairs_and_the_hnsw_index():
    exact = memory.estimated_peak_bytes(1_000_000, 50, 90, approximate=False)
    assert exact == 1_000_000 * 90 * memory.PAIR_BYTES + (64 << 20)  # 18 GB: a million points at perplexity 30
    approx = memory.estimated_peak_bytes(1_000_000, 50, 90, approximate=True)
    assert approx - exact == 1_000_000 * (4 * 50 + 16 * 32)


def test_a_run_larger_than_free_memory_fails_before_any_work(monkeypatch):
    monkeypatch.setattr(memory, "free_bytes", lambda device: 50 << 20)  # 50 MiB free
    searched = []
    monkeypatch.setattr("nbviz.tsne.optimizer.nearest_neighbors", lambda *a, **k: searched.append(1))
    X = np.random.default_rng(0).normal(size=(3000, 20)).astype(np.float32)
    with pytest.raises(TSNEError, match=r"needs about 0\.1 GiB .*3,000 points x 90 neighbours.* 0\.0 GiB free; lower the perplexity"):
        TSNE(random_state=0).fit(X)
    assert not searched


def test_the_check_can_be_switched_off_and_passes_when_memory_is_there(monkeypatch):
    X = np.random.default_rng(0).normal(size=(300, 5)).astype(np.float32)
    monkeypatch.setattr(memory, "free_bytes", lambda device: 1 << 20)
    monkeypatch.setenv("NBVIZ_TSNE_MEMORY_CHECK", "0")
    assert TSNE(n_iter=5, random_state=0).fit_transform(X).shape == (300, 2)
    monkeypatch.delenv("NBVIZ_TSNE_MEMORY_CHECK")
    monkeypatch.setattr(memory, "free_bytes", lambda device: None)  # unknown: no check
    assert TSNE(n_iter=5, random_state=0).fit_transform(X).shape == (300, 2)


def test_free_memory_of_the_cpu_is_read():
    free = memory.free_bytes(torch.device("cpu"))
    assert free is None or free > 0
