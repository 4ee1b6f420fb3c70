"""TSNEScatter: a live t-SNE whose every iteration streams into a WebGL scatter plot.

The optimizer (`nbviz.tsne`) runs in a background thread (`FrameStreamer`); frames travel as
binary float32 buffers in custom messages under ack-based flow control; keyframes, the PCA start
and the settled layout live in traits so a later view, a re-render or an exported report has them.

Messages, front end -> kernel: {"type": "hello"} when a view appears, {"type": "ack", "seq": s}
after a frame is drawn, {"type": "command", "name": "play" | "pause" | "stop" | "restart" | "step"}.
{"type": "hello" | "view_span", "view": id, "span_px": p} says over how many device pixels a
view draws the layout's longer side. Kernel -> front end: {"type": "frame", "seq", "iteration",
"kl", "exaggeration"} with one buffer, the N x 2 float32 layout, or uint16 codes plus "bounds"
when that changes no pixel in any view (see nbviz.widgets.tsne_frames).
"""
from __future__ import annotations

import threading
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np
import traitlets

from nbviz.widgets.base import NbvizWidget
from nbviz.widgets.streaming import FrameStreamer, StreamCallbacks
from nbviz.widgets.tsne_frames import FrameEncoder
from nbviz.widgets.tsne_inputs import encode_labels, encode_texts, encode_thumbnails
from nbviz.widgets.tsne_keyframes import KeyframeRecorder
from nbviz.widgets.tsne_projector import DEFAULT_COLORMAP, ProjectorTools

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _layout_to_numpy(embedding: Any) -> np.ndarray:
    """A float32 N x 2 (N x 3) copy of a layout (torch tensor on any device, or array): never a view."""
    if hasattr(embedding, "detach"):
        embedding = embedding.detach().to("cpu").float().numpy()
    return np.array(embedding, dtype=np.float32, copy=True, order="C")


def _warnings_text(caught: list[warnings.WarningMessage]) -> str:
    return " ".join(str(w.message) for w in caught)


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
    With `autostart` the optimisation begins at once; otherwise call `start()` or press play.
    `kl_every`: iterations between KL evaluations for the curve; None picks 10 below 10,000
    points and fewer evaluations above (each costs about 1.5 gradient passes there).
    """

    _bundle_name = "tsne_scatter"
    _summary = "live t-SNE scatter plot"
    #: Iterations added when a finished run is continued (play, or a new perplexity).
    EXTRA_ITERATIONS = 250
    #: While `wait()` blocks the kernel, an unacknowledged frame counts as delivered after this long.
    WAIT_FRAME_INTERVAL_S = 0.25
    #: Above this many bytes of keyframes, the recording is synced only when the layout settles.
    LIVE_KEYFRAME_SYNC_LIMIT = 4 * 2**20

    # Data the front end draws (binary, little-endian).
    n_points = traitlets.Int(0).tag(sync=True)
    n_dims = traitlets.Int(2).tag(sync=True)  # 2, or 3 for a point cloud the view orbits
    label_codes = traitlets.Bytes(b"").tag(sync=True)
    label_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    texts = traitlets.List(traitlets.Unicode()).tag(sync=True)
    thumbnails = traitlets.Bytes(b"").tag(sync=True)
    thumbnail_shape = traitlets.List(traitlets.Int(), default_value=[0, 0]).tag(sync=True)
    positions = traitlets.Bytes(b"").tag(sync=True)  # settled layout, float32 N x 2
    # Sequence number of the last frame sent before `positions` was set: older frames are stale.
    positions_seq = traitlets.Int(0).tag(sync=True)
    pca_positions = traitlets.Bytes(b"").tag(sync=True)  # the PCA start, float32 N x 2
    keyframes = traitlets.Bytes(b"").tag(sync=True)  # uint16 K x N x 2
    keyframe_iterations = traitlets.List(traitlets.Int()).tag(sync=True)
    keyframe_bounds = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)

    # Progress, as the kernel last reported it.
    status = traitlets.Unicode("idle").tag(sync=True)  # idle running paused stopped finished error
    iteration_count = traitlets.Int(0).tag(sync=True)
    n_iter = traitlets.Int(0).tag(sync=True)
    kl_history = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)

    # Settings the user changes from the sliders or from Python.
    perplexity = traitlets.Float(30.0).tag(sync=True)
    exaggeration = traitlets.Float(1.0).tag(sync=True)
    learning_rate = traitlets.Float(0.0).tag(sync=True)  # 0 = "auto" (N / exaggeration)
    point_size = traitlets.Float(0.0).tag(sync=True)  # pixels; 0 = chosen from N
    opacity = traitlets.Float(0.0).tag(sync=True)  # 0..1; 0 = chosen from N
    view = traitlets.Unicode("tsne").tag(sync=True)  # "tsne" or "pca"
    selection = traitlets.List(traitlets.Int()).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)

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
        kl_every: int | None = None,
        **tsne_params: Any,
    ) -> None:
        from nbviz.tsne import TSNE, as_matrix

        matrix = as_matrix(X)
        n_points = int(matrix.shape[0])
        codes, names = encode_labels(labels, n_points) if labels is not None else (None, [])
        text_list = encode_texts(texts, n_points)
        thumbs, thumb_shape = encode_thumbnails(images, n_points)
        self._tsne = TSNE(**tsne_params)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self._optimizer = self._tsne.optimizer(matrix)
        self._recorder = KeyframeRecorder(every=keyframe_every)
        self._frame_encoder = FrameEncoder()
        self._kl_points: list[list[float]] = []
        self._last_kl: float | None = None
        self._engine_lock = threading.RLock()
        self._writer = threading.local()  # per thread: are trait writes coming from the engine?
        self._exaggeration_overridden = False
        self._target_iteration = int(self._optimizer.n_iter)
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
            learning_rate=0.0 if self._tsne.learning_rate == "auto" else float(self._tsne.learning_rate),
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
        self.error = ""
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
        """Start over from the initial layout (a new seed gives a different run) and run."""

        def do_restart() -> None:
            with self._engine_lock:
                self._optimizer.restart(random_state=random_state)
            self._recorder.clear()
            self._kl_points = []
            self._last_kl = None
            self._exaggeration_overridden = False
            self._target_iteration = int(self._optimizer.n_iter)
            with self._engine_values():
                self.n_iter = self._target_iteration
            self._record_keyframe(0, self._optimizer.embedding)
            self._streamer.force_frame(self._current_frame())

        self.error = ""
        self._streamer.submit(self._guarded(do_restart))
        if not self._streamer.alive:
            self._publish_settled()
        self._streamer.start(paused=False)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended (finished, stopped or failed); True if it finished.

        While this blocks, the kernel cannot read the browser's acknowledgements, so frames are
        paced by a short timeout instead (a few per second) and the plot keeps moving.
        """
        flow = self._streamer.flow
        saved, flow.timeout_s = flow.timeout_s, self.WAIT_FRAME_INTERVAL_S
        try:
            thread = self._streamer._thread
            if thread is not None:
                thread.join(timeout)
        finally:
            flow.timeout_s = saved
        return self.status == "finished"

    def close(self) -> None:
        """Stop the background thread, then close the widget."""
        streamer = getattr(self, "_streamer", None)  # absent when the constructor raised
        if streamer is not None:
            streamer.stop(timeout=10.0)
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
        with self._engine_values():
            self.n_iter = self._target_iteration

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

    def _record_keyframe(self, iteration: int, embedding: Any) -> None:
        self._recorder.record(iteration, _layout_to_numpy(embedding))

    def _after_step(self, frame: Any) -> None:
        if self._recorder.wants(frame.iteration):
            self._record_keyframe(frame.iteration, frame.embedding)
            self._publish_keyframes_while_running()
        if frame.kl is not None:
            self._last_kl = float(frame.kl)
            self._kl_points.append([float(frame.iteration), float(frame.kl)])
            with self._engine_values():
                self.iteration_count = int(frame.iteration)
                self.kl_history = list(self._kl_points)
        if not self._exaggeration_overridden and float(frame.exaggeration) != self.exaggeration:
            with self._engine_values():
                self.exaggeration = float(frame.exaggeration)

    def _publish_keyframes_while_running(self) -> None:
        """Sync the recording during a run, less often as it grows (each sync resends it all)."""
        recorded = len(self._recorder.iterations)
        size = recorded * self.n_points * 4
        if size > self.LIVE_KEYFRAME_SYNC_LIMIT or recorded % (1 + size // 250_000):
            return
        with self._engine_values(), self.hold_sync():
            self.keyframes = self._recorder.packed()
            self.keyframe_iterations = list(self._recorder.iterations)
            self.keyframe_bounds = [list(b) for b in self._recorder.bounds]

    def _set_status(self, state: str) -> None:
        self.status = state

    def _publish_settled(self) -> None:
        """Put the layout as of now, the keyframes and the progress into traits."""
        with self._engine_lock:
            iteration = int(self._optimizer.iteration)
            layout = _layout_to_numpy(self._optimizer.embedding)
        if not self._recorder.iterations or self._recorder.iterations[-1] != iteration:
            self._recorder.record(iteration, layout)
        with self._engine_values(), self.hold_sync():
            self.keyframes = self._recorder.packed()
            self.keyframe_iterations = list(self._recorder.iterations)
            self.keyframe_bounds = [list(b) for b in self._recorder.bounds]
            self.iteration_count = iteration
            self.kl_history = list(self._kl_points)
            self.positions = layout.tobytes()
            streamer = getattr(self, "_streamer", None)
            self.positions_seq = streamer.last_seq if streamer is not None else 0
            if self._reached_target() and self.status not in ("running",):
                self.status = "finished"

    def _report_error(self, exc: BaseException) -> None:
        self.error = f"{type(exc).__name__}: {exc}"

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
                    self.notice = _warnings_text(caught)
            except ValueError as exc:
                self.error = str(exc)

        return run

    def _revert(self, name: str, value: Any) -> None:
        with self._engine_values():
            setattr(self, name, value)

    @traitlets.observe("perplexity")
    def _perplexity_changed(self, change: dict) -> None:
        def set_perplexity(value: float) -> None:
            with self._engine_lock, warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self._optimizer.set_perplexity(value)
            self.notice = _warnings_text(caught)
            # The engine may lower a perplexity that is too large for N: show what it used.
            self._revert("perplexity", float(self._optimizer.perplexity))

        self._submit_setting(change, "perplexity", "perplexity", set_perplexity)

    @traitlets.observe("exaggeration")
    def _exaggeration_changed(self, change: dict) -> None:
        def set_exaggeration(value: float) -> None:
            with self._engine_lock:
                self._optimizer.set_exaggeration(value)
            self._exaggeration_overridden = True

        self._submit_setting(change, "exaggeration", "exaggeration", set_exaggeration)

    @traitlets.observe("learning_rate")
    def _learning_rate_changed(self, change: dict) -> None:
        def set_learning_rate(value: float) -> None:
            with self._engine_lock:
                self._optimizer.set_learning_rate("auto" if value <= 0 else value)

        self._submit_setting(change, "learning_rate", "learning rate", set_learning_rate)

    def _submit_setting(self, change: dict, trait: str, label: str, setter) -> None:
        """Apply a slider change on the streaming thread, between two optimizer steps.

        A value the engine rejects is shown as an error and the slider goes back to the old value.
        """
        if self._from_engine:
            return
        new, old = float(change["new"]), float(change["old"])

        def apply() -> None:
            try:
                setter(new)
                self.error = ""
            except ValueError as exc:
                self.error = f"{label} {new:g} was not applied: {exc}"
                self._revert(trait, old)

        self._streamer.submit(apply)
        self._continue_if_idle()

    def _continue_if_idle(self) -> None:
        """A new setting on a finished or stopped run: optimise on so its effect shows."""
        if self.status in ("finished", "stopped") and not self._streamer.alive:
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
