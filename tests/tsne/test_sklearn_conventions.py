"""TSNE follows scikit-learn's estimator conventions: params, clone, Pipeline, and the applicable
part of sklearn.utils.estimator_checks."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from nbviz.tsne import TSNE, TSNEError
from nbviz.tsne.estimator_base import ParamsMixin

# Short runs keep the ~46 checks at a few seconds in all; the checks only need a working fit.
QUICK = dict(n_iter=30, early_exaggeration_iter=10, perplexity=5, random_state=0, device="cpu", verbose=False)

# The checks that do not apply to TSNE, each with the reason.
NOT_APPLICABLE = {
    "check_do_not_raise_errors_in_init_or_set_params":
        "TSNE validates its settings when it is made (a typo fails where it was written); "
        "set_params does not validate, fit does",
    "check_dtype_object":
        "an object array holding a non-number raises TSNEError (a ValueError naming the entry), not TypeError",
    "check_transformer_general":
        "transform places new points against the fixed fitted layout (openTSNE's transform); "
        "it does not reproduce fit_transform's layout of the training points",
    "check_n_features_in_after_fitting":
        "transform refuses another feature count with TSNEError in nbviz's words (both counts and the fix, "
        "tests/tsne/test_transform.py), not scikit-learn's exact sentence",
    "check_transformer_data_not_an_array": "the same fit_transform / transform comparison as check_transformer_general",
}


@parametrize_with_checks([TSNE(**QUICK)], expected_failed_checks=lambda estimator: NOT_APPLICABLE)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_get_params_lists_every_setting_and_set_params_changes_them():
    model = TSNE(perplexity=12, random_state=3)
    params = model.get_params()
    assert params["perplexity"] == 12 and params["random_state"] == 3 and params["verbose"] == "auto"
    assert set(params) == {"n_components", "perplexity", "n_iter", "early_exaggeration", "early_exaggeration_iter",
                           "learning_rate", "init", "random_state", "device", "method", "neighbors", "verbose"}
    assert model.set_params(perplexity=20, n_iter=5) is model
    assert (model.perplexity, model.n_iter) == (20, 5)
    with pytest.raises(ValueError, match="perplex"):
        model.set_params(perplex=3)
    # A bad value set later is refused when the settings are used, with the setting's name.
    model.set_params(perplexity=-1)
    with pytest.raises(TSNEError, match="perplexity must be a positive"):
        model.fit(np.random.default_rng(0).normal(size=(20, 3)))


def test_clone_copies_settings_not_results(digits):
    X = digits[0][:120]
    fitted = TSNE(**QUICK).fit(X)
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "embedding_")
    np.testing.assert_array_equal(copy.fit(X).embedding_, fitted.embedding_)


def test_fit_returns_self_with_the_fitted_attributes(digits):
    X = digits[0][:150]
    model = TSNE(**QUICK)
    assert model.fit(X) is model
    assert model.embedding_.shape == (150, 2) and model.n_iter_ == 30 and model.n_features_in_ == 64
    assert model.neighbors_.shape == (150, 15)  # k = 3 * perplexity
    assert np.isfinite(model.kl_divergence_) and model.kl_divergence_ > 0


def test_pipeline_after_standard_scaler_and_pca_equals_the_steps_by_hand(digits):
    X = digits[0][:200]
    pipeline = Pipeline([("scale", StandardScaler()), ("pca", PCA(n_components=10, random_state=0)),
                         ("tsne", TSNE(**QUICK))])
    through_pipeline = pipeline.fit_transform(X)
    reduced = PCA(n_components=10, random_state=0).fit_transform(StandardScaler().fit_transform(X))
    by_hand = TSNE(**QUICK).fit_transform(reduced)
    assert pipeline.named_steps["tsne"].n_features_in_ == 10
    # The same operations on the same numbers in one process: the layouts agree exactly.
    np.testing.assert_array_equal(through_pipeline, by_hand)
    pipeline.set_params(tsne__perplexity=8)
    assert pipeline.named_steps["tsne"].perplexity == 8


class _PlainTSNE(ParamsMixin, TSNE):
    """TSNE on the fallback base (what an install without scikit-learn gets)."""


def test_fallback_base_mirrors_the_params_contract():
    model = _PlainTSNE(perplexity=7, n_iter=40)
    assert type(model).get_params is ParamsMixin.get_params
    assert model.get_params() == TSNE(perplexity=7, n_iter=40).get_params()
    assert model.set_params(n_iter=50) is model and model.n_iter == 50
    with pytest.raises(ValueError, match="Invalid parameter 'perplex'.*valid parameters are"):
        model.set_params(perplex=3)
    assert repr(model) == "_PlainTSNE(n_iter=50, perplexity=7)"
    copy = clone(model)  # scikit-learn's clone needs only get_params and the constructor
    assert type(copy) is _PlainTSNE and copy.get_params() == model.get_params()
