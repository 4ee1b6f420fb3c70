"""The Embedding-Projector half of TSNEScatter: search, highlight, focus with true neighbours,
the share of neighbours the layout keeps, colour by a number, and legend entries shown or hidden.

`ProjectorTools` is a traitlets mixin: it owns these traits, their checks and the kernel-side
answers (the neighbour search runs in `nbviz.tsne.point_neighbors`; this module only wires it).
The widget calls `_init_projector(matrix)` once its own traits are set.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from nbviz.widgets.tsne_search import search_points

#: Points whose neighbours are compared with the layout's for the `kept_share` readout (seeded).
KEPT_SAMPLE = 1000
#: The readout is kept up to date while its one-off search (sample x N x D multiply-adds) stays within
#: this budget (about a second on 2 CPU cores: the 30,522 x 384 vocabulary fits, 1M x 50 does not);
#: above it the readout stays off (-1) and `neighbors_kept()` computes it on request.
KEPT_BUDGET = 2e10
#: Default colormap of `color=` values.
DEFAULT_COLORMAP = "viridis"


def _index_list(proposal: dict, n_points: int, trait: str) -> list[int]:
    values = proposal["value"]
    try:
        indices = sorted({int(i) for i in values})
    except (TypeError, ValueError) as exc:
        raise traitlets.TraitError(f"{trait} must be a list of point indices, got {values!r}") from exc
    bad = [i for i in indices if not 0 <= i < n_points]
    if bad:
        raise traitlets.TraitError(
            f"{trait} holds point indices outside 0..{n_points - 1} (e.g. {bad[0]}); the old value is kept"
        )
    return indices


def encode_color(color: Any, n_points: int) -> tuple[bytes, list[float]]:
    """Per-point numbers -> (float32 little-endian bytes, [min, max] of the finite values).

    NaN marks a point without a value (drawn grey). Raises ValueError for a wrong length, a
    non-numeric array or no finite value at all.
    """
    values = np.asarray(color.detach().cpu() if hasattr(color, "detach") else color)
    if values.dtype.kind not in "biuf":
        raise ValueError(f"color must be numbers, one per point (got dtype {values.dtype}); "
                         "for categories pass labels= instead")
    values = values.astype(np.float32).reshape(-1)
    if values.size != n_points:
        raise ValueError(f"color has {values.size} values for {n_points} points; pass one number per point")
    finite = values[np.isfinite(values)]
    if not finite.size:
        raise ValueError("color has no finite value; pass numbers (NaN marks a point without one)")
    values = np.where(np.isinf(values), np.nan, values).astype("<f4")
    return values.tobytes(), [float(finite.min()), float(finite.max())]


class ProjectorTools(traitlets.HasTraits):
    """Search, focus, neighbours, colour-by-number and legend visibility for TSNEScatter.

    Listed before the widget base class: the `focus` trait must shadow ipywidgets'
    DOMWidget.focus() method (keyboard focus), which TSNEScatter does not use.
    """

    # Points highlighted (search results, or set from code); the rest are dimmed.
    highlight = traitlets.List(traitlets.Int(), help="Indices of highlighted points (search results, or set from code); the others are dimmed. Empty: none.").tag(sync=True)
    search_query = traitlets.Unicode("", help="The search box's text: a case-insensitive substring, or /regex/, over `texts` and label names.").tag(sync=True)
    # The clicked point (-1: none), and its true neighbours as the kernel computed them.
    focus = traitlets.Int(-1, help="The clicked point's index (-1: none): lines go to its `neighbor_k` true nearest neighbours.").tag(sync=True)
    neighbor_k = traitlets.Int(10, help="How many true nearest neighbours of the focused point are drawn and checked (1 to N - 1).").tag(sync=True)
    neighbor_metric = traitlets.Unicode("euclidean", help="Distance for the true neighbours in the original space: 'euclidean' or 'cosine'.").tag(sync=True)
    focus_neighbors = traitlets.List(traitlets.Int(), help="Read-only: indices of the focused point's true nearest neighbours, nearest first.").tag(sync=True)
    focus_distances = traitlets.List(traitlets.Float(), help="Read-only: the distances of `focus_neighbors` in the original space.").tag(sync=True)
    # Mean share of the true neighbours kept in the settled layout (over a sample; -1: not yet).
    kept_share = traitlets.Float(-1.0, help="Read-only: mean share of true neighbours the settled layout keeps, over a sample of points (-1: not yet).").tag(sync=True)
    kept_sample = traitlets.Int(0, help="Read-only: how many points `kept_share` was measured on.").tag(sync=True)
    # Colour by a number: float32 values, their [min, max], the colormap's name and 768-byte LUT.
    color_values = traitlets.Bytes(b"", help="Read-only: the `color` numbers, float32 little-endian, one per point (NaN: no value).").tag(sync=True)
    color_range = traitlets.List(traitlets.Float(), default_value=[0.0, 1.0], help="Read-only: [min, max] of the finite `color` values, the ends of the colour bar.").tag(sync=True)
    color_label = traitlets.Unicode("", help="Title of the colour bar (what the `color` numbers are).").tag(sync=True)
    colormap = traitlets.Unicode(DEFAULT_COLORMAP, help="Matplotlib colormap name the `color` numbers go through (e.g. 'viridis').").tag(sync=True)
    colormap_lut = traitlets.Bytes(b"", help="Read-only: `colormap` as a 256-entry RGB lookup table (768 bytes).").tag(sync=True)
    # Label codes whose points are hidden (legend entries switched off).
    hidden_labels = traitlets.List(traitlets.Int(), help="Label codes whose points are hidden (their legend entries switched off).").tag(sync=True)
    ringed = traitlets.List(traitlets.Int(), help="Indices of points drawn with a dark ring (a ModelLens rings the images its model gets wrong). Empty: none.").tag(sync=True)

    def _init_projector(self, matrix: Any, color: Any, color_label: str, colormap: str) -> None:
        """Keep the data for neighbour queries and set the colour traits (after the widget's own)."""
        from nbviz.widgets.cam_colormaps import colormap_lut

        self._reset_point_data(matrix)
        try:
            lut = colormap_lut(colormap)
        except ValueError as exc:
            raise ValueError(f"colormap: {exc}") from None
        with self.hold_sync():
            self.colormap_lut = lut
            self.colormap = colormap
            self.color_label = color_label
            if color is not None:
                self.color_values, self.color_range = encode_color(color, self.n_points)

    def _reset_point_data(self, matrix: Any) -> None:
        """The data grew (points were added): answer neighbour queries over all of it."""
        from nbviz.tsne.point_neighbors import PointNeighbors

        self._point_neighbors = PointNeighbors(matrix)
        self._kept_cache: dict[tuple[int, str], tuple[Any, Any]] = {}

    # ---- Python API ---------------------------------------------------------------------------
    def search(self, query: str) -> list[int]:
        """Indices of the points whose text or label name matches `query`, and highlight them.

        `query` is a case-insensitive substring, or `/regex/` (case-insensitive, found anywhere);
        the search box applies the same rules (see nbviz.widgets.tsne_search). An empty query
        matches nothing and clears the highlight. Raises SearchQueryError (a ValueError) for `//`
        or an invalid pattern, leaving the highlight as it was.
        """
        codes = np.frombuffer(self.label_codes, dtype="<u2") if self.label_codes else None
        hits = search_points(query, self.texts, codes, self.label_names, self.n_points)
        with self.hold_sync():
            self.search_query = query
            self.highlight = hits
        return hits

    def neighbors_of(self, i: int, k: int = 10, metric: str = "euclidean") -> tuple[np.ndarray, np.ndarray]:
        """The k nearest other points of point i in the ORIGINAL space, nearest first.

        Exact: one row against all N rows in torch on the data's device (no N x N matrix).
        metric "euclidean": ||x_i - x_j||; "cosine": 1 - cos(x_i, x_j). Returns (indices int64,
        distances float64) numpy arrays of length k. Raises nbviz.tsne.TSNEError for k outside
        1..N-1, an index outside 0..N-1 or an unknown metric.
        """
        indices, distances = self._point_neighbors.of_point(i, k, metric)
        return indices.cpu().numpy(), distances.cpu().numpy()

    def neighbors_kept(self, k: int = 10, metric: str = "euclidean", sample: int = KEPT_SAMPLE) -> float:
        """Mean over points of ``|true k-NN & layout k-NN| / k`` for the current layout.

        The true neighbours come from `neighbors_of`'s exact search; the layout's from the same
        search on the 2-D (3-D) embedding. Up to `sample` points (seeded, the same every call)
        are averaged, all of them when N <= sample.
        """
        import torch

        from nbviz.tsne.point_neighbors import check_metric, kept_share, layout_neighbors

        check_metric(metric)
        finder = self._point_neighbors
        k = finder.check_k(k)
        key = (k, metric)
        if key not in self._kept_cache:
            n = finder.n
            generator = torch.Generator().manual_seed(0)
            rows = torch.randperm(n, generator=generator)[:sample] if n > sample else torch.arange(n)
            rows = torch.sort(rows).values.to(finder.X.device)
            self._kept_cache[key] = (rows, finder.of_rows(rows, k, metric)[0])
        rows, original = self._kept_cache[key]
        layout = torch.from_numpy(self.embedding).to(rows.device)
        found = layout_neighbors(layout, rows, k)
        return float(kept_share(original, found).mean())

    # ---- checks ---------------------------------------------------------------------------------
    @traitlets.validate("highlight")
    def _valid_highlight(self, proposal: dict) -> list[int]:
        return _index_list(proposal, self.n_points, "highlight")

    @traitlets.validate("ringed")
    def _valid_ringed(self, proposal: dict) -> list[int]:
        return _index_list(proposal, self.n_points, "ringed")

    @traitlets.validate("hidden_labels")
    def _valid_hidden_labels(self, proposal: dict) -> list[int]:
        return _index_list(proposal, len(self.label_names), "hidden_labels")

    @traitlets.validate("focus")
    def _valid_focus(self, proposal: dict) -> int:
        value = int(proposal["value"])
        if not -1 <= value < self.n_points:
            raise traitlets.TraitError(f"focus must be a point index in 0..{self.n_points - 1} or -1 (none), got {value}")
        return value

    @traitlets.validate("neighbor_k")
    def _valid_neighbor_k(self, proposal: dict) -> int:
        value = int(proposal["value"])
        if not 1 <= value < self.n_points:
            raise traitlets.TraitError(f"neighbor_k must be in 1..{self.n_points - 1} (fewer than N points), got {value}")
        return value

    @traitlets.validate("neighbor_metric")
    def _valid_neighbor_metric(self, proposal: dict) -> str:
        if proposal["value"] not in ("euclidean", "cosine"):
            raise traitlets.TraitError(f"neighbor_metric must be 'euclidean' or 'cosine', got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("colormap")
    def _valid_colormap(self, proposal: dict) -> str:
        from nbviz.widgets.cam_colormaps import colormap_lut

        try:
            self.colormap_lut = colormap_lut(proposal["value"])
        except ValueError as exc:
            raise traitlets.TraitError(f"colormap: {exc}") from None
        return proposal["value"]

    # ---- kernel-side answers ----------------------------------------------------------------------
    @traitlets.observe("focus", "neighbor_k", "neighbor_metric")
    def _publish_focus_neighbors(self, _change: dict) -> None:
        """The focused point's true neighbours into traits (the view draws lines to them)."""
        finder = getattr(self, "_point_neighbors", None)
        if finder is None:
            return
        if self.focus < 0:
            indices, distances = [], []
        else:
            found, dist = self.neighbors_of(self.focus, self.neighbor_k, self.neighbor_metric)
            indices, distances = found.tolist(), dist.tolist()
        with self.hold_sync():
            self.focus_neighbors = indices
            self.focus_distances = distances

    @traitlets.observe("positions", "neighbor_k", "neighbor_metric")
    def _publish_kept_share(self, _change: dict) -> None:
        """Recompute the whole-plot readout when the layout settles (or k / metric change)."""
        finder = getattr(self, "_point_neighbors", None)
        if finder is None or not self.positions:
            return
        if min(KEPT_SAMPLE, finder.n) * finder.n * int(finder.X.shape[1]) > KEPT_BUDGET:
            return
        self.kept_sample = min(KEPT_SAMPLE, self.n_points)
        self.kept_share = self.neighbors_kept(self.neighbor_k, self.neighbor_metric)
