"""The status line says what a live setting change did: "recomputing affinities…", then
"perplexity 20 · continuing 250 iterations", cleared when the run finishes (issue 16 item 10).

Without a kernel event loop the widget's trait writes happen at once, in order, so an observer
sees every text the front end would be sent.
"""
from __future__ import annotations

import re
import threading

import pytest

from nbviz.widgets.tsne_scatter import RECOMPUTING_AFFINITIES, TSNEScatter, setting_text


def make_widget(data, **options):
    X, y = data
    params = dict(labels=y, random_state=0, autostart=False, n_iter=60, early_exaggeration_iter=20)
    params.update(options)
    return TSNEScatter(X, **params)


class ActivityLog:
    """Every value the `activity` trait takes, from any thread."""

    def __init__(self, widget):
        self.values: list[str] = []
        self.lock = threading.Lock()
        widget.observe(self.record, "activity")

    def record(self, change):
        with self.lock:
            self.values.append(change["new"])

    def snapshot(self) -> list[str]:
        with self.lock:
            return list(self.values)


def test_a_new_perplexity_after_the_run_finished(tsne_digits_small):
    widget = make_widget(tsne_digits_small)
    try:
        widget.start()
        assert widget.wait(timeout=60)
        log = ActivityLog(widget)
        widget.perplexity = 20.0
        extended = 60 + TSNEScatter.EXTRA_ITERATIONS
        assert widget.n_iter == extended
        assert widget.wait(timeout=60) and widget.iteration == extended
        assert log.snapshot() == [RECOMPUTING_AFFINITIES, "perplexity 20 · continuing 250 iterations", ""]
        assert widget.activity == "" and widget.status == "finished"
    finally:
        widget.close()


def test_a_new_perplexity_mid_run_names_the_iterations_left(tsne_digits_small, tsne_slow_client, tsne_wait):
    widget = make_widget(tsne_digits_small, n_iter=400)
    tsne_slow_client(widget, delay_s=0.02)  # a slow browser keeps the run going while we watch
    try:
        widget.start()
        assert tsne_wait(lambda: widget.iteration >= 10 and widget.status == "running", timeout=30)
        log = ActivityLog(widget)
        widget.perplexity = 20.0
        assert tsne_wait(lambda: len(log.snapshot()) >= 2, timeout=30)
        first, second = log.snapshot()[:2]
        assert first == RECOMPUTING_AFFINITIES
        left = int(re.fullmatch(r"perplexity 20 · continuing (\d+) iterations", second).group(1))
        assert 0 < left <= 400 - 10  # the run's own end, not extended
        assert widget.n_iter == 400
        widget.pause()
        assert tsne_wait(lambda: widget.status == "paused", timeout=30)
        widget.exaggeration = 4.0
        assert tsne_wait(lambda: log.snapshot()[-1].startswith("exaggeration"), timeout=30)
        assert log.snapshot()[-1] == "exaggeration ×4 · applies from the next iteration"
        widget.restart()
        assert tsne_wait(lambda: widget.activity == "", timeout=30)
    finally:
        widget.close()


def test_a_rejected_value_clears_the_activity(tsne_digits_small):
    widget = make_widget(tsne_digits_small)
    try:
        widget.start()
        assert widget.wait(timeout=60)
        widget.learning_rate = 50.0
        assert widget.activity == "learning rate 50 · continuing 250 iterations"
        assert widget.wait(timeout=60) and widget.activity == ""
        widget.exaggeration = -2.0
        assert "was not applied" in widget.error and widget.activity == ""
    finally:
        widget.close()


@pytest.mark.parametrize(("trait", "value", "text"), [
    ("perplexity", 50.0, "perplexity 50"),
    ("perplexity", 33.333, "perplexity 33.333"),
    ("exaggeration", 4.5, "exaggeration ×4.5"),
    ("learning_rate", 200.0, "learning rate 200"),
    ("learning_rate", 0.0, "learning rate auto"),
])
def test_setting_text(trait, value, text):
    assert setting_text(trait, value) == text
