"""TSNEScatter: a live t-SNE whose every iteration streams into a WebGL scatter plot.

The optimizer (`nbviz.tsne`) runs in a background thread (`FrameStreamer`); frames travel as
binary float32 buffers in custom messages under ack-based flow control; keyframes, the PCA start
and the settled layout live in traits so a later view, a re-render or an exported report has them.
The worker never writes a synced trait: it hands each write to the kernel's thread
(`KernelThread`), and settings changed there reach the optimizer as commands run between steps.

Messages, front end -> kernel: {"type": "hello"} when a view appears, {"type": "ack", "seq": s}
after a frame is drawn, {"type": "command", "name": "play" | "pause" | "stop" | "restart" | "step"},
{"type": "hover", "index": i} when the pointer comes to rest on point i (ignored here; a ModelLens
listens to prepare that point's map before it is clicked).
{"type": "hello" | "view_span", "view": id, "span_px": p} says over how many device pixels a
view draws the layout's longer side. Kernel -> front end: {"type": "frame", "seq", "iteration",
"kl", "exaggeration"} with one buffer, the N x 2 float32 layout, or uint16 codes plus "bounds"
when that changes no pixel in any view (see nbviz.widgets.tsne_frames).
"""
from __future__ import annotations

import threading
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import numpy as np
import traitlets

from nbviz.tsne.errors import TSNEError
from nbviz.widgets.base import NbvizWidget
from nbviz.widgets.kernel_thread import KernelThread
from nbviz.widgets.live_settings import LiveSettings
from nbviz.widgets.streaming import FrameStreamer, StreamCallbacks
from nbviz.widgets.tsne_frames import FrameEncoder
from nbviz.widgets.tsne_inputs import encode_labels, encode_texts, encode_thumbnails
from nbviz.widgets.tsne_keyframes import KeyframeRecorder
from nbviz.widgets.tsne_projector import DEFAULT_COLORMAP, ProjectorTools

if TYPE_CHECKING:
    from matplotlib.figure import Figure


#: The status line while a new perplexity's affinities are computed.
RECOMPUTING_AFFINITIES = "recomputing affinities…"


def _layout_to_numpy(embedding: Any) -> np.ndarray:
    """A float32 N x 2 (N x 3) copy of a layout (torch tensor on any device, or array): never a view."""
    if hasattr(embedding, "detach"):
        embedding = embedding.detach().to("cpu").float().numpy()
    return np.array(embedding, dtype=np.float32, copy=True, order="C")


def _warnings_text(caught: list[warnings.WarningMessage]) -> str:
    return " ".join(str(w.message) for w in caught)


def setting_text(trait: str, value: float) -> str:
    """A live setting as the status line names it: "perplexity 50", "exaggeration ×4",
    "learning rate 200" or "learning rate auto" (0 stands for auto)."""
    if trait == "exaggeration":
        return f"exaggeration ×{value:g}"
    if trait == "learning_rate":
        return "learning rate auto" if value <= 0 else f"learning rate {value:g}"
    return f"{trait} {value:g}"


def default_kl_every(n_points: int) -> int:
    """KL every 10 iterations below 10k points, then every 25 (below 100k) or 50, so the curve
    costs about 5% of the optimizer's time at any size."""
    return 10 if n_points < 10_000 else 25 if n_points < 100_000 else 50


class TSNEScatter(ProjectorTools, NbvizWidget):
    """Live t-SNE of `X` (N x D array, tensor, nn.Embedding or weight matrix) in a WebGL scatter.

    `labels` colour the points (with a legend whose entries show or hide their points), `color`
    (one number per point) colours them through `colormap` with a colour bar titled `color_label`,
    `texts` appear on hover and are what the search box finds, `images` (N x H x W, N x H x W x 3/4
    or N x 3 x H x W) show as hover thumbnails. Clicking a point sets `focus` and draws lines to its
    true nearest neighbours (`neighbors_of`); `search(query)` and `highlight` mark points. Other keyword arguments go to
    `nbviz.tsne.TSNE` (perplexity, n_iter, early_exaggeration, learning_rate, random_state, ...).
    Under the default init="pca" the start, and so the run, is the same for every `random_state`
    (see `nbviz.tsne.TSNEConfig`); `restart(random_state=s)` starts from seeded random noise.
    With `autostart` the optimisation begins at once; otherwise call `start()` or press play.
    `title` shows above the plot and in reports. `keyframe_every`: iterations between the layouts
    recorded for replay (and for an exported report's animation).
    `kl_every`: iterations between KL evaluations for the curve; None picks 10 below 10,000
    points and fewer evaluations above (each costs about 1.5 gradient passes there).
    `keyframe_budget_mb`: the most memory the recorded keyframes take (4 bytes per point each);
    a longer run keeps every other keyframe, so the recording never outgrows it.
    """

    _bundle_name = "tsne_scatter"
    _summary = "live t-SNE scatter plot"
    report_part_labels = {"positions": "layouts", "pca_positions": "layouts", "label_codes": "labels"}
    #: Iterations added when a finished run is continued (play, or a new perplexity).
    EXTRA_ITERATIONS = 250
    #: While `wait()` blocks the kernel, an unacknowledged frame counts as delivered after this long.
    WAIT_FRAME_INTERVAL_S = 0.25
    #: Above this many bytes of keyframes, the recording is synced only when the layout settles.
    LIVE_KEYFRAME_SYNC_LIMIT = 4 * 2**20
    #: The KL curve keeps at most this many points: beyond, every other one goes (the newest stays),
    #: so a run of any length costs bounded memory and a bounded message per update.
    KL_HISTORY_LIMIT = 2000

    # Data the front end draws (binary, little-endian).
    n_points = traitlets.Int(0, help="Read-only: the number of points N.").tag(sync=True)
    n_dims = traitlets.Int(2, help="Read-only: dimensions of the layout, 2, or 3 for a point cloud the view orbits.").tag(sync=True)
    label_codes = traitlets.Bytes(b"", help="Read-only: each point's label code (uint16 little-endian), indices into `label_names`.").tag(sync=True)
    label_names = traitlets.List(traitlets.Unicode(), help="Read-only: the distinct labels, in code order (the legend).").tag(sync=True)
    texts = traitlets.List(traitlets.Unicode(), help="Read-only: one text per point, shown on hover and searched by the search box.").tag(sync=True)
    thumbnails = traitlets.Bytes(b"", help="Read-only: hover thumbnails, uint8 N x H x W x 4 (see `thumbnail_shape`).").tag(sync=True)
    thumbnail_shape = traitlets.List(traitlets.Int(), default_value=[0, 0], help="Read-only: [H, W] of each thumbnail ([0, 0]: none).").tag(sync=True)
    positions = traitlets.Bytes(b"", help="Read-only: the layout as of the last settle (pause, stop, finish), float32 N x 2 (or N x 3).").tag(sync=True)
    positions_seq = traitlets.Int(0, help="Read-only: the number of the last streamed frame before `positions` was set (older frames are stale).").tag(sync=True)
    pca_positions = traitlets.Bytes(b"", help="Read-only: the starting layout (PCA or random, std 1e-4), float32 N x 2 (or N x 3).").tag(sync=True)
    keyframes = traitlets.Bytes(b"", help="Read-only: layouts recorded during the run, uint16 K x N x 2 within `keyframe_bounds`, for replay.").tag(sync=True)
    keyframe_iterations = traitlets.List(traitlets.Int(), help="Read-only: the iteration of each keyframe.").tag(sync=True)
    keyframe_bounds = traitlets.List(traitlets.List(traitlets.Float()), help="Read-only: per keyframe, the bounding box its uint16 codes span.").tag(sync=True)

    # Progress, as the kernel last reported it.
    status = traitlets.Unicode("idle", help="Read-only: 'idle', 'running', 'paused', 'stopped', 'finished' or 'error'.").tag(sync=True)
    iteration_count = traitlets.Int(0, help="Read-only: iterations done, as last reported by the optimizer.").tag(sync=True)
    n_iter = traitlets.Int(0, help="Read-only: iterations planned; grows by 250 when a finished run goes on (play, a new setting).").tag(sync=True)
    kl_history = traitlets.List(traitlets.List(traitlets.Float()), help="Read-only: [iteration, KL divergence] pairs of the KL curve (exaggeration-corrected).").tag(sync=True)
    error = traitlets.Unicode("", help="Read-only: the last error, shown in a red banner ('' when none).").tag(sync=True)
    notice = traitlets.Unicode("", help="Read-only: a warning worth showing (e.g. a perplexity lowered for small N) ('' when none).").tag(sync=True)
    activity = traitlets.Unicode("", help="Read-only: what the last live setting change did, shown in the status line: 'recomputing affinities…', then e.g. 'perplexity 50 · continuing 250 iterations' ('' once the run has finished).").tag(sync=True)

    # Settings the user changes from the sliders or from Python.
    perplexity = traitlets.Float(30.0, help="Effective number of neighbours; a change recomputes the affinities and the run goes on from the current layout.").tag(sync=True)
    exaggeration = traitlets.Float(1.0, help="Early exaggeration in use: follows the schedule (12, then 1) until set; setting it overrides the schedule.").tag(sync=True)
    learning_rate = traitlets.Float(0.0, help="Gradient-descent step size; 0 means 'auto' (N / exaggeration).").tag(sync=True)
    point_size = traitlets.Float(0.0, help="Point size in pixels; 0 picks one from N.").tag(sync=True)
    opacity = traitlets.Float(0.0, help="Point opacity, 0 to 1; 0 picks one from N.").tag(sync=True)
    view = traitlets.Unicode("tsne", help="Which layout is drawn: 'tsne' (the optimizer's) or 'pca' (the start).").tag(sync=True)
    selection = traitlets.List(traitlets.Int(), help="Indices of the points lassoed in the plot (sorted); settable from code.").tag(sync=True)
    title = traitlets.Unicode("", help="Title shown above the plot and in reports.").tag(sync=True)

    def __init__(
        self,
        X: Any,
        *,
        labels: Any = None,
        color: Any = None,
        color_label: str = "",
        colormap: str = DEFAULT_COLORMAP,
        texts: Sequence[Any] | None = None,
        images: Any = None,
        autostart: bool = True,
        title: str = "",
        keyframe_every: int = 10,
        keyframe_budget_mb: float = 48.0,
        kl_every: int | None = None,
        **tsne_params: Any,
    ) -> None:
        """Find the neighbours of `X`, build P and (with `autostart`) start streaming the run.

        Every argument is described in the class docstring; `tsne_params` are the settings of
        `nbviz.tsne.TSNE` (`perplexity`, `n_iter`, `init`, `random_state`, ...). Bad input raises
        ValueError (`nbviz.tsne.TSNEError`) naming the argument.
        """
        from nbviz.tsne import TSNE, as_matrix

        if isinstance(keyframe_budget_mb, bool) or not isinstance(keyframe_budget_mb, (int, float)) \
                or not keyframe_budget_mb > 0:
            raise ValueError(f"keyframe_budget_mb must be a positive number of megabytes, got {keyframe_budget_mb!r}")

        matrix = as_matrix(X)
        n_points = int(matrix.shape[0])
        codes, names = encode_labels(labels, n_points) if labels is not None else (None, [])
        text_list = encode_texts(texts, n_points)
        thumbs, thumb_shape = encode_thumbnails(images, n_points)
        self._tsne = TSNE(**tsne_params)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self._optimizer = self._tsne.optimizer(matrix)
        self._recorder = KeyframeRecorder(every=keyframe_every, budget_bytes=int(keyframe_budget_mb * 2**20))
        self._recording_lock = threading.Lock()  # the recorder and the KL points
        self._frame_encoder = FrameEncoder()
        self._kl_points: list[list[float]] = []
        self._last_kl: float | None = None
        self._engine_lock = threading.RLock()
        self._writer = threading.local()  # per thread: are trait writes coming from the engine?
        self._kernel = KernelThread()
        self._target_iteration = int(self._optimizer.n_iter)
        learning_rate = 0.0 if self._tsne.learning_rate == "auto" else float(self._tsne.learning_rate)
        self._settings = LiveSettings({
            "perplexity": float(self._optimizer.perplexity),
            "exaggeration": float(self._optimizer.exaggeration),
            "learning_rate": learning_rate,
        })
        self._shown_exaggeration: float | None = None  # worker side: the last one it reported
        traits = dict(
            n_points=n_points,
            n_dims=int(self._optimizer.embedding.shape[1]),
            label_codes=codes.tobytes() if codes is not None else b"",
            label_names=names,
            texts=text_list,
            thumbnails=thumbs,
            thumbnail_shape=list(thumb_shape),
            pca_positions=_layout_to_numpy(self._optimizer.initial_embedding).tobytes(),
            n_iter=self._target_iteration,
            perplexity=float(self._optimizer.perplexity),
            exaggeration=float(self._optimizer.exaggeration),
            learning_rate=learning_rate,
            notice=_warnings_text(caught),
            title=title,
        )
        with self._engine_values():
            super().__init__(**traits)
        self._streamer = FrameStreamer(
            self._optimizer,
            StreamCallbacks(
                on_frame=self._send_frame,
                on_step=self._after_step,
                on_state=self._set_status,
                on_settle=self._publish_settled,
                on_error=self._report_error,
            ),
            kl_every=kl_every if kl_every is not None else default_kl_every(n_points),
            finished=self._reached_target,
        )
        self._init_projector(matrix, color, color_label, colormap)
        self._publish_settled()
        self.on_msg(self._handle_message)
        if autostart:
            self.start()

    # ---- read-only results ------------------------------------------------------------------
    @property
    def embedding(self) -> np.ndarray:
        """The current layout, an N x 2 float32 array (a copy)."""
        with self._engine_lock:
            return _layout_to_numpy(self._optimizer.embedding)

    @property
    def iteration(self) -> int:
        """Optimizer iterations done so far (one counter across both phases)."""
        return int(self._optimizer.iteration)

    @property
    def kl(self) -> float | None:
        """The latest KL divergence (corrected for exaggeration); computed now if none was yet."""
        if self._last_kl is None and not self._streamer.alive:
            with self._engine_lock:
                self._last_kl = float(self._optimizer.kl_divergence())
        return self._last_kl

    @property
    def optimizer(self) -> Any:
        """The underlying `nbviz.tsne.TSNEOptimizer` (for inspection; control it via this widget)."""
        return self._optimizer

    # ---- control --------------------------------------------------------------------------
    def start(self) -> None:
        """Start (or continue) the optimisation in the background; the notebook stays usable.

        After the run has finished, `start()` optimises for `EXTRA_ITERATIONS` more (at
        exaggeration 1), e.g. to let the layout settle after a perplexity change.
        """
        self._show(key="error", error="")
        if self._reached_target():
            self._extend_run()
        self._streamer.start(paused=False)

    def resume(self) -> None:
        """Continue after `pause()`."""
        self.start()

    def pause(self) -> None:
        """Freeze the optimisation after the current iteration; `resume()` continues."""
        if self._streamer.alive:
            self._streamer.pause()

    def stop(self) -> None:
        """End the background thread (the layout so far is kept; `start()` continues from it)."""
        self._streamer.stop()

    def step(self) -> None:
        """Take exactly one iteration and show it (pauses a running optimisation first)."""
        if self._reached_target():
            self._extend_run()
        self._streamer.step_once()

    def restart(self, random_state: int | None = None) -> None:
        """Start over at iteration 0 and run; P and the live settings are kept.

        With `random_state`, the start is Gaussian noise (std 1e-4) drawn with that seed, under
        any init: seeds 0 and 1 give different runs, the same seed the same run. Without one,
        init="pca" (the default) or an init array starts from the same layout as before (the
        same run again), init="random" from fresh noise. See `nbviz.tsne.TSNEOptimizer.restart`.
        """

        def do_restart() -> None:
            with self._engine_lock:
                self._optimizer.restart(random_state=random_state)
                start = _layout_to_numpy(self._optimizer.embedding)
            with self._recording_lock:
                self._recorder.clear()
                self._recorder.record(0, start)
                self._kl_points = []
            self._last_kl = None
            self._shown_exaggeration = None
            self._target_iteration = int(self._optimizer.n_iter)
            self._show(key="n_iter", n_iter=self._target_iteration)
            self._show(key="activity", activity="")
            self._streamer.force_frame(self._current_frame())

        self._show(key="error", error="")
        self._streamer.submit(self._guarded(do_restart))
        if not self._streamer.alive:
            self._publish_settled()
        self._streamer.start(paused=False)

    def add_points(
        self,
        X_new: Any,
        *,
        labels: Any = None,
        texts: Sequence[Any] | None = None,
        images: Any = None,
        color: Any = None,
        **placement: Any,
    ) -> range:
        """Add the rows of `X_new` (M x D, the columns the plot was made from) as new points.

        Each new point is placed against the layout as it is, which stays put while they move in
        (the placement of `nbviz.tsne.TSNE.transform`, openTSNE's defaults: perplexity 5, start
        at the median of the 25 nearest points, 250 iterations; `placement` overrides them, see
        `nbviz.tsne.transform.TransformSettings`), streamed live. Then the run holds N + M points:
        neighbours and P are rebuilt over all of them, so play (or a running optimisation)
        optimises every point from there. The replay timeline restarts at this moment, and the
        PCA view shows each new point at the median PCA position of its nearest fitted points.

        A plot made with `labels`, `texts`, `images` or `color` needs them for the new points
        too (new label values join the legend). Everything is checked before anything changes:
        a bad argument raises `nbviz.tsne.TSNEError` (or ValueError) and the plot stays as it was;
        an error while placing is shown in the widget and the plot goes back to its N points.
        Returns the new points' indices, range(N, N + M). The placement runs in the background,
        between two steps of a running or paused optimisation; on a finished or stopped one,
        `wait()` blocks until it is done.
        """
        from nbviz.tsne import as_matrix
        from nbviz.tsne.transform import TransformSettings
        from nbviz.widgets.tsne_growth import joined_extras

        try:
            settings = TransformSettings(**placement)
        except TypeError as error:
            raise TSNEError(f"unknown placement setting ({error}); valid ones: "
                            f"{', '.join(TransformSettings.__annotations__)}") from None
        matrix = as_matrix(X_new)
        if matrix.ndim != 2 or matrix.shape[1] != self._optimizer.n_features:
            raise TSNEError(f"X_new has {matrix.shape[1]} columns but the plot was made from "
                            f"{self._optimizer.n_features}; pass rows with the same columns, in the same order")
        n_old, n_new = self.n_points, int(matrix.shape[0])
        grown = joined_extras(self, n_new, labels=labels, texts=texts, images=images, color=color)
        self._show(key="error", error="")
        grow = self._guarded(lambda: self._grow(matrix, grown, settings))
        if self._streamer.alive:  # running or paused: placed between two steps
            self._streamer.submit(grow)
        elif self._reached_target():  # a finished run: the worker places them and finishes again
            self._streamer.start(paused=False)
            self._streamer.submit(grow)
        else:  # never started, or stopped: a paused worker places them and stops
            self._streamer.start(paused=True)
            self._streamer.submit(grow)
            self._streamer.submit(lambda: self._streamer.stop(timeout=0))
        return range(n_old, n_old + n_new)

    def _grow(self, matrix: Any, grown: dict[str, Any], settings: Any) -> None:
        """Worker: show the plot with the new points at their starts, stream their placement
        against the fixed layout, then grow the run (see `add_points`). On failure the plot's
        traits go back to the old points and the run is unchanged."""
        import time

        import torch

        n_old, n_new = self.n_points, int(matrix.shape[0])
        started = time.perf_counter()
        with self._engine_lock:
            batch = self._optimizer.prepare_points(matrix, settings)
            pca_start = np.concatenate([self._optimizer.initial_embedding, _layout_to_numpy(batch.start)])
        kept = {name: getattr(self, name) for name in (*grown, "pca_positions", "positions", "positions_seq")}
        shown = threading.Event()

        def write_grown() -> None:
            self._write_traits(dict(
                grown, pca_positions=pca_start.tobytes(), positions_seq=self._streamer.last_seq,
                positions=_layout_to_numpy(torch.cat([batch.fitted_layout, batch.layout])).tobytes(),
            ))
            shown.set()

        self._show(key="activity", activity=f"placing {n_new:,} new points against {n_old:,} fixed ones…")
        self._kernel.call(write_grown, key="grow")
        shown.wait(timeout=2.0)  # a view still at N points drops frames of N + M (it acks them)

        def stream(_iteration: int, placed: torch.Tensor) -> None:
            frame = self._current_frame()
            frame.embedding = torch.cat([batch.fitted_layout, placed])
            self._streamer.offer_frame(frame)

        try:
            batch.place(stream)
            with self._engine_lock:
                self._optimizer.admit(batch)
        except BaseException:
            self._show(key="grow", **kept)
            self._show(key="activity", activity="")
            raise
        self._reset_point_data(self._optimizer.data)
        with self._recording_lock:
            self._recorder.clear()
        seconds = time.perf_counter() - started
        self._show(key="activity", activity="")
        self._show(key="notice", notice=f"added {n_new:,} points (placed in {seconds:.1f} s); "
                                        f"{n_old + n_new:,} points, P rebuilt over all of them")
        self._streamer.force_frame(self._current_frame())
        self._publish_settled()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended (finished, stopped or failed); True if it finished.

        While this blocks, the kernel cannot read the browser's acknowledgements, so frames are
        paced by a short timeout instead (a few per second) and the plot keeps moving; the
        progress, status and final layout are written into the traits from here as they come,
        so they are all set when this returns.
        """
        ended = self._streamer.wait(timeout, unacked_after_s=self.WAIT_FRAME_INTERVAL_S, poll=self._kernel.drain)
        return ended and self._streamer.state == "finished"

    def close(self) -> None:
        """Stop the background thread, then close the widget."""
        streamer = getattr(self, "_streamer", None)  # absent when the constructor raised
        if streamer is not None:
            streamer.stop(timeout=10.0)
        optimizer = getattr(self, "_optimizer", None)
        if optimizer is not None:
            optimizer.close()
        kernel = getattr(self, "_kernel", None)
        if kernel is not None:
            kernel.drain()
            kernel.close()
        super().close()

    def export_state(self) -> dict[str, Any]:
        """Traits for an offline report, with the keyframes and the layout as of now."""
        self._publish_settled()
        return super().export_state()

    def snapshot_figure(self, *, figsize: tuple[float, float] | None = None) -> Figure:
        """The current embedding as a matplotlib Figure (for `to_png`), coloured by label with a
        legend; the title, iteration, KL divergence and point count above it."""
        # Loaded on the first snapshot: importing this widget does not pay for matplotlib.figure (~0.5 s).
        from nbviz.widgets.tsne_snapshot import scatter_figure

        layout = self.embedding
        codes = np.frombuffer(self.label_codes, dtype="<u2") if self.label_codes else None
        kl = self.kl
        kl_text = f"KL {kl:.3f}" if kl is not None else "KL not computed yet"
        return scatter_figure(
            layout, codes, list(self.label_names), title=self.title or "t-SNE",
            subtitle=f"iteration {self.iteration} · {kl_text} · {len(layout)} points", figsize=figsize,
        )

    def _reached_target(self) -> bool:
        return int(self._optimizer.iteration) >= self._target_iteration

    def _extend_run(self) -> None:
        self._target_iteration = int(self._optimizer.iteration) + self.EXTRA_ITERATIONS
        self._show(key="n_iter", n_iter=self._target_iteration)

    # ---- worker-thread callbacks ------------------------------------------------------------
    def _current_frame(self) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(
            iteration=int(self._optimizer.iteration),
            embedding=self._optimizer.embedding,
            kl=self._last_kl,
            exaggeration=float(getattr(self._optimizer, "exaggeration", self.exaggeration)),
        )

    def _send_frame(self, frame: Any, seq: int) -> None:
        layout = _layout_to_numpy(frame.embedding)
        content = {
            "type": "frame",
            "seq": seq,
            "iteration": int(frame.iteration),
            "kl": None if frame.kl is None else float(frame.kl),
            "exaggeration": float(frame.exaggeration),
        }
        extra, buffer = self._frame_encoder.encode(layout)
        self.send({**content, **extra}, buffers=[buffer])

    def _after_step(self, frame: Any) -> None:
        """Worker thread, after every step: keyframes, the KL curve, the exaggeration in use."""
        keyframes = progress = None
        with self._recording_lock:
            if self._recorder.wants(frame.iteration):
                self._recorder.record(frame.iteration, _layout_to_numpy(frame.embedding))
                keyframes = self._keyframes_for_live_sync()
            if frame.kl is not None:
                self._last_kl = float(frame.kl)
                self._kl_points.append([float(frame.iteration), float(frame.kl)])
                if len(self._kl_points) > self.KL_HISTORY_LIMIT:
                    self._kl_points = self._kl_points[:-1:2] + self._kl_points[-1:]
                progress = dict(iteration_count=int(frame.iteration), kl_history=list(self._kl_points))
        if keyframes is not None:
            self._show(key="keyframes", **keyframes)
        if progress is not None:
            self._show(key="progress", **progress)
        exaggeration = float(frame.exaggeration)
        if exaggeration != self._shown_exaggeration:  # the schedule moved on, or a new setting took
            self._shown_exaggeration = exaggeration
            self._show_setting("exaggeration", exaggeration, self._settings.taken("exaggeration"))

    def _keyframes_for_live_sync(self) -> dict[str, Any] | None:
        """The recording's traits, when it is due for a sync during a run (less often as it grows:
        each sync resends it all); None otherwise. Called under `_recording_lock`."""
        recorded = len(self._recorder.iterations)
        size = recorded * self.n_points * 4
        if size > self.LIVE_KEYFRAME_SYNC_LIMIT or recorded % (1 + size // 250_000):
            return None
        return self._keyframe_traits()

    def _keyframe_traits(self) -> dict[str, Any]:
        """The recorded keyframes as trait values (called under `_recording_lock`)."""
        return dict(
            keyframes=self._recorder.packed(),
            keyframe_iterations=list(self._recorder.iterations),
            keyframe_bounds=[list(b) for b in self._recorder.bounds],
        )

    def _set_status(self, state: str) -> None:
        self._show(key="status", status=state)

    def _publish_settled(self) -> None:
        """Put the layout as of now, the keyframes and the progress into traits (on the kernel's
        thread; called from the worker when the layout settles, or from the kernel)."""
        with self._engine_lock:
            iteration = int(self._optimizer.iteration)
            layout = _layout_to_numpy(self._optimizer.embedding)
            self._optimizer.close()  # the work arrays are made again if the run goes on
        with self._recording_lock:
            if not self._recorder.iterations or self._recorder.iterations[-1] != iteration:
                self._recorder.record(iteration, layout)
            values = dict(self._keyframe_traits(), iteration_count=iteration, kl_history=list(self._kl_points))
        streamer = getattr(self, "_streamer", None)
        values.update(positions=layout.tobytes(), positions_seq=streamer.last_seq if streamer is not None else 0)
        finished = self._reached_target()

        def publish() -> None:
            self._write_traits(values)
            if finished and self.status != "running":
                self._write_traits({"status": "finished", "activity": ""})

        self._kernel.call(publish, key="settled")

    def _report_error(self, exc: BaseException) -> None:
        self._show(key="error", error=f"{type(exc).__name__}: {exc}")

    # ---- trait writes by the engine -----------------------------------------------------------
    def _write_traits(self, values: dict[str, Any]) -> None:
        """Set `values` as engine values (observers do not echo them back as commands); call on
        the kernel's thread, through `self._kernel`."""
        with self._engine_values(), self._kernel.held(self):
            for name, value in values.items():
                setattr(self, name, value)

    def _show(self, *, key: str, **values: Any) -> None:
        """Write trait `values` on the kernel's thread (now, or queued there from a worker);
        a queued write with the same `key` is replaced, so `values` must be complete for it."""
        self._kernel.call(lambda: self._write_traits(values), key=key)

    def _show_setting(self, name: str, value: float, count: int) -> None:
        """Show the engine's `value` of setting `name`, as of the user's write number `count`,
        unless the user has written it again since (their newer value stays)."""

        def show() -> None:
            if self._settings.is_current(name, count):
                self._write_traits({name: value})

        self._kernel.call(show, key=f"setting:{name}")

    # ---- settings from the sliders or from Python -------------------------------------------
    @property
    def _from_engine(self) -> bool:
        return getattr(self._writer, "from_engine", False)

    @contextmanager
    def _engine_values(self) -> Iterator[None]:
        """Trait writes inside come from the engine, so the observers must not echo them back."""
        previous = self._from_engine
        self._writer.from_engine = True
        try:
            yield
        finally:
            self._writer.from_engine = previous

    def _guarded(self, command: Any) -> Any:
        """Wrap a command so an engine error is shown in the widget instead of ending the worker."""

        def run() -> None:
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    command()
                if caught:
                    self._show(key="notice", notice=_warnings_text(caught))
            except ValueError as exc:
                self._show(key="error", error=str(exc))

        return run

    @traitlets.validate("perplexity", "exaggeration", "learning_rate")
    def _count_user_write(self, proposal: dict) -> Any:
        """A user's change of a live setting: counted before it is stored, so an engine value
        still on its way to the trait (`_show_setting`) is known to be stale. A write of the
        value already there changes nothing (no command follows) and is not counted."""
        name = proposal["trait"].name
        if not self._from_engine and float(proposal["value"]) != float(getattr(self, name)):
            with self._kernel.lock:
                self._settings.count_write(name)
        return proposal["value"]

    @traitlets.observe("perplexity")
    def _perplexity_changed(self, change: dict) -> None:
        def set_perplexity(value: float) -> float:
            self._show(key="activity", activity=RECOMPUTING_AFFINITIES)
            with self._engine_lock, warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self._optimizer.set_perplexity(value)
                used = float(self._optimizer.perplexity)
            # The engine may lower a perplexity that is too large for N: the notice says why.
            self._show(key="notice", notice=_warnings_text(caught))
            return used

        self._submit_setting(change, "perplexity", "perplexity", set_perplexity)

    @traitlets.observe("exaggeration")
    def _exaggeration_changed(self, change: dict) -> None:
        def set_exaggeration(value: float) -> float:
            with self._engine_lock:
                self._optimizer.set_exaggeration(value)
            return value

        self._submit_setting(change, "exaggeration", "exaggeration", set_exaggeration)

    @traitlets.observe("learning_rate")
    def _learning_rate_changed(self, change: dict) -> None:
        def set_learning_rate(value: float) -> float:
            with self._engine_lock:
                self._optimizer.set_learning_rate("auto" if value <= 0 else value)
            return max(value, 0.0)  # any value <= 0 means "auto", shown as 0

        self._submit_setting(change, "learning_rate", "learning rate", set_learning_rate)

    def _submit_setting(self, change: dict, trait: str, label: str, setter: Callable[[float], float]) -> None:
        """Apply a user's change on the streaming thread, between two optimizer steps.

        `setter(value)` returns the value the engine then uses, shown in the trait when it
        differs; a finished or stopped run then goes on, and `activity` says so ("perplexity 50 ·
        continuing 250 iterations"). A value the engine rejects is shown as an error and the
        trait goes back to the value the engine uses. The trait is written only while the user
        has not written the setting again.
        """
        if self._from_engine:
            return
        new = float(change["new"])
        count = self._settings.written(trait)

        def apply() -> None:
            try:
                used = setter(new)
            except ValueError as exc:
                kept = self._engine_value(trait)
                self._settings.took(trait, count, kept)
                self._show(key="error", error=f"{label} {new:g} was not applied: {exc}")
                self._show(key="activity", activity="")
                self._show_setting(trait, kept, count)
                return
            self._settings.took(trait, count, used)
            self._show(key="error", error="")
            if used != new:
                self._show_setting(trait, used, count)
            self._show(key="activity", activity=f"{setting_text(trait, used)} · {self._what_follows()}")
            self._continue_if_idle()

        self._streamer.submit(apply)

    def _engine_value(self, trait: str) -> float:
        """The value the engine uses for setting `trait`, in the trait's terms."""
        if trait == "perplexity":
            return float(self._optimizer.perplexity)
        if trait == "exaggeration":
            return float(self._optimizer.exaggeration)  # the user's override, else the schedule's
        return self._settings.engine_value(trait)  # learning rate: 0 stands for "auto"

    def _what_follows(self) -> str:
        """What the run does after a setting change: "continuing 250 iterations" when it goes on
        now (running, or finished / stopped and about to continue), else when it will apply."""
        state = self._streamer.state
        if state in ("running", "finished", "stopped"):
            remaining = self._target_iteration - int(self._optimizer.iteration)
            if remaining <= 0:
                remaining = self.EXTRA_ITERATIONS  # what `start()` adds to a finished run
            return f"continuing {remaining:,} iteration{'s' if remaining != 1 else ''}"
        return "applies from the next iteration"

    def _continue_if_idle(self) -> None:
        """A new setting took on a finished or stopped run: optimise on so its effect shows (a
        worker about to end carries on)."""
        if self._streamer.state in ("finished", "stopped"):
            self.start()

    @traitlets.validate("view")
    def _valid_view(self, proposal: dict) -> str:
        if proposal["value"] not in ("tsne", "pca"):
            raise traitlets.TraitError(f"view must be 'tsne' or 'pca', got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("selection")
    def _valid_selection(self, proposal: dict) -> list[int]:
        indices = [int(i) for i in proposal["value"]]
        bad = [i for i in indices if not 0 <= i < self.n_points]
        if bad:
            raise traitlets.TraitError(
                f"selection holds point indices outside 0..{self.n_points - 1} (e.g. {bad[0]})"
            )
        return sorted(set(indices))

    # ---- messages from the front end -------------------------------------------------------------
    def _handle_message(self, _widget: Any, content: dict, _buffers: list) -> None:
        kind = content.get("type")
        if kind == "ack":
            self._streamer.ack(int(content.get("seq", 0)))
        elif kind == "hello":
            self._streamer.consumer_reset()
        if kind in ("hello", "view_span") and "span_px" in content:
            self._frame_encoder.report(str(content.get("view", "")), float(content["span_px"]))
        elif kind == "command":
            action = {
                "play": self.start,
                "pause": self.pause,
                "stop": self.stop,
                "step": self.step,
                "restart": lambda: self.restart(content.get("random_state")),
            }.get(content.get("name"))
            if action is not None:
                action()
