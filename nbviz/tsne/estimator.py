"""The scikit-learn-style front end: TSNE(...).fit_transform(X), or .optimizer(X) to stream."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .config import TSNEConfig
from .errors import TSNEError
from .estimator_base import EstimatorBase
from .inputs import as_matrix
from .optimizer import TSNEOptimizer
from .progress import FitProgress
from .transform import TransformSettings, place_points


class TSNE(EstimatorBase):
    """t-SNE with openTSNE's defaults, in PyTorch (CUDA when available).

    kNN affinities (k = 3 * perplexity) calibrated by bisection, a sparse symmetric P, exact
    or FFT-interpolated repulsion ("auto" picks by N), PCA initialisation scaled to std 1e-4,
    early exaggeration 12 for 250 iterations then 1, learning rate N / exaggeration.
    The settings are those of `TSNEConfig` (validated here, when the object is made); its
    `random_state` entry says what a seed changes under each `init` (under the default "pca",
    nothing: use init="random" for seed-dependent runs).
    After `fit`: `embedding_` (numpy (N, n_components)), `kl_divergence_` (true KL of the final
    layout), `n_iter_`, `perplexity_` (as used), `neighbors_` ((N, k) int64 indices of the
    nearest neighbours P was built from, nearest first) and `n_features_in_`.

    A scikit-learn estimator: `get_params` / `set_params` / `sklearn.base.clone` work, and it
    can end a `Pipeline` (e.g. after `StandardScaler` and `PCA`); `verbose` shows a progress bar
    during `fit` (see `TSNEConfig`).
    """

    def __init__(
        self,
        n_components: int = 2,
        perplexity: float = 30.0,
        n_iter: int = 750,
        early_exaggeration: float = 12.0,
        early_exaggeration_iter: int = 250,
        learning_rate: float | str = "auto",
        init: str | np.ndarray | torch.Tensor = "pca",
        random_state: int | None = None,
        device: Any = None,
        method: str = "auto",
        neighbors: str = "auto",
        verbose: bool | str = "auto",
    ) -> None:
        self.n_components = n_components
        self.perplexity = perplexity
        self.n_iter = n_iter
        self.early_exaggeration = early_exaggeration
        self.early_exaggeration_iter = early_exaggeration_iter
        self.learning_rate = learning_rate
        self.init = init
        self.random_state = random_state
        self.device = device
        self.method = method
        self.neighbors = neighbors
        self.verbose = verbose
        self.config  # validates the settings now, so a typo fails where it was made

    @property
    def config(self) -> TSNEConfig:
        """The current settings as a validated TSNEConfig."""
        return TSNEConfig(**{name: getattr(self, name) for name in TSNEConfig.names()})

    def optimizer(self, X: Any) -> TSNEOptimizer:
        """A streaming optimizer over X with these settings (neighbours and P computed now)."""
        return TSNEOptimizer(X, self.config)

    def fit(self, X: Any, y: Any = None) -> "TSNE":
        """Run all n_iter iterations on X; store `embedding_`, `kl_divergence_`, `n_iter_`, `neighbors_`.

        `y` is ignored (it is there for scikit-learn's Pipeline). Returns self.
        """
        config = self.config
        progress = FitProgress(config.verbose, config.n_iter)
        try:
            run = TSNEOptimizer(X, config)
            while not run.done:
                progress.update(run.step(compute_kl=progress.wants_kl(run.iteration)))
            kl = run.kl_divergence()
            progress.finish(kl)
        finally:
            progress.close()
        self.embedding_ = run.embedding.detach().cpu().numpy().copy()
        self.kl_divergence_ = kl
        self.n_iter_ = run.iteration
        self.perplexity_ = run.perplexity
        self.neighbors_ = run.neighbors.cpu().numpy().astype(np.int64)
        self.n_features_in_ = run.n_features
        self._reference = (run.data, run.embedding.detach().clone())
        run.close()
        return self

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's tags: a transformer (fit_transform; transform places new points)."""
        from sklearn.utils import TransformerTags

        tags = super().__sklearn_tags__()
        tags.transformer_tags = TransformerTags(preserves_dtype=[])
        return tags

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Run t-SNE on X (N x D) and return the (N, n_components) embedding as numpy (y is ignored)."""
        return self.fit(X).embedding_

    def transform(self, X: Any, **settings: Any) -> np.ndarray:
        """Place new points X (M x D) into the fitted embedding, which stays fixed (openTSNE's transform).

        Each new point starts at the median position of its 25 nearest fitted points and is
        optimised alone against the fitted layout for 250 iterations (see
        `nbviz.tsne.transform`); `settings` override `TransformSettings` (perplexity=5,
        init_neighbors=25, n_iter=250, learning_rate=0.1, exaggeration=1.5, momentum=0.8,
        max_grad_norm=0.25). Returns the (M, n_components) layout as numpy.
        """
        reference = getattr(self, "_reference", None)
        if reference is None:
            raise TSNEError("this TSNE is not fitted yet: call fit(X) before transform(X_new)")
        try:
            options = TransformSettings(**settings)
        except TypeError as error:
            raise TSNEError(f"unknown transform setting: {error}; valid ones: {', '.join(TransformSettings.__annotations__)}") from error
        data, layout = reference
        return place_points(data, layout, as_matrix(X).to(data.device), options).cpu().numpy()
