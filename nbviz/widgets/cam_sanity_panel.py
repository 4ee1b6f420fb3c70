"""The explorer's "Sanity check" button: :func:`nbviz.cam.sanity_check` for the map on screen.

It runs on its own worker thread, on a copy of the model (the maps on screen keep computing), one
check at a time: a new request cancels the one before, and a change of image, layer, class or method
clears the result (it would describe another map). Progress and the result travel in the widget's
``_sanity`` trait, written on the kernel's thread (``KernelThread``), so every view of the widget
and a saved report show the same state:

  {"id", "key", "state": "running", "done", "total"}
  {"id", "key", "state": "done", "blocks": [...], "shape": [h, w], "original": uint8 bytes (h w),
   "maps": uint8 bytes (S h w), "curves": {measure: [S floats]}, "measure", "threshold", "middle",
   "first_below", "verdict", "summary", "seconds"}
  {"id", "key", "state": "error" | "cancelled", "message"}

The small maps are the cascade's maps at the resolution the method computes them (the layer's grid),
as unit codes (one byte per value: round(255 v), ``nbviz.report.compact``); maps finer than ``STRIP_MAX_SIDE`` (guided methods work at the
input's resolution) are averaged over blocks of pixels down to it, for the strip only.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

import torch

from nbviz.report.compact import unit_codes
from nbviz.widgets.cam_jobs import Job, JobScheduler, throttled
from nbviz.widgets.kernel_thread import KernelThread

log = logging.getLogger("nbviz.cam_explorer")

SANITY_MESSAGES = ("sanity", "sanity-cancel")
STRIP_MAX_SIDE = 56
PROGRESS_INTERVAL_S = 0.1
PAPER = "Adebayo et al., Sanity Checks for Saliency Maps, NeurIPS 2018"
CANCELLED = {"state": "cancelled", "message": "The sanity check was cancelled."}


@dataclass(frozen=True)
class SanityRequest:
    """The map whose sanity is checked: its key, method, layer, engine target and (1, C, H, W) input."""

    key: str
    method: str
    layer: str
    target: Any
    x: torch.Tensor


class SanityRunner:
    """Runs sanity checks for a widget and publishes their state through ``publish(payload)``.

    ``snapshot()`` returns a copy of the model that no other thread uses (the widget copies it under
    its engine lock); ``publish`` is called on the kernel's thread only.
    """

    def __init__(self, snapshot: Callable[[], torch.nn.Module], publish: Callable[[dict], None]) -> None:
        self._snapshot = snapshot
        self._publish = publish
        self._kernel = KernelThread()
        self._scheduler = JobScheduler(self._execute, name="nbviz-cam-sanity")
        self._lock = threading.Lock()
        self._current: Job | None = None  # the job whose state is (or will be) on screen
        self._result = None
        self._result_key: str | None = None

    @property
    def result(self):
        """The last finished :class:`~nbviz.cam.SanityResult` that still describes the map on screen, or None."""
        with self._lock:
            return self._result

    def on_message(self, content: dict, request_for: Callable[[dict], SanityRequest]) -> None:
        """Handle ``{"type": "sanity", "id", image, layer, target, method}`` (start) or ``"sanity-cancel"``.

        A request the widget cannot turn into a :class:`SanityRequest` raises (the widget reports it).
        """
        request_id = str(content.get("id"))
        if content.get("type") == "sanity-cancel":
            queued = self._scheduler.cancel(request_id)  # a running job reports its own cancellation
            if queued is not None:
                self._show(queued, CANCELLED)
            return
        self.start(request_id, request_for(content))

    def start(self, request_id: str, request: SanityRequest) -> None:
        """Check ``request``'s map; any check still queued or running is cancelled."""
        job = Job("sanity", request.key, request, {("view", "sanity"): request_id})
        with self._lock:
            self._current = job
            self._result, self._result_key = None, None
        self._show(job, {"state": "running", "done": 0, "total": 0})
        self._scheduler.submit_alone(job)

    def clear(self) -> None:
        """The map on screen changed: stop the running check and forget the result."""
        with self._lock:
            had_state = self._current is not None
            self._current = None
            self._result, self._result_key = None, None
        self._scheduler.cancel_all()
        if had_state:
            self._kernel.call(lambda: self._publish({}), key="sanity")

    def close(self) -> None:
        """Stop the worker thread."""
        self._scheduler.close()
        self._kernel.close()

    # ---- worker -------------------------------------------------------------------------------
    def _execute(self, job: Job) -> None:
        from nbviz import cam

        request: SanityRequest = job.params
        progress = throttled(lambda done, total: self._show(job, {"state": "running", "done": done, "total": total}),
                             PROGRESS_INTERVAL_S)
        try:
            model = self._snapshot()
            result = cam.sanity_check(model, request.x, method=request.method, layer=request.layer,
                                      target=request.target, progress=progress, cancel=job.cancel)
            del model
        except cam.Cancelled:
            self._show(job, CANCELLED)
            return
        except Exception as error:  # shown in the panel as text; the explorer stays usable
            if not isinstance(error, cam.CAMError):
                log.exception("CAMExplorer could not run the sanity check of %s", job.key)
            text = str(error) if isinstance(error, cam.CAMError) else f"{type(error).__name__}: {error}"
            self._show(job, {"state": "error", "message": text})
            return
        with self._lock:
            if job is self._current:
                self._result, self._result_key = result, job.key
        self._show(job, result_payload(result))

    def _show(self, job: Job, payload: dict) -> None:
        """Publish ``payload`` for ``job``, unless a newer request or a change of map replaced it by then."""
        request_id = next(iter(job.owners.values()))

        def update() -> None:
            with self._lock:
                current = job is self._current
            if current:
                self._publish({"id": request_id, "key": job.key, **payload})

        self._kernel.call(update, key="sanity")


def result_payload(result) -> dict[str, Any]:
    """The ``_sanity`` trait's content for a finished check (see the module doc)."""
    original = strip_bytes(result.feature_original[0])
    maps = [strip_bytes(result.feature_maps[s, 0]) for s in range(len(result.blocks))]
    curves = {name: [float(v) for v in result.curve(name)] for name in result.similarity}
    return {
        "state": "done", "blocks": list(result.blocks), "shape": list(original[1]), "original": original[0],
        "maps": b"".join(data for data, _ in maps), "curves": curves, "measure": result.verdict_measure,
        "threshold": float(result.threshold), "middle": int(result.middle), "first_below": result.first_below,
        "verdict": result.verdict, "summary": verdict_summary(result), "seconds": round(float(result.seconds), 2),
    }


def strip_bytes(values: torch.Tensor) -> tuple[bytes, tuple[int, int]]:
    """A (h, w) map in [0, 1] as unit codes (``nbviz.report.compact``: round(255 v), one byte per value),
    averaged over pixel blocks when larger than STRIP_MAX_SIDE."""
    values = values.detach().float().cpu()
    h, w = values.shape
    if max(h, w) > STRIP_MAX_SIDE:
        scale = max(h, w) / STRIP_MAX_SIDE
        size = (max(1, round(h / scale)), max(1, round(w / scale)))
        values = torch.nn.functional.adaptive_avg_pool2d(values[None, None], size)[0, 0]
    return unit_codes(values.numpy()), tuple(values.shape)


def verdict_summary(result) -> str:
    """The verdict in plain words, with the numbers it rests on and the paper it comes from."""
    curve = result.curve()
    total, middle = len(result.blocks), result.middle
    measure = "rank correlation" if result.verdict_measure == "spearman" else result.verdict_measure
    if result.passed:
        step = result.first_below
        span = result.blocks[0] if step == 0 else f"{result.blocks[0]} to {result.blocks[step]}"
        return (f"Passed: this map depends on what the model learned. Once the learned weights of {step + 1} of "
                f"the {total} blocks ({span}) were replaced by random ones, the map no longer resembles the "
                f"original ({measure} {curve[step]:.2f}, below {result.threshold:g}). "
                f"Model-parameter randomisation test of {PAPER}.")
    return (f"Failed: this map survives destroying the model's learned weights. With {middle + 1} of the {total} "
            f"blocks random it still resembles the original ({measure} {curve[middle]:.2f}, not below "
            f"{result.threshold:g}), so it shows mostly the image itself (its edges), not what the model "
            f"learned: do not read it as an explanation of the prediction. Model-parameter randomisation "
            f"test of {PAPER}.")
