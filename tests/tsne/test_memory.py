"""A run that cannot fit in memory fails at once, naming the memory it needs and what it has."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nbviz.tsne import TSNE, TSNEError
from nbviz.tsne import memory


def test_the_estimate_is_the_larger_phase_search_or_p():
    n, d, k = 1_000_000, 50, 90
    exact = memory.estimated_peak_bytes(n, d, k, approximate=False)
    assert exact == n * k * memory.PAIR_BYTES + memory.FIXED_BYTES  # building P outweighs an exact search
    assert exact < 4e9, "a million points at perplexity 30 fit in 4 GB"
    approx = memory.estimated_peak_bytes(n, d, k, approximate=True)
    inverted_lists = n * (4 * d + 16 * k + 4 * 128 + 14 * 16)  # list-ordered copy, reservoirs, probes, grouping
    search = n * (4 * d + k * memory.SEARCH_PAIR_BYTES) + inverted_lists
    assert inverted_lists > n * (8 * d + 16 * memory.HNSW_DEGREE), "at 50 dimensions the inverted lists hold more than HNSW"
    assert approx == max(search, n * k * memory.PAIR_BYTES) + memory.FIXED_BYTES
    assert approx < 4e9, "a million points at perplexity 30 fit in 4 GB with either approximate search"
    wide = memory.estimated_peak_bytes(100_000, 20_000, 90, approximate=True)  # a huge index dominates
    assert wide == 100_000 * (4 * 20_000 + 90 * 8) + 100_000 * (8 * 20_000 + 16 * memory.HNSW_DEGREE) + memory.FIXED_BYTES


PEAK_SCRIPT = """
import resource, sys, torch
torch.set_num_threads(1)
from nbviz.tsne.affinities import calibrate_conditional, joint_probabilities
def status(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field))
n, k = int(sys.argv[1]), int(sys.argv[2])
before = status("VmRSS:")
g = torch.Generator().manual_seed(0)
# a kNN-like graph: each point lists k distinct points among the 3k after it (mutual and one-way pairs)
indices = ((torch.arange(n).unsqueeze(1) + 1 + torch.argsort(torch.rand(n, 3 * k, generator=g), dim=1)[:, :k]) % n).int()
sq = torch.rand(n, k, generator=g).sort(dim=1).values
open("/proc/self/clear_refs", "w").write("5")  # restart the peak (VmHWM) from the current size
cond, _ = calibrate_conditional(sq, k / 3, dtype=torch.float32)
del sq
P = joint_probabilities(indices, cond, k / 3, dtype=torch.float32)
print(status("VmHWM:") - before)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux's resettable peak memory")
def test_building_p_stays_within_the_estimate(tmp_path):
    """The real peak of calibrating and symmetrising 200,000 points x 90 neighbours (from the
    search's output to the finished table) stays within N k PAIR_BYTES + FIXED_BYTES."""
    n, k = 200_000, 90
    script = tmp_path / "peak.py"
    script.write_text(PEAK_SCRIPT)
    out = subprocess.run([sys.executable, str(script), str(n), str(k)], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])))
    assert out.returncode == 0, out.stderr
    peak = int(out.stdout.split()[-1])
    budget = n * k * memory.PAIR_BYTES + memory.FIXED_BYTES
    assert peak <= budget, f"building P peaked at {peak / 1e6:.0f} MB, over the {budget / 1e6:.0f} MB estimate"


def test_a_run_larger_than_free_memory_fails_before_any_work(monkeypatch):
    monkeypatch.setattr(memory, "free_bytes", lambda device: 50 << 20)  # 50 MiB free
    searched = []
    monkeypatch.setattr("nbviz.tsne.optimizer.nearest_neighbors", lambda *a, **k: searched.append(1))
    X = np.random.default_rng(0).normal(size=(3000, 20)).astype(np.float32)
    with pytest.raises(TSNEError, match=r"needs about 0\.\d GiB .*3,000 points x 90 neighbours.* 0\.0 GiB free; lower the perplexity"):
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
