"""TSNEScatter.restart(random_state=s): each seed its own run, one seed the same run, as documented."""
from __future__ import annotations

import numpy as np

from nbviz.widgets.tsne_scatter import TSNEScatter


def finished_layout_after_restart(widget, seed, wait):
    widget.restart(random_state=seed)
    assert wait(lambda: widget.status == "finished" and widget.iteration == 60, timeout=60)
    return widget.embedding


def test_restart_seeds_under_the_default_pca_init(tsne_digits_small, tsne_slow_client, tsne_wait):
    X, y = tsne_digits_small
    widget = TSNEScatter(X, labels=y, random_state=0, autostart=False, n_iter=60, early_exaggeration_iter=20)
    tsne_slow_client(widget, delay_s=0.0)
    try:
        zero, one, zero_again = (finished_layout_after_restart(widget, s, tsne_wait) for s in (0, 1, 0))
        # Independent starts end about sqrt(2) apart relative to the layout; rounding alone, 1e-6.
        assert np.linalg.norm(zero - one) / np.linalg.norm(zero) > 0.1
        np.testing.assert_array_equal(zero, zero_again)
    finally:
        widget.close()
