"""The streaming t-SNE optimizer: one gradient step per call, live settings, pause/resume, restart.

Update rule (openTSNE's gradient descent with momentum and gains), per iteration t:
  g      = alpha sum_j p_ij w_ij (y_i - y_j) - (1/Z) sum_j w_ij^2 (y_i - y_j)     (dKL/dy / 4)
  gains  = gains + 0.2 where sign(update) != sign(g), else 0.8 * gains + 0.01
  update = momentum * update - lr * gains * g,  each row clipped to norm <= 5
  y      = y + update, then re-centred to mean 0
with alpha = 12 and momentum 0.5 for the first 250 iterations, then alpha = 1 and momentum 0.8,
and lr = N / alpha ("auto"). One iteration counter runs across both phases.
"""
from __future__ import annotations

import math
import threading
import warnings
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator

import numpy as np
import torch

from .affinities import SparseAffinities, calibrate_conditional, joint_probabilities
from .config import TSNEConfig, check_positive
from .descent import momentum_step
from .errors import TSNEError
from .gradients import exact_repulsion, gradient, kl_divergence, repulsion
from .init import pca_initialisation, random_initialisation
from .inputs import as_matrix, resolve_device
from .kernels import attraction_kernel
from .locality import PointOrder, relabelled, renumber_in_place, renumbering_due
from .memory import check_fits
from .native import native_library
from .neighbors import Neighbors, centred, nearest_neighbors, pair_sq_distances, search_method
from .scratch import Workspace
from .transform import ReferenceNeighbors, TransformSettings, place_points, reference_neighbors

PHASE_EARLY = "early_exaggeration"
PHASE_MAIN = "main"
MAX_STEP_NORM = 5.0
EARLY_MOMENTUM = 0.5
FINAL_MOMENTUM = 0.8
#: Neighbour distances up to this size stay in memory for a perplexity change (64 MB: 180,000
#: points at perplexity 30); above it they are recomputed from the data when needed.
KEEP_DISTANCES_BYTES = 64 << 20


@dataclass(frozen=True)
class Frame:
    """One optimisation step's result.

    `iteration` counts completed steps (1 after the first). `embedding` is the optimizer's live
    (N, n_components) tensor, changed in place by the next step: copy it to keep it.
    `kl` is the KL divergence (exaggeration-corrected, i.e. against the true P) of the layout
    this step started from, when asked for, else None. `exaggeration` and `phase` are those
    used for this step.
    """

    iteration: int
    embedding: torch.Tensor
    kl: float | None
    exaggeration: float
    phase: str


@dataclass
class NewPoints:
    """Rows on their way into a run (`TSNEOptimizer.prepare_points`): their data, their nearest
    fitted points, their placement `layout` (the start until `place` has run) and their `start`
    for a later restart. `reference` and `fitted_layout` are the run's data and layout as they
    were when prepared; the placement moves the new points against that layout only."""

    data: torch.Tensor
    reference: torch.Tensor
    fitted_layout: torch.Tensor
    neighbors: ReferenceNeighbors
    settings: TransformSettings
    layout: torch.Tensor
    start: torch.Tensor

    def place(self, callback: Callable[[int, torch.Tensor], Any] | None = None) -> torch.Tensor:
        """Optimise the new points against the fixed fitted layout (`nbviz.tsne.transform`);
        `callback(iteration, layout)` after each iteration, a truthy return ends it there."""
        self.layout = place_points(self.reference, self.fitted_layout, self.data, self.settings, callback,
                                   self.neighbors)
        return self.layout


def effective_perplexity(perplexity: float, n_points: int) -> float:
    """The perplexity actually used: lowered to max(1, (N - 1) / 3) when 3 * perplexity >= N."""
    if n_points < 2 or 3 * perplexity < n_points:
        return float(perplexity)
    return float(min(n_points - 1, max(1.0, (n_points - 1) / 3.0)))


def _empty_affinities(n: int, device: torch.device, perplexity: float) -> SparseAffinities:
    """P for fewer than two points: no pairs at all."""
    own = torch.arange(n, device=device)
    return SparseAffinities(
        table=own.unsqueeze(1), weights=torch.zeros((n, 1), device=device), row_owner=own, n_points=n,
        entropy_term=0.0, perplexity=perplexity,
    )


class TSNEOptimizer:
    """A t-SNE run that advances one iteration per `step()`; usually made by `TSNE.optimizer(X)`.

    Pause by not calling `step`, resume by calling it again. Setters (`set_exaggeration`,
    `set_learning_rate`, `set_perplexity`, `restart`) may be called from another thread: a
    lock serialises them with `step`, so they take effect from the next step on.
    Steps past `n_iter` keep optimising at exaggeration 1 (phase "main"); `done` says whether
    n_iter steps have been made.
    """

    def __init__(self, X: Any, config: TSNEConfig | None = None, **settings: Any) -> None:
        """Validate X, find its nearest neighbours and build P; `settings` override `config`'s fields."""
        config = (config or TSNEConfig()).updated(**settings)
        self._lock = threading.RLock()
        self._workspace = Workspace()
        self._config = config
        self._device = resolve_device(config.device)
        data = as_matrix(X)
        self._data = data.to(self._device)
        n = data.shape[0]
        self._n_components = int(config.n_components)
        self._n_iter = int(config.n_iter)
        self._early_exaggeration = float(config.early_exaggeration)
        self._early_iter = int(config.early_exaggeration_iter)
        self._learning_rate: float | str = config.learning_rate
        self._exaggeration_override: float | None = None
        self._method = config.method
        self._seed = self._draw_seed(config.random_state)
        self._knn: Neighbors | None = None
        self._order: PointOrder | None = None  # the numbering self._P is kept in (None: the user's)
        if self._device.type == "cpu":
            # The C kernels' one-off build (or cache load) happens here, as its own step, rather
            # than inside whichever kernel first needs them (the neighbour search).
            native_library()
        self._initial = self._initial_layout(config.init)
        self._requested_perplexity = float(config.perplexity)
        self._P = self._affinities(self._requested_perplexity)
        self._kernel = attraction_kernel(n, self._device)
        self._reset_state()

    # ----------------------------------------------------------------- setup
    @staticmethod
    def _draw_seed(random_state: int | None) -> int:
        if random_state is None:
            return int(torch.randint(0, 2**31 - 1, (1,)).item())
        if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
            raise TSNEError(f"random_state must be an int or None, got {random_state!r}")
        return int(random_state)

    def _neighbors(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The k nearest neighbours and their squared distances, reusing a previous search with
        at least k columns. The distances are kept for the next call (a perplexity change) while
        they take at most KEEP_DISTANCES_BYTES; a larger run keeps only the indices (a million
        points' distances are 360 MB, as much as building P needs on top) and a reuse recomputes
        the distances of the pairs it needs (about 0.4 s per 200,000 points x 90 on 2 cores, in C)."""
        if self._knn is None or self._knn.indices.shape[1] < k:
            n, dim = self._data.shape
            method = search_method(n, dim, self._device, self._config.neighbors)
            check_fits(n, dim, k, method == "approx", self._device)
            found = nearest_neighbors(self._data, k, method, self._seed)
            small = found.sq_distances.numel() * found.sq_distances.element_size() <= KEEP_DISTANCES_BYTES
            self._knn = found if small else replace(found, sq_distances=None)
            return found.indices[:, :k], found.sq_distances[:, :k]
        indices = self._knn.indices[:, :k]
        if self._knn.sq_distances is not None:
            return indices, self._knn.sq_distances[:, :k]
        data = centred(self._data)  # as the search measured them: the same distances, bit for bit
        return indices, pair_sq_distances(data, data, indices, dtype=torch.float32)

    def _affinities(self, perplexity: float) -> SparseAffinities:
        n = self._data.shape[0]
        check_positive("perplexity", perplexity)
        used = effective_perplexity(perplexity, n)
        if used != perplexity:
            warnings.warn(
                f"perplexity {perplexity:g} needs 3 * perplexity < N = {n} points; lowered to {used:.4g}",
                UserWarning, stacklevel=4,
            )
        if n < 2:
            return _empty_affinities(n, self._device, used)
        k = min(n - 1, max(1, int(3 * used)))
        indices, sq = self._neighbors(k)
        conditional, _ = calibrate_conditional(sq, used, dtype=torch.float32)
        del sq
        P = joint_probabilities(indices, conditional, used, dtype=torch.float32)
        self._k = k
        return P

    def _initial_layout(self, init: Any) -> torch.Tensor:
        n = self._data.shape[0]
        if isinstance(init, str):
            if init == "pca":
                return pca_initialisation(self._data, self._n_components, self._seed).to(self._device)
            if init == "random":
                return random_initialisation(n, self._n_components, self._seed, self._device)
            raise TSNEError(f"init must be 'pca', 'random' or an (N, {self._n_components}) array, got {init!r}")
        try:
            layout = as_matrix(init)
        except TSNEError as exc:
            raise TSNEError(f"init array is invalid: {exc}") from exc
        if tuple(layout.shape) != (n, self._n_components):
            raise TSNEError(f"init array must have shape ({n}, {self._n_components}), got {tuple(layout.shape)}")
        return layout.to(self._device, torch.float32)

    def _reset_state(self) -> None:
        self._y = self._initial.clone()
        self._y -= self._y.mean(dim=0)
        self._update = torch.zeros_like(self._y)
        self._gains = torch.ones_like(self._y)
        self._iteration = 0

    # ----------------------------------------------------------------- schedule
    def _scheduled_exaggeration(self, iteration: int) -> float:
        return self._early_exaggeration if iteration < self._early_iter else 1.0

    def _phase(self, iteration: int) -> str:
        return PHASE_EARLY if iteration < self._early_iter else PHASE_MAIN

    @property
    def exaggeration(self) -> float:
        """The exaggeration the next step will use (the override, else the schedule)."""
        if self._exaggeration_override is not None:
            return self._exaggeration_override
        return self._scheduled_exaggeration(self._iteration)

    @property
    def learning_rate(self) -> float:
        """The learning rate the next step will use: N / exaggeration when "auto"."""
        if self._learning_rate == "auto":
            return max(1, self.n_points) / self.exaggeration
        return float(self._learning_rate)

    # ----------------------------------------------------------------- stepping
    def step(self, compute_kl: bool = False) -> Frame:
        """Make one gradient-descent iteration (see the module docstring) and return its Frame."""
        with self._lock, self._workspace.active():
            iteration = self._iteration
            alpha = self.exaggeration
            lr = self.learning_rate
            momentum = EARLY_MOMENTUM if iteration < self._early_iter else FINAL_MOMENTUM
            kl = None
            if self.n_points >= 2:
                if renumbering_due(iteration, self.n_points, self._device, numbered=self._order is not None):
                    self._renumber()
                layout = self._layout_in_p_order()
                grad, z = gradient(layout, self._P, alpha, self._method, self._kernel)
                if compute_kl:
                    kl = kl_divergence(layout, self._P, float(z))
                if self._order is not None:
                    grad = self._order.to_user(grad)
                self._apply(grad, lr, momentum)
            elif compute_kl:
                kl = 0.0
            self._iteration += 1
            return Frame(self._iteration, self._y, kl, alpha, self._phase(iteration))

    def _layout_in_p_order(self) -> torch.Tensor:
        """The layout with its rows in the numbering P is kept in (see nbviz.tsne.locality)."""
        return self._y if self._order is None else self._order.to_internal(self._y)

    def _renumber(self) -> None:
        """Renumber P's points along the current layout's Z-order curve (nbviz.tsne.locality)."""
        inner = PointOrder.along(self._layout_in_p_order())
        renumber_in_place(self._P, inner.order)
        self._order = inner if self._order is None else self._order.then(inner)

    def _apply(self, grad: torch.Tensor, lr: float, momentum: float) -> None:
        """One momentum_step with steps clipped to MAX_STEP_NORM, then re-centring (in place)."""
        momentum_step(self._y, self._update, self._gains, grad, lr, momentum, MAX_STEP_NORM)
        self._y.sub_(self._y.mean(dim=0))

    def run(self, n_steps: int, callback: Callable[[Frame], Any] | None = None, compute_kl: bool = False) -> Frame | None:
        """Make n_steps steps, calling callback(frame) after each; a truthy return stops early.

        Returns the last Frame (None when n_steps is 0).
        """
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
            raise TSNEError(f"n_steps must be a non-negative int, got {n_steps!r}")
        frame = None
        for _ in range(int(n_steps)):
            frame = self.step(compute_kl=compute_kl)
            if callback is not None and callback(frame):
                break
        return frame

    def __iter__(self) -> Iterator[Frame]:
        """Yield one Frame per step until `done`; break out to pause, iterate again to resume."""
        while not self.done:
            yield self.step()

    # ----------------------------------------------------------------- live settings
    def set_exaggeration(self, value: float | None) -> None:
        """Use exaggeration `value` from the next step on (None: back to the 12 -> 1 schedule)."""
        if value is not None:
            check_positive("exaggeration", value)
        with self._lock:
            self._exaggeration_override = None if value is None else float(value)

    def set_learning_rate(self, value: float | str) -> None:
        """Use learning rate `value` (or "auto" = N / exaggeration) from the next step on."""
        check_positive("learning_rate", value, allow="auto")
        with self._lock:
            self._learning_rate = value if value == "auto" else float(value)

    def set_perplexity(self, value: float) -> None:
        """Recompute P for a new perplexity and continue from the current layout."""
        check_positive("perplexity", value)
        with self._lock:
            self._P = self._affinities(float(value))
            self._order = None
            self._requested_perplexity = float(value)

    def add_points(
        self,
        new_data: Any,
        settings: TransformSettings | None = None,
        callback: Callable[[int, torch.Tensor], Any] | None = None,
    ) -> torch.Tensor:
        """Place M new rows into the current layout, then make them part of this run:
        `prepare_points`, `NewPoints.place`, then `admit` (see those). Returns the (M,
        n_components) placement. When anything fails the run is unchanged.
        """
        batch = self.prepare_points(new_data, settings)
        batch.place(callback)
        self.admit(batch)
        return batch.layout

    def prepare_points(self, new_data: Any, settings: TransformSettings | None = None) -> NewPoints:
        """New rows ready to be placed against the layout as it is now (the run is not changed).

        Finds each row's nearest fitted rows (exact) and p_{j|i}, its placement start (median
        position of its `init_neighbors` nearest fitted points) and its start for `restart`
        (the same median over the fitted points' starts). openTSNE's transform defaults unless
        `settings` says otherwise.
        """
        settings = settings or TransformSettings()
        with self._lock:
            reference, fitted_layout, fitted_start = self._data, self._y.clone(), self._initial
        try:
            data = as_matrix(new_data).to(self._device)
        except TSNEError as exc:
            raise TSNEError(f"the new points are invalid: {exc}") from exc
        neighbors = reference_neighbors(reference, data, settings)
        return NewPoints(
            data=data, reference=reference, fitted_layout=fitted_layout, neighbors=neighbors, settings=settings,
            layout=neighbors.starting_positions(fitted_layout, settings.init_neighbors),
            start=neighbors.starting_positions(fitted_start, settings.init_neighbors),
        )

    def admit(self, batch: NewPoints) -> None:
        """Grow the run by the placed `batch` (from `prepare_points` on this run).

        The new rows keep their placed positions; their momentum starts at 0 and their gains at
        1; neighbours and P are rebuilt over all N + M rows at the perplexity last asked for, so
        later steps optimise every point. The iteration count and the schedule go on. When the
        rebuild fails the run is unchanged.
        """
        with self._lock:
            if self._data is not batch.reference:
                raise TSNEError("these points were prepared for this run before points were added to it; "
                                "prepare them again")
            kept = (self._data, self._knn, self._P, self._order, self._kernel, getattr(self, "_k", None))
            self._data, self._knn = torch.cat([batch.reference, batch.data]), None
            try:
                self._P = self._affinities(self._requested_perplexity)
                self._order = None
                self._kernel = attraction_kernel(self._data.shape[0], self._device)
            except BaseException:
                self._data, self._knn, self._P, self._order, self._kernel, self._k = kept
                raise
            placed = batch.layout.to(self._y.dtype)
            self._y = torch.cat([self._y, placed])
            self._update = torch.cat([self._update, torch.zeros_like(placed)])
            self._gains = torch.cat([self._gains, torch.ones_like(placed)])
            self._initial = torch.cat([self._initial, batch.start.to(self._initial.dtype)])
            self._workspace.release()

    def restart(self, random_state: int | None = None) -> None:
        """Start again from a fresh initial layout: iteration 0, momentum and gains reset.

        P, perplexity and learning rate are kept; exaggeration returns to the schedule. The new
        start: with a `random_state`, Gaussian noise of std 1e-4 drawn with that seed whatever
        the init, so seeds 0 and 1 give different runs and one seed repeats its run (a PCA
        start is the same for every seed, so a seed could not change it); without one, a
        freshly seeded random start under init="random", and the same start as before under
        init="pca" or an init array.
        """
        with self._lock:
            if random_state is not None or (isinstance(self._config.init, str) and self._config.init == "random"):
                self._seed = self._draw_seed(random_state)
                self._initial = self._initial_layout("random")
            self._exaggeration_override = None
            self._reset_state()

    # ----------------------------------------------------------------- read-outs
    @property
    def iteration(self) -> int:
        """Number of steps made since the start (or the last restart)."""
        return self._iteration

    @property
    def done(self) -> bool:
        """True once n_iter steps have been made."""
        return self._iteration >= self._n_iter

    @property
    def n_iter(self) -> int:
        """The planned number of iterations."""
        return self._n_iter

    @property
    def embedding(self) -> torch.Tensor:
        """The live (N, n_components) layout tensor (changed in place by each step)."""
        return self._y

    @property
    def initial_embedding(self) -> np.ndarray:
        """The starting layout (PCA or random, std 1e-4) as a numpy (N, n_components) copy."""
        return self._initial.detach().cpu().numpy().copy()

    @property
    def n_points(self) -> int:
        """Number of points N."""
        return self._y.shape[0]

    @property
    def data(self) -> torch.Tensor:
        """The input matrix (N, D) on the run's device."""
        return self._data

    @property
    def n_features(self) -> int:
        """Number of input features D."""
        return int(self._data.shape[1])

    @property
    def config(self) -> TSNEConfig:
        """The settings this run was made with (live changes such as set_perplexity not included)."""
        return self._config

    @property
    def neighbors(self) -> torch.Tensor:
        """(N, k) indices (int32 below 2^31 points) of the nearest neighbours the current P was
        built from, nearest first."""
        if self.n_points < 2:
            return torch.empty((self.n_points, 0), dtype=torch.int64, device=self._device)
        return self._knn.indices[:, : self._k]

    @property
    def neighbor_search(self) -> str:
        """How the neighbours were found: "exact", or the approximate search and its measured
        recall, e.g. "ivf (recall 0.996 on sampled points)" (see nbviz.tsne.neighbors)."""
        if self._knn is None or self._knn.method == "exact":
            return "exact"
        return f"{self._knn.method} (recall {self._knn.recall:.3f} on sampled points)"

    def close(self) -> None:
        """Release the run's work memory (the layout and P stay readable)."""
        with self._lock:
            self._workspace.release()

    @property
    def perplexity(self) -> float:
        """The perplexity in use (after any lowering for small N)."""
        return self._P.perplexity

    @property
    def affinities(self) -> SparseAffinities:
        """The current sparse symmetric P, numbered as the input rows."""
        with self._lock:
            return self._P if self._order is None else relabelled(self._P, self._order.rank)

    @property
    def method(self) -> str:
        """'exact', 'fft', or 'auto' (per step, whichever is estimated cheaper for the layout)."""
        return self._method

    @property
    def device(self) -> torch.device:
        """The device the layout and P live on."""
        return self._device

    def kl_divergence(self) -> float:
        """KL(P || Q) of the current layout against the true (unexaggerated) P, computed now."""
        with self._lock, self._workspace.active():
            if self.n_points < 2:
                return 0.0
            layout = self._layout_in_p_order()
            _, z = repulsion(layout, self._method)
            return kl_divergence(layout, self._P, float(z))

    def exact_kl_divergence(self) -> float:
        """KL(P || Q) with Z summed exactly over all pairs (O(N^2); for checks on moderate N)."""
        with self._lock, self._workspace.active():
            if self.n_points < 2:
                return 0.0
            layout = self._layout_in_p_order()
            _, z = exact_repulsion(layout)
            return kl_divergence(layout, self._P, float(z))
