"""What `random_state` changes under each `init`, exactly as `TSNEConfig`'s docstring promises.

"Differ" is measured as ||a - b|| / ||a|| > 0.1: two runs from the same start differ only by
float rounding (relative 1e-6 at most here, whatever the thread count), two runs from independent
starts by about sqrt(2) (two unrelated centred layouts of similar spread), so 0.1 separates them
on any machine. "Identical" is bit-for-bit: the same start goes through the same operations.
"""
from __future__ import annotations

import numpy as np
import pytest

from nbviz.tsne import TSNE
from tsne_testdata import gaussian_blobs

RUN = dict(perplexity=10, n_iter=40, early_exaggeration_iter=20, neighbors="exact")


@pytest.fixture(scope="module")
def data():
    X, _ = gaussian_blobs(150, 8, 4, seed=0)
    return X


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(a))


def fit(X, seed, **options):
    return TSNE(random_state=seed, **RUN, **options).fit_transform(X)


def test_under_pca_every_seed_gives_the_same_layout(data):
    np.testing.assert_array_equal(fit(data, 0), fit(data, 1))


def test_under_an_init_array_every_seed_gives_the_same_layout(data):
    start = np.random.default_rng(3).normal(scale=1e-4, size=(len(data), 2))
    np.testing.assert_array_equal(fit(data, 0, init=start), fit(data, 1, init=start))


def test_under_random_each_seed_draws_its_own_layout_and_repeats_it(data):
    zero, one = fit(data, 0, init="random"), fit(data, 1, init="random")
    assert relative_difference(zero, one) > 0.1
    np.testing.assert_array_equal(zero, fit(data, 0, init="random"))


def test_under_pca_the_seed_fills_the_missing_directions_of_degenerate_data(data):
    """The documented exception: data with one direction of variance need a second start
    coordinate, which comes from the seed."""
    line = np.outer(np.linspace(-1, 1, len(data)), np.ones(8)).astype(np.float32)
    starts = [TSNE(random_state=s, **RUN).optimizer(line).initial_embedding for s in (0, 1)]
    np.testing.assert_array_equal(starts[0][:, 0], starts[1][:, 0])  # the principal direction
    assert relative_difference(starts[0][:, 1], starts[1][:, 1]) > 0.1  # the seeded filler


@pytest.mark.parametrize("init", ["pca", "random", "array"])
def test_restart_with_a_seed_gives_each_seed_its_own_run_under_every_init(data, init):
    start = np.random.default_rng(3).normal(scale=1e-4, size=(len(data), 2)) if init == "array" else init
    layouts = []
    for seed in (0, 1, 0):
        run = TSNE(random_state=0, init=start, **RUN).optimizer(data)
        run.run(10)
        run.restart(random_state=seed)
        run.run(RUN["n_iter"])
        layouts.append(run.embedding.numpy().copy())
    assert relative_difference(layouts[0], layouts[1]) > 0.1
    np.testing.assert_array_equal(layouts[0], layouts[2])


@pytest.mark.parametrize("init", ["pca", "array"])
def test_restart_without_a_seed_repeats_a_pca_or_array_start(data, init):
    start = np.random.default_rng(3).normal(scale=1e-4, size=(len(data), 2)) if init == "array" else init
    run = TSNE(random_state=0, init=start, **RUN).optimizer(data)
    first = run.initial_embedding
    run.run(10)
    run.restart()
    np.testing.assert_array_equal(run.initial_embedding, first)


def test_restart_without_a_seed_draws_fresh_noise_under_random(data):
    run = TSNE(random_state=0, init="random", **RUN).optimizer(data)
    first = run.initial_embedding
    run.restart()
    assert relative_difference(first, run.initial_embedding) > 0.1
