"""cam.compute shows a progress bar over the batches of the slow (score-based) methods when asked
(progress=True), in a notebook when a map is slow (progress="auto"), and never for fast methods or
with progress=False; a callable still receives progress(done, total)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from nbviz import progress as progress_module
from nbviz.cam import CAMError, compute


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 4))


X = torch.randn(1, 3, 12, 12, generator=torch.Generator().manual_seed(0))


def _batches() -> int:
    seen = []
    compute(_net(), X, method="scorecam", target=1, layer="1", batch_size=2, progress=lambda d, t: seen.append(t))
    return seen[-1]


def test_a_slow_method_with_progress_true_shows_every_batch(capsys):
    total = _batches()
    assert total == 3  # 6 channels of layer "1", 2 masks per batch
    shown = compute(_net(), X, method="scorecam", target=1, layer="1", batch_size=2, progress=True)
    err = capsys.readouterr().err
    assert "scorecam" in err and f"{total}/{total}" in err and "batch" in err
    # The bar watches, it does not change the map.
    torch.testing.assert_close(shown, compute(_net(), X, method="scorecam", target=1, layer="1", batch_size=2,
                                              progress=None), rtol=0, atol=0)


@pytest.mark.parametrize("method, progress", [("gradcam", True), ("scorecam", False), ("scorecam", "auto")])
def test_no_bar_for_fast_methods_silenced_runs_or_auto_outside_a_notebook(capsys, method, progress):
    options = {"batch_size": 2} if method == "scorecam" else {}
    compute(_net(), X, method=method, target=1, layer="1", progress=progress, **options)
    assert capsys.readouterr().err == ""


def test_auto_in_a_notebook_shows_a_bar_for_a_slow_map(capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "in_notebook", lambda: True)
    monkeypatch.setattr(progress_module, "AUTO_AFTER_S", 0.0)
    compute(_net(), X, method="scorecam", target=1, layer="1", batch_size=2)
    assert "3/3" in capsys.readouterr().err


def test_a_bad_progress_value_names_the_choices():
    with pytest.raises(CAMError, match="progress must be True, False or 'auto', a callable"):
        compute(_net(), X, method="scorecam", target=1, layer="1", progress="yes")
