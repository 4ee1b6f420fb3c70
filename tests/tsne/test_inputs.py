"""Bad input and edge cases: clear TSNEErrors, small N, duplicates, dtypes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nbviz.tsne import TSNE, TSNEError, as_matrix


def test_errors_are_value_errors():
    assert issubclass(TSNEError, ValueError)


def test_nan_and_inf_rows_are_counted():
    X = np.random.default_rng(0).normal(size=(50, 4))
    X[3, 1] = np.nan
    X[7] = np.inf
    X[9, 0] = -np.inf
    with pytest.raises(TSNEError, match=r"3 row\(s\).*first at row 3.*remove or impute"):
        TSNE().fit_transform(X)


@pytest.mark.parametrize("bad, message", [
    (np.zeros(10), "must be 2-D.*reshape"),
    (np.zeros((2, 3, 4)), "must be 2-D"),
    (np.zeros((0, 3)), "no rows"),
    (np.zeros((5, 0)), "no columns"),
    (np.array([["a", "b"]]), "real numbers"),
    (np.zeros((4, 2), dtype=complex), "complex"),
    (torch.nn.Linear(2, 2), "module"),
])
def test_malformed_input(bad, message):
    with pytest.raises(TSNEError, match=message):
        as_matrix(bad)


def test_accepted_input_types():
    weights = torch.randn(20, 3, dtype=torch.float64)
    embedding = torch.nn.Embedding(20, 3)
    assert as_matrix(weights).dtype == torch.float64
    assert torch.equal(as_matrix(embedding), embedding.weight.detach())
    assert not as_matrix(embedding).requires_grad
    assert as_matrix(np.ones((4, 2), dtype=np.float16)).dtype == torch.float32
    assert as_matrix(np.ones((4, 2), dtype=np.int64)).dtype == torch.float32
    assert as_matrix([[1, 2], [3, 4]]).shape == (2, 2)


@pytest.mark.parametrize("kwargs, message", [
    ({"perplexity": -1}, "perplexity"),
    ({"perplexity": float("nan")}, "perplexity"),
    ({"n_iter": -5}, "n_iter"),
    ({"learning_rate": "fast"}, "learning_rate"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"method": "bh"}, "method"),
    ({"method": "fft", "n_components": 1}, "2-D and 3-D only"),
    ({"init": "spectral"}, "init"),
    ({"random_state": 1.5}, "random_state"),
    ({"early_exaggeration": 0}, "early_exaggeration"),
    ({"neighbors": "annoy"}, "neighbors"),
])
def test_bad_settings(kwargs, message):
    with pytest.raises(TSNEError, match=message):
        TSNE(**kwargs)


def test_cuda_request_matches_availability():
    if torch.cuda.is_available():
        assert TSNE(device="cuda", n_iter=5).optimizer(np.eye(5)).device.type == "cuda"
    else:
        with pytest.raises(TSNEError, match="CUDA is not available"):
            TSNE(device="cuda")


def test_bad_init_array_shape():
    with pytest.raises(TSNEError, match=r"shape \(10, 2\)"):
        TSNE(init=np.zeros((9, 2))).optimizer(np.random.default_rng(0).normal(size=(10, 3)))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tiny_inputs_give_finite_layouts(n):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    model = TSNE(n_iter=50, random_state=0)
    with pytest.warns(UserWarning, match="lowered to") if n > 1 else _no_warning():
        Y = model.fit_transform(X)
    assert Y.shape == (n, 2) and np.all(np.isfinite(Y))
    if n == 1:
        assert np.all(Y == 0)
    else:
        assert np.linalg.norm(Y[0] - Y[1]) > 0, "two distinct points must not collapse"
    assert np.isfinite(model.kl_divergence_)


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_small_n_lowers_perplexity_with_the_new_value():
    X = np.random.default_rng(1).normal(size=(40, 5))
    with pytest.warns(UserWarning, match=r"perplexity 30 needs 3 \* perplexity < N = 40 points; lowered to 13"):
        run = TSNE(random_state=0).optimizer(X)
    assert run.perplexity == pytest.approx(13.0)
    assert run.affinities.table.shape[1] >= 1


def test_duplicate_rows_work():
    rng = np.random.default_rng(2)
    base = rng.normal(size=(30, 6))
    X = np.concatenate([base, base, base[:10]])  # 70 rows, every point duplicated at least once
    model = TSNE(perplexity=10, n_iter=300, random_state=0)
    Y = model.fit_transform(X)
    assert np.all(np.isfinite(Y))
    # copies of the same point end up much closer to each other than to a typical other point
    twin = np.linalg.norm(Y[:30] - Y[30:60], axis=1)
    typical = np.median(np.linalg.norm(Y[:30, None] - Y[None, :30], axis=-1))
    assert np.median(twin) < 0.2 * typical


def test_all_identical_rows_do_not_crash():
    Y = TSNE(n_iter=30, random_state=0, perplexity=5).fit_transform(np.ones((25, 4)))
    assert np.all(np.isfinite(Y))


def test_float16_float64_and_torch_inputs_agree():
    X = np.random.default_rng(3).normal(size=(60, 5)).astype(np.float16)
    runs = [TSNE(perplexity=10, n_iter=40, random_state=0).fit_transform(x) for x in (X, X.astype(np.float32), torch.from_numpy(X.astype(np.float32)))]
    np.testing.assert_array_equal(runs[1], runs[2])
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-5, atol=1e-6)
