"""The settings of a t-SNE run, validated once and shared by `TSNE` and `TSNEOptimizer`."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from nbviz.progress import SHOW_VALUES, is_show_setting

from .errors import TSNEError
from .inputs import resolve_device

METHODS = ("auto", "exact", "fft")
NEIGHBOR_METHODS = ("auto", "exact", "approx")
INITS = ("pca", "random")


@dataclass(frozen=True)
class TSNEConfig:
    """Every setting of a t-SNE run, with openTSNE's defaults; invalid values raise TSNEError.

    - n_components: dimensions of the layout (2 or 3 for plots).
    - perplexity: effective number of neighbours; P uses the k = 3 * perplexity nearest.
    - n_iter: total iterations, early exaggeration included.
    - early_exaggeration, early_exaggeration_iter: P is multiplied by the former for the first
      early_exaggeration_iter iterations.
    - learning_rate: a positive number, or "auto" = N / exaggeration in each phase.
    - init: "pca" (top principal components scaled to std 1e-4), "random" (seeded Gaussian,
      std 1e-4) or an (N, n_components) array.
    - random_state: int seed or None (a fresh seed each run). What a seed changes, per init:
      "pca": nothing, as a rule: the start is the data's principal components, so seeds 0 and 1
      give the same layout. Only two things draw on the seed there: the noise that fills
      missing directions when the data have fewer than n_components directions of variance,
      and the sample of queries that checks approximate neighbours (neighbors="approx", or
      "auto" on large data), which can change a few neighbours. "random": the start itself,
      so each seed gives its own layout and one seed repeats it exactly (same device and
      thread count). An array: as for "pca" (the start is yours). For a different run from
      the same data use init="random", or `TSNEOptimizer.restart(random_state=s)`, which
      starts from seeded random noise under any init.
    - device: torch device for the optimisation; None = CUDA when available, else the CPU.
    - method: repulsion "exact" (all pairs), "fft" (interpolation on a grid, 2-D and 3-D) or
      "auto" (per step, whichever is estimated cheaper).
    - neighbors: kNN search "exact", "approx" (inverted lists scored exactly, or faiss HNSW;
      either tuned until recall against exact search on a sample reaches 0.99) or "auto" (exact
      while it is cheap, see `nbviz.tsne.neighbors`).
    - verbose: a progress bar during `TSNE.fit` (iteration, KL, phase): True, False, or "auto"
      (in a notebook, once the fit is predicted to take more than a few seconds; see
      `nbviz.progress`).
    """

    n_components: int = 2
    perplexity: float = 30.0
    n_iter: int = 750
    early_exaggeration: float = 12.0
    early_exaggeration_iter: int = 250
    learning_rate: float | str = "auto"
    init: Any = "pca"
    random_state: int | None = None
    device: Any = None
    method: str = "auto"
    neighbors: str = "auto"
    verbose: bool | str = "auto"

    def __post_init__(self) -> None:
        _check_int("n_components", self.n_components, 1)
        _check_int("n_iter", self.n_iter, 0)
        _check_int("early_exaggeration_iter", self.early_exaggeration_iter, 0)
        check_positive("perplexity", self.perplexity)
        check_positive("early_exaggeration", self.early_exaggeration)
        check_positive("learning_rate", self.learning_rate, allow="auto")
        if self.method not in METHODS:
            raise TSNEError(f"method must be one of {_listed(METHODS)}, got {self.method!r}")
        if self.method == "fft" and self.n_components not in (2, 3):
            raise TSNEError(f"method='fft' works in 2-D and 3-D only; use method='exact' for n_components={self.n_components}")
        if self.neighbors not in NEIGHBOR_METHODS:
            raise TSNEError(f"neighbors must be one of {_listed(NEIGHBOR_METHODS)}, got {self.neighbors!r}")
        if isinstance(self.init, str) and self.init not in INITS:
            raise TSNEError(f"init must be 'pca', 'random' or an (N, n_components) array, got {self.init!r}")
        if self.random_state is not None and (
            isinstance(self.random_state, bool) or not isinstance(self.random_state, (int, np.integer))
        ):
            raise TSNEError(f"random_state must be an int or None, got {self.random_state!r}")
        if not is_show_setting(self.verbose):
            raise TSNEError(f"verbose must be {SHOW_VALUES}, got {self.verbose!r}")
        resolve_device(self.device)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The setting names, in signature order."""
        return tuple(f.name for f in fields(cls))

    def updated(self, **changes: Any) -> "TSNEConfig":
        """A validated copy with `changes` applied; unknown names raise TSNEError."""
        unknown = sorted(set(changes) - set(self.names()))
        if unknown:
            raise TSNEError(f"unknown t-SNE setting(s) {', '.join(unknown)}; valid ones: {', '.join(self.names())}")
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (an `init` array is not copied)."""
        return {name: getattr(self, name) for name in self.names()}


def check_positive(name: str, value: Any, allow: str | None = None) -> None:
    """Raise TSNEError unless `value` is a positive finite real (or the string `allow`)."""
    if allow is not None and isinstance(value, str) and value == allow:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value) or value <= 0:
        extra = f" or {allow!r}" if allow is not None else ""
        raise TSNEError(f"{name} must be a positive finite number{extra}, got {value!r}")


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise TSNEError(f"{name} must be an int >= {minimum}, got {value!r}")


def _listed(options: tuple[str, ...]) -> str:
    return ", ".join(repr(o) for o in options)

