"""TSNEScatter.add_points: new points placed against the fixed layout, then part of the run."""
from __future__ import annotations

import numpy as np
import pytest

from nbviz import TSNEScatter
from nbviz.data import digits
from nbviz.tsne import TSNEError


@pytest.fixture(scope="module")
def data():
    X, y = digits()
    return X, y


@pytest.fixture()
def finished_plot(data):
    X, y = data
    plot = TSNEScatter(X[:600], labels=y[:600], texts=[f"d{i}" for i in range(600)],
                       images=X[:600].reshape(-1, 8, 8), n_iter=500, random_state=0)
    assert plot.wait(60)
    yield plot
    plot.close()


def test_added_points_join_the_plot_and_the_fitted_ones_stay_put(finished_plot, data):
    X, y = data
    plot = finished_plot
    before = plot.embedding.copy()
    names_before = list(plot.label_names)
    new = plot.add_points(X[600:900], labels=y[600:900], texts=[f"n{i}" for i in range(300)],
                          images=X[600:900].reshape(-1, 8, 8))
    assert new == range(600, 900)
    assert plot.wait(60) and plot.status == "finished"
    layout = plot.embedding
    assert layout.shape == (900, 2) and plot.n_points == 900
    np.testing.assert_array_equal(layout[:600], before)
    np.testing.assert_array_equal(np.frombuffer(plot.positions, dtype="<f4").reshape(900, 2), layout)
    codes = np.frombuffer(plot.label_codes, dtype="<u2")
    assert plot.label_names == names_before  # every digit was there already
    np.testing.assert_array_equal(np.array(plot.label_names)[codes].astype(int), y[:900])
    assert plot.texts[600] == "n0" and len(plot.texts) == 900
    assert len(plot.thumbnails) == 900 * 8 * 8 * 4
    assert len(plot.pca_positions) == 900 * 2 * 4
    assert plot.keyframe_iterations == [plot.iteration]  # the replay starts at the addition
    assert "added 300 points" in plot.notice
    # The placement is the engine's (TSNE.transform's) against the fitted layout.
    import torch

    from nbviz.tsne.transform import place_points

    expected = place_points(torch.from_numpy(X[:600]), torch.from_numpy(before), torch.from_numpy(X[600:900]))
    np.testing.assert_array_equal(layout[600:], expected.numpy())
    # Placed where their class is: 10-NN vote among the fitted points.
    d = ((layout[600:, None] - before[None]) ** 2).sum(-1)
    votes = np.array([np.bincount(row, minlength=10).argmax() for row in y[:600][np.argsort(d, 1)[:, :10]]])
    assert (votes == y[600:900]).mean() >= 0.9
    # Neighbour queries now see all 900 points.
    found, _ = plot.neighbors_of(650, k=5)
    assert found.max() < 900 and plot.optimizer.n_points == 900


def test_continuing_after_add_points_optimises_all_points(finished_plot, data):
    X, y = data
    plot = finished_plot
    plot.add_points(X[600:700], labels=y[600:700], texts=["x"] * 100, images=X[600:700].reshape(-1, 8, 8))
    plot.wait(60)
    iteration, placed = plot.iteration, plot.embedding
    plot.start()
    assert plot.wait(60)
    assert plot.iteration == iteration + TSNEScatter.EXTRA_ITERATIONS
    assert np.abs(plot.embedding[600:] - placed[600:]).max() > 0


def test_new_label_values_join_the_legend(data):
    X, _ = data
    plot = TSNEScatter(X[:200], labels=["a"] * 100 + ["b"] * 100, n_iter=50, random_state=0)
    plot.wait(60)
    plot.add_points(X[200:210], labels=["b"] * 5 + ["c"] * 5, n_iter=20)
    plot.wait(60)
    assert plot.label_names == ["a", "b", "c"]
    assert np.frombuffer(plot.label_codes, dtype="<u2")[200:].tolist() == [1] * 5 + [2] * 5
    plot.close()


@pytest.mark.parametrize("kwargs, message", [
    (dict(X_new=np.zeros((3, 10))), "X_new has 10 columns but the plot was made from 64"),
    (dict(labels=None), "this plot has labels for every point: pass labels= for the new points too"),
    (dict(texts=["a", "b"]), "texts must give one string per point \\(3\\), got 2"),
    (dict(images=np.zeros((3, 5, 5))), None),
    (dict(color=[1.0, 2.0, 3.0]), "this plot was made without color="),
    (dict(perplexity=-1), "perplexity must be"),
    (dict(n_neighbours=3), "unknown placement setting"),
])
def test_bad_add_points_changes_nothing(finished_plot, data, kwargs, message):
    X, y = data
    plot = finished_plot
    args = dict(X_new=X[600:603], labels=y[600:603], texts=["a", "b", "c"], images=X[600:603].reshape(-1, 8, 8))
    args.update(kwargs)
    state = {name: getattr(plot, name) for name in ("n_points", "label_codes", "texts", "thumbnails", "positions")}
    if message is None:  # other-sized images are resized to the plot's thumbnails: accepted
        plot.add_points(**args)
        plot.wait(60)
        assert plot.n_points == 603 and len(plot.thumbnails) == 603 * 8 * 8 * 4
        return
    with pytest.raises((TSNEError, ValueError), match=message):
        plot.add_points(**args)
    assert {name: getattr(plot, name) for name in state} == state
    assert plot.optimizer.n_points == 600


def test_a_failure_while_placing_puts_the_plot_back(finished_plot, data, monkeypatch):
    X, y = data
    plot = finished_plot
    state = {name: getattr(plot, name) for name in ("n_points", "label_codes", "texts", "positions", "pca_positions")}

    def broken(*_args, **_kwargs):
        raise TSNEError("P could not be rebuilt (a stand-in failure)")

    monkeypatch.setattr(plot.optimizer, "admit", broken)
    plot.add_points(X[600:610], labels=y[600:610], texts=["t"] * 10, images=X[600:610].reshape(-1, 8, 8))
    plot.wait(60)
    assert "P could not be rebuilt" in plot.error
    assert {name: getattr(plot, name) for name in state} == state
    assert plot.optimizer.n_points == 600 and plot.embedding.shape == (600, 2)
