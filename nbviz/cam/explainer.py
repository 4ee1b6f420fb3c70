"""The stateful engine the widget drives: one recorded forward per input, everything else cached."""
from __future__ import annotations

import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .context import MethodContext, check_cancel
from .errors import CAMError, ExplainerClosedError, LayerError, MethodError, TargetError
from .fast_forward import FastForward
from .guided import guided_input_gradient
from .hygiene import model_session
from .inputs import validate_input
from .layers import default_layer, layer_name, resolve_layer
from .cost import pass_times
from .names import ANY_MODEL_METHODS, METHODS
from .blank import blank_reasons, warn_blank
from .postprocess import finalize, minmax_per_image, upsample as resize
from .progress import ProgressLike, batch_progress
from .recorder import ForwardRecord, LayerRecord, parameter_stamp, record_forward, run_model
from .registry import MethodSpec, method_spec
from .targets import Target, TargetLike, resolve_target

LayerLike = nn.Module | str | Sequence[nn.Module | str] | None

#: ``layer=FUSE`` fuses the maps at the last layer of each of the FUSE_DEPTH deepest spatial grids up to
#: the default layer (EfficientNet-Lite0: 7 x 7, 14 x 14 and 28 x 28).
FUSE = "fuse"
FUSE_DEPTH = 3


@dataclass(frozen=True)
class CAMResult:
    """Maps (B, H, W) in [0, 1] and, per image, why its map is blank (None where it is not)."""

    maps: torch.Tensor
    blank: tuple[str | None, ...]


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside this module (a warning then points at the user's call)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame, level = frame.f_back, level + 1
    return level


def is_fusion(layer: Any) -> bool:
    """Whether ``layer`` asks for a fused map: ``"fuse"`` or a list / tuple of layers."""
    return (isinstance(layer, str) and layer == FUSE) or isinstance(layer, (list, tuple))


class _LRU(OrderedDict):
    """A dict that forgets its least recently used entry beyond ``limit`` entries."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def get_fresh(self, key: Any) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        return None

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


class Explainer:
    """Computes class-activation maps for one model, caching work between calls.

    For an input it runs one forward pass with hooks on every module and keeps the outputs and the
    autograd graph.  For the same input (same values, same weights) a different layer or a
    different gradient method needs no model pass, a different class one ``torch.autograd.grad``
    call, and any map already computed is returned from a cache.  Hooks live only during a call;
    between calls the model is untouched.  Thread-safe (calls are serialised).  Use as a context
    manager or call :meth:`close` to free the cached graph.
    """

    def __init__(self, model: nn.Module, *, cache_size: int = 64) -> None:
        if not isinstance(model, nn.Module):
            raise CAMError(f"Explainer needs a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        #: Number of model forward calls made so far (a batched call counts once).
        self.forward_count = 0
        self._record: ForwardRecord | None = None
        self._maps = _LRU(cache_size)
        self._grads = _LRU(max(8, cache_size // 2))
        self._guided = _LRU(8)
        self._default: str | None = None
        self._fast = FastForward(model)
        self._lock = threading.RLock()
        self._closed = False

    # lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> Explainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the cached forward pass, graph and maps; the explainer cannot be used afterwards."""
        with self._lock:
            self._forget()
            self._closed = True

    def _forget(self) -> None:
        self._record = None
        self._default = None
        self._maps.clear()
        self._grads.clear()
        self._guided.clear()
        self._fast = FastForward(self.model)

    def _ensure_open(self) -> None:
        if self._closed:
            raise ExplainerClosedError("this Explainer was closed; create a new Explainer(model)")

    # public API -------------------------------------------------------------------------------
    def explain(self, x: torch.Tensor, method: str = "gradcam", layer: LayerLike = None,
                target: TargetLike = None, *, upsample: bool = True,
                progress: Callable[[int, int], None] | None = None, cancel: Any = None,
                **options: Any) -> torch.Tensor:
        """Class-activation maps of ``x`` (B, C, H, W): a float32 (B, H, W) tensor in [0, 1].

        Shape, resolution and argument order follow the rule shared by every map function
        (:doc:`/maps`): ``upsample=True`` gives the input's (H, W), ``upsample=False`` the
        resolution the method computes at.

        ``method``: any name or alias of :data:`~nbviz.cam.METHODS` (including methods added with
        :func:`~nbviz.cam.register_method`).  ``layer``: a submodule, its
        ``named_modules()`` name, or None for the default layer (the last spatial layer).
        ``target``: class index, one index per sample, a callable ``output -> (B,) scores``, or None
        for the predicted class.  The map is ReLU'd, upsampled bilinearly with half-pixel centres
        to (H, W) (``upsample=False``: kept at the layer's resolution; guided methods are at input
        resolution) and min-max normalised per image (a constant map gives zeros).
        ``progress(done, total)`` is called between batches; when ``cancel.is_set()`` becomes true
        :class:`~nbviz.cam.Cancelled` is raised and nothing is left behind.  Extra keyword options
        (``batch_size``, ``n_samples``, ``noise``, ``seed``; see :data:`~nbviz.cam.METHOD_OPTIONS`)
        tune the slow methods.

        Fused maps: ``layer=[...]`` (several layers) or ``layer="fuse"`` (see ``nbviz.cam.explainer.FUSE_DEPTH``) computes
        the map at each layer, brings each to the finest of their sizes (the input's with ``upsample``)
        and takes the element-wise maximum, as torchcam's fusion does, then min-max normalises:
        ``M = minmax(max_l up(M_l))``; the fusion of one layer is that layer's map.

        A map that comes back blank (all zeros) issues a :class:`~nbviz.cam.CAMWarning` saying why
        (:mod:`nbviz.cam.blank`); :meth:`result` returns the reasons instead.
        """
        result = self.result(x, method, layer, target, upsample=upsample, progress=progress, cancel=cancel,
                             **options)
        warn_blank(method_spec(method).label, result.blank, stacklevel=_caller_level())
        return result.maps

    def result(self, x: torch.Tensor, method: str = "gradcam", layer: LayerLike = None,
               target: TargetLike = None, *, upsample: bool = True,
               progress: Callable[[int, int], None] | None = None, cancel: Any = None,
               **options: Any) -> CAMResult:
        """:meth:`explain`'s maps with, per image, why a map is blank (None where it is not); no warning."""
        if is_fusion(layer):
            return self._fused(x, method, layer, target, bool(upsample), progress, cancel, options)
        with self._lock:
            self._ensure_open()
            spec = method_spec(method)
            opts = spec.resolve_options(options)
            check_cancel(cancel)
            with model_session(self.model):
                record = self._record_for(x)
                tgt = resolve_target(target, record.output, record.x.shape[0], record.x.device)
                if spec.needs_head and not tgt.is_linear:
                    raise MethodError(
                        f"{spec.name!r} weights channels by the linear head's row of a class, so it needs class "
                        "indices as target (an int, a list, None, contrast(a, b) or class_sum(...)), not a "
                        "callable; use one of "
                        f"{', '.join(ANY_MODEL_METHODS)} with a callable target")
                layer_rec = self._layer(record, layer) if spec.needs_layer else None
                # the spec itself (compared by identity) keys the cache: a method registered again
                # under the same name never returns the maps of the one it replaced
                key = (spec, layer_rec.name if layer_rec else None, tgt.key, bool(upsample),
                       tuple(sorted(opts.items())))
                cached = self._maps.get_fresh(key) if tgt.key is not None else None
                if cached is None:
                    ctx = self._context(spec, record, layer_rec, tgt, opts, progress, cancel)
                    raw = _checked_map(spec, spec.function(ctx), record.x.shape[0])
                    size = (record.x.shape[-2], record.x.shape[-1])
                    used_gradient = ctx.gradient if spec.needs_layer else ctx.guided_gradient
                    cached = CAMResult(finalize(raw, size, bool(upsample) or spec.input_resolution),
                                       blank_reasons(spec, raw, used_gradient))
                    if tgt.key is not None:
                        self._maps.put(key, cached)
                if progress is not None and not spec.slow:
                    progress(1, 1)
            return CAMResult(cached.maps.clone(), cached.blank)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Softmax probabilities (B, C) of ``x`` from the cached forward pass (one pass if ``x`` is new)."""
        with self._lock:
            self._ensure_open()
            with model_session(self.model):
                record = self._record_for(x)
                logits = record.logits
                if logits is None:
                    raise TargetError(
                        f"predict needs a model that returns (batch, classes) logits; this one returns "
                        f"{type(record.output).__name__}; use explain with a callable target instead")
                return torch.softmax(logits.detach().float(), dim=1)

    def layers(self, x: torch.Tensor) -> list[str]:
        """Names of the spatial layers for ``x``, input to output (see :func:`candidate_layers`)."""
        with self._lock:
            self._ensure_open()
            with model_session(self.model):
                return list(self._record_for(x).candidates)

    def default_layer(self, x: torch.Tensor) -> str:
        """Name of the layer used when ``layer=None``."""
        with self._lock:
            self._ensure_open()
            with model_session(self.model):
                return self._layer(self._record_for(x), None).name

    def estimates(self, x: torch.Tensor, layers: Sequence[str] | None = None,
                  methods: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
        """Estimated seconds of one map of ``x[:1]``, per layer (default: :meth:`layers`) and method
        (default: every registered one) with the method's default options.

        ``seconds = F t_forward + B t_backward + L t_after(layer)`` from the method's declared passes
        and pass times measured once per model, input shape and device (:mod:`nbviz.cam.cost`).
        Layers without a spatial output are left out.
        """
        with self._lock:
            self._ensure_open()
            with model_session(self.model):
                record = self._record_for(x)
                channels = {}
                for name in (record.candidates if layers is None else layers):
                    try:
                        channels[name] = int(resolve_layer(self.model, record, name).spatial().shape[1])
                    except LayerError:
                        continue
                key = record.key
            times = pass_times(self.model, key, list(channels))
            chosen = [method_spec(name) for name in (METHODS if methods is None else methods)]
            return {layer: {spec.name: times.seconds(spec.passes_for(spec.defaults, k if spec.needs_layer else 0),
                                                     layer if spec.needs_layer else None) for spec in chosen}
                    for layer, k in channels.items()}

    def listed_name(self, x: torch.Tensor, layer: nn.Module | str) -> str | None:
        """The name :meth:`layers` lists ``layer``'s output under, or None when it lists no such output.

        Modules that hand on one tensor (a container and its last child) are listed once, under the
        last to finish, so ``listed_name(x, model.blocks[15])`` can be ``"blocks"``.
        """
        with self._lock:
            self._ensure_open()
            with model_session(self.model):
                record = self._record_for(x)
                rec = record.layers.get(layer_name(self.model, layer, record.candidates))
                if rec is None or rec.raw is None:
                    return None
                return next((name for name in record.candidates if record.layers[name].raw is rec.raw), None)

    def call_order(self, x: torch.Tensor) -> list[str]:
        """Names of the submodules called in the forward pass of ``x``, ordered by when their last call finished."""
        with self._lock:
            self._ensure_open()
            with model_session(self.model):
                layers = self._record_for(x).layers
                return sorted(layers, key=lambda name: layers[name].finished)

    def fusion_layers(self, x: torch.Tensor, layer: str | Sequence[nn.Module | str] = FUSE) -> list[str]:
        """The layers a fused map of ``x`` combines (``layer``: ``"fuse"`` or a list), input to output."""
        with self._lock:
            self._ensure_open()
            with model_session(self.model):
                record = self._record_for(x)
                if isinstance(layer, str):
                    return self._fuse_set(record)
                if not layer:
                    raise LayerError("layer=[] names no layer to fuse; give one or more layers, or layer='fuse' for "
                                     f"the last layer of each of the {FUSE_DEPTH} deepest grids")
                names = dict.fromkeys(resolve_layer(self.model, record, item).name for item in layer)
                return sorted(names, key=lambda name: record.layers[name].finished)

    # internals --------------------------------------------------------------------------------
    def _fuse_set(self, record: ForwardRecord) -> list[str]:
        """The last candidate layer of each of the FUSE_DEPTH deepest spatial grids, up to the default layer."""
        default = self._layer(record, None).name
        candidates = record.candidates[: record.candidates.index(default) + 1]
        last_of_grid: dict[tuple[int, int], str] = {}
        for name in candidates:
            last_of_grid[tuple(record.layers[name].spatial().shape[-2:])] = name
        return list(last_of_grid.values())[-FUSE_DEPTH:]

    def _fused(self, x: torch.Tensor, method: str, layer: Any, target: TargetLike, upsample: bool,
               progress: Callable[[int, int], None] | None, cancel: Any, options: dict[str, Any]) -> CAMResult:
        """``minmax(max_l up(M_l))`` over the fused layers (see :meth:`explain`); blank where every layer's is."""
        with self._lock:
            if not method_spec(method).needs_layer:  # the map is computed at the input, not at a layer
                return self.result(x, method, None, target, upsample=upsample, progress=progress, cancel=cancel,
                                   **options)
            names = self.fusion_layers(x, layer)
            parts = []
            for index, name in enumerate(names):
                def part(done: int, total: int, index: int = index) -> None:
                    progress(index * total + done, len(names) * total)

                parts.append(self.result(x, method, name, target, upsample=upsample,
                                         progress=None if progress is None else part, cancel=cancel, **options))
            size = max((tuple(p.maps.shape[-2:]) for p in parts), key=lambda hw: hw[0] * hw[1])
            fused = minmax_per_image(torch.stack([resize(p.maps, size) for p in parts]).amax(dim=0))
            blank = tuple(None if any(p.blank[b] is None for p in parts)
                          else "; ".join(dict.fromkeys(f"at {name}: {p.blank[b]}" for name, p in zip(names, parts)))
                          for b in range(fused.shape[0]))
            return CAMResult(fused, blank)

    def _context(self, spec: MethodSpec, record: ForwardRecord, layer: LayerRecord | None, target: Target,
                 options: dict[str, Any], progress: Callable[[int, int], None] | None,
                 cancel: Any) -> MethodContext:
        """The context a method's function sees; gradients only for methods that declared needing them."""
        def gradient() -> torch.Tensor:
            _require_gradients(spec)
            if layer is None:
                raise MethodError(f"method {spec.name!r} was registered with needs_layer=False, so it has no "
                                  "layer gradient; register it with needs_layer=True to call ctx.gradient()")
            return self._gradient(record, layer, target)

        def guided_gradient() -> torch.Tensor:
            _require_gradients(spec)
            return self._guided_gradient(record, target, context())

        ctx = MethodContext(model=self.model, record=record, layer=layer, target=target, options=options,
                            gradient=gradient, guided_gradient=guided_gradient, run=self._run,
                            run_masked=self._run_masked, progress=progress, cancel=cancel)
        # a weak reference: a closure holding ctx itself would make a reference cycle, which keeps the
        # recorded graph (and a sanity check's model copy) alive until the cyclic garbage collector runs
        context = weakref.ref(ctx)
        return ctx

    def _run(self, batch: torch.Tensor) -> Any:
        self.forward_count += 1
        return run_model(self.model, batch)

    def _run_masked(self, batch: torch.Tensor) -> Any:
        """Output only (no hooks, no graph) for a batch of masked inputs, on the checked fast copy."""
        self._fast.prepare(batch[:1], parameter_stamp(self.model))
        self.forward_count += 1
        return run_model(self._fast, batch)

    def _record_for(self, x: torch.Tensor) -> ForwardRecord:
        """The recorded forward pass of ``x``: reused when values and weights are unchanged."""
        x = validate_input(self.model, x)
        record = self._record
        if (record is not None and record.key.shape == x.shape and record.key.dtype == x.dtype
                and record.key.device == x.device and torch.equal(record.key, x)
                and record.stamp == parameter_stamp(self.model)):
            return record
        self._forget()  # free the previous graph before building the next one
        self.forward_count += 1
        self._record = record_forward(self.model, x, keep_graph=True)
        return self._record

    def _layer(self, record: ForwardRecord, layer: LayerLike) -> LayerRecord:
        if layer is not None:
            return resolve_layer(self.model, record, layer)
        if self._default is None:
            reaching = self._reaching_token_layers(record)
            self._default = default_layer(record, lambda rec: rec.name in reaching).name
        return record.layers[self._default]

    def _reaching_token_layers(self, record: ForwardRecord) -> set[str]:
        """Token-grid candidate layers on whose spatial grid the sum of the logits has a non-zero gradient.

        One ``autograd.grad`` call for all of them: with a zero-initialised head (torchvision's ViT)
        none reaches the output, and one backward pass per layer took minutes on a CPU.
        """
        tokens = [record.layers[name] for name in record.candidates
                  if record.layers[name].layout is not None and record.layers[name].layout.kind == "tokens"]
        logits = record.logits
        if logits is None:
            return {rec.name for rec in tokens}
        tokens = [rec for rec in tokens if rec.raw is not None and rec.raw.requires_grad]
        if not tokens:
            return set()
        grads = torch.autograd.grad(logits.sum(), [rec.raw for rec in tokens], retain_graph=True, allow_unused=True)
        return {rec.name for rec, grad in zip(tokens, grads)
                if grad is not None and bool(rec.layout.to_spatial(grad).ne(0).any())}

    def _gradient(self, record: ForwardRecord, layer: LayerRecord, target: Target) -> torch.Tensor:
        """``d (sum_b y_b) / d A`` at the layer as (B, K, h, w); one autograd.grad call, cached per class."""
        key = (layer.name, target.key)
        if target.key is not None:
            cached = self._grads.get_fresh(key)
            if cached is not None:
                return cached
        score = target.scores(record.output).sum()
        if not score.requires_grad:
            raise TargetError("the target score has no gradient history; compute it from the model output "
                              "with differentiable torch ops (no .item(), .detach() or numpy)")
        grad = None
        if layer.raw is not None and layer.raw.requires_grad:
            (grad,) = torch.autograd.grad(score, layer.raw, retain_graph=True, allow_unused=True)
        grad = torch.zeros_like(layer.raw) if grad is None else grad
        spatial = layer.layout.to_spatial(grad.detach())
        if target.key is not None:
            self._grads.put(key, spatial)
        return spatial

    def _guided_gradient(self, record: ForwardRecord, target: Target, ctx: MethodContext) -> torch.Tensor:
        if target.key is not None:
            cached = self._guided.get_fresh(target.key)
            if cached is not None:
                return cached
        grad = guided_input_gradient(ctx)
        if target.key is not None:
            self._guided.put(target.key, grad)
        return grad


def _require_gradients(spec: MethodSpec) -> None:
    if not spec.needs_gradients:
        raise MethodError(f"method {spec.name!r} asked for gradients but was registered with "
                          "needs_gradients=False; register it with needs_gradients=True")


def _checked_map(spec: MethodSpec, raw: Any, batch: int) -> torch.Tensor:
    """The raw map a method returned, checked to be a floating (B, h, w) tensor."""
    if not isinstance(raw, torch.Tensor) or not raw.is_floating_point() or raw.dim() != 3 or raw.shape[0] != batch:
        got = f"shape {tuple(raw.shape)}, dtype {raw.dtype}" if isinstance(raw, torch.Tensor) else type(raw).__name__
        raise MethodError(f"method {spec.name!r} returned {got}; a method's function must return a floating "
                          f"(B, h, w) tensor with B = {batch}, one map per image")
    return raw


def compute(model: nn.Module, x: torch.Tensor, method: str = "gradcam", layer: LayerLike = None,
            target: TargetLike = None, *, upsample: bool = True,
            progress: ProgressLike = "auto", cancel: Any = None,
            **options: Any) -> torch.Tensor:
    """One-shot :meth:`Explainer.explain`: (B, H, W) float32 maps in [0, 1] (see there for arguments).

    ``method``, ``layer`` and ``target`` may be given positionally, in that order; the shape and
    resolution follow the rule shared by every map function (:doc:`/maps`).

    ``progress``: a callable ``progress(done, total)`` as in ``explain``, or True / False / "auto"
    for a progress bar over the batches of the slow (score-based) methods; "auto" shows it in a
    notebook once the map is predicted to take more than a few seconds (see :mod:`nbviz.progress`).
    """
    with Explainer(model) as explainer, batch_progress(progress, str(method)) as report:
        return explainer.explain(x, method, layer, target, upsample=upsample, progress=report,
                                 cancel=cancel, **options)
