"""Progress of TSNE.fit (a tqdm.auto bar: iteration, KL, phase) and when a bar is shown at all."""
from __future__ import annotations

import re

import pytest
import torch

from nbviz import progress as progress_module
from nbviz.progress import ProgressBar
from nbviz.tsne import TSNE, TSNEError
from nbviz.tsne.optimizer import PHASE_EARLY, PHASE_MAIN, Frame
from nbviz.tsne.progress import FitProgress, phase_label

QUICK = dict(n_iter=40, early_exaggeration_iter=10, perplexity=5, random_state=0, device="cpu")


def test_verbose_fit_shows_iterations_final_kl_and_phase(digits, capsys):
    model = TSNE(verbose=True, **QUICK).fit(digits[0][:100])
    err = capsys.readouterr().err
    assert "t-SNE" in err and "40/40" in err
    final = err.rstrip().splitlines()[-1].split("\r")[-1]
    assert f"KL={model.kl_divergence_:.4f}, phase=done" in final


def test_silent_and_auto_outside_a_notebook_print_nothing(digits, capsys):
    TSNE(verbose=False, **QUICK).fit(digits[0][:60])
    TSNE(verbose="auto", **QUICK).fit(digits[0][:60])
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("threshold_s, shown", [(0.0, True), (1e9, False)])
def test_auto_in_a_notebook_shows_a_bar_only_for_a_slow_fit(digits, capsys, monkeypatch, threshold_s, shown):
    monkeypatch.setattr(progress_module, "in_notebook", lambda: True)
    monkeypatch.setattr(progress_module, "AUTO_AFTER_S", threshold_s)
    TSNE(**QUICK).fit(digits[0][:60])
    assert ("40/40" in capsys.readouterr().err) is shown


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize("elapsed, opens_at", [
    ([1.0] * 10, 1),                    # 1 s after step 1 of 10: predicts 10 s > 3 s
    ([2.0 + 0.01 * d for d in range(1, 11)], 1),   # a slow set-up counts: 2.01 s * 10 = 20 s
    ([0.1, 0.2, 1.2, 1.3], 3),          # predictions 1 s, 1 s, then 1.2 / 3 * 10 = 4 s
    ([0.1 * d for d in range(1, 11)], None),       # 0.1 s per step: predicts 1 s, never shown
])
def test_auto_bar_opens_once_the_predicted_total_passes_the_threshold(monkeypatch, elapsed, opens_at):
    monkeypatch.setattr(progress_module, "in_notebook", lambda: True)
    monkeypatch.setattr(progress_module, "AUTO_AFTER_S", 3.0)
    clock = _Clock()
    bar = ProgressBar(10, "auto", "test", clock=clock)
    opened = None
    for done, now in enumerate(elapsed, start=1):
        clock.now = now
        bar.advance(done)
        if bar.active and opened is None:
            opened = done
            assert bar._bar.n == done  # the bar opens at the step reached, not at 0
    bar.close()
    assert opened == opens_at


def test_kl_is_computed_only_for_a_shown_bar_every_ten_iterations():
    shown, silent = FitProgress(True, 100), FitProgress(False, 100)
    assert [i for i in range(25) if shown.wants_kl(i)] == [0, 10, 20]
    assert not any(silent.wants_kl(i) for i in range(25))
    shown.close()


def test_phase_label_names_the_exaggeration():
    layout = torch.zeros(2, 2)
    assert phase_label(Frame(3, layout, None, 12.0, PHASE_EARLY)) == "early exaggeration x12"
    assert phase_label(Frame(300, layout, None, 1.0, PHASE_MAIN)) == "main"


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_a_bad_verbose_setting_names_the_accepted_values(bad):
    with pytest.raises(TSNEError, match=re.escape(f"verbose must be True, False or 'auto', got {bad!r}")):
        TSNE(verbose=bad)
