"""The scikit-learn-style front end: TSNE(...).fit_transform(X), or .optimizer(X) to stream."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .errors import TSNEError
from .inputs import resolve_device
from .optimizer import TSNEOptimizer


class TSNE:
    """t-SNE with openTSNE's defaults, in PyTorch (CUDA when available).

    kNN affinities (k = 3 * perplexity) calibrated by bisection, a sparse symmetric P, exact
    or FFT-interpolated repulsion ("auto" picks by N), PCA initialisation scaled to std 1e-4,
    early exaggeration 12 for 250 iterations then 1, learning rate N / exaggeration.
    After `fit_transform`: `embedding_` (numpy), `kl_divergence_` (true KL of the final
    layout) and `n_iter_`.
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
    ) -> None:
        _check_int("n_components", n_components, 1)
        _check_int("n_iter", n_iter, 0)
        _check_int("early_exaggeration_iter", early_exaggeration_iter, 0)
        _check_real("perplexity", perplexity)
        _check_real("early_exaggeration", early_exaggeration)
        if not (learning_rate == "auto" if isinstance(learning_rate, str) else False):
            _check_real("learning_rate", learning_rate, "or 'auto'")
        if method not in ("auto", "exact", "fft"):
            raise TSNEError(f"method must be 'auto', 'exact' or 'fft', got {method!r}")
        if method == "fft" and n_components != 2:
            raise TSNEError(f"method='fft' works in 2-D only; use method='exact' for n_components={n_components}")
        if neighbors not in ("auto", "exact", "approx"):
            raise TSNEError(f"neighbors must be 'auto', 'exact' or 'approx', got {neighbors!r}")
        if isinstance(init, str) and init not in ("pca", "random"):
            raise TSNEError(f"init must be 'pca', 'random' or an (N, n_components) array, got {init!r}")
        if random_state is not None and (isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer))):
            raise TSNEError(f"random_state must be an int or None, got {random_state!r}")
        resolve_device(device)
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

    def optimizer(self, X: Any) -> TSNEOptimizer:
        """A streaming optimizer over X with these settings (affinities computed now)."""
        return TSNEOptimizer(
            X, n_components=self.n_components, perplexity=self.perplexity, n_iter=self.n_iter,
            early_exaggeration=self.early_exaggeration, early_exaggeration_iter=self.early_exaggeration_iter,
            learning_rate=self.learning_rate, init=self.init, random_state=self.random_state,
            device=self.device, method=self.method, neighbors=self.neighbors,
        )

    def fit(self, X: Any) -> "TSNE":
        """Run all n_iter iterations on X and store embedding_, kl_divergence_, n_iter_."""
        run = self.optimizer(X)
        run.run(run.n_iter - run.iteration)
        self.embedding_ = run.embedding.detach().cpu().numpy().copy()
        self.kl_divergence_ = run.kl_divergence()
        self.n_iter_ = run.iteration
        self.perplexity_ = run.perplexity
        return self

    def fit_transform(self, X: Any) -> np.ndarray:
        """Run t-SNE on X (N x D) and return the (N, n_components) embedding as numpy."""
        return self.fit(X).embedding_


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise TSNEError(f"{name} must be an int >= {minimum}, got {value!r}")


def _check_real(name: str, value: Any, extra: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not math.isfinite(value) or value <= 0:
        raise TSNEError(f"{name} must be a positive finite number{(' ' + extra) if extra else ''}, got {value!r}")
