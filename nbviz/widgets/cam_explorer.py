"""CAMExplorer: an image with a class-activation map over it, and controls to explore it.

The widget holds traits and threads; the maps come from the engine `nbviz.cam`. Maps travel to the
browser at feature resolution as float32 buffers and are upsampled and coloured there.

Browser <-> kernel messages (custom messages; `key` is "image|layer|target|method"):
  browser: {"type": "compute", "client", "lane", "requests": [{"id", "image", "layer", "target", "method"}]}
           {"type": "cancel", "id"}      {"type": "scores", "id", "image", "layer", "target", "method"}
           {"type": "sanity", "id", "image", "layer", "target", "method"}   {"type": "sanity-cancel", "id"}
  kernel:  {"type": "map", "key", "shape": [h, w]} + one float32 buffer
           {"type": "progress", "key", "id", "done", "total"}   {"type": "error", "key", "id", "message"}
           {"type": "cancelled", "key", "id"}
           {"type": "scores", "key", "id", "deletion", "insertion", "road_morf", "road_lerf" | "road_error"}
Lazy image collections (`LazyImages`) send each photo on request:
  browser: {"type": "image", "index"}
  kernel:  {"type": "image", "index", "mime", "name", "topk"} + [JPEG bytes, float32 probabilities]
A request's "target" is a target spec ("281", "281+285", "281-285": see `cam_targets`). The sanity
check's progress and result travel in the `_sanity` trait (see `cam_sanity_panel`).
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import torch
import traitlets

from nbviz.report.compact import unit_codes
from nbviz.widgets.base import NbvizWidget
from nbviz.widgets.cam_colormaps import COLORMAPS, colormap_luts
from nbviz.widgets.cam_gallery import ImageGallery, LazyImages
from nbviz.widgets.cam_inputs import ImageLike
from nbviz.widgets.cam_jobs import Job, JobScheduler, throttled
from nbviz.widgets.cam_layers import LayerChoice, explorer_layer
from nbviz.widgets.cam_sanity_panel import SANITY_MESSAGES, SanityRequest, SanityRunner
from nbviz.widgets.cam_targets import ClassTarget, TargetChoice, parse_target_spec, target_index

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger("nbviz.cam_explorer")

#: Bytes of feature-resolution maps the explorer keeps (least recently used forgotten first): 64 MB
#: hold every map of a 10,000-image ModelLens at a 7x7 or 28x28 layer, about 5,000 at 56x56.
MAP_CACHE_BYTES = 64 << 20
PROGRESS_INTERVAL_S = 0.1
SCORE_STEPS = 32


@dataclass(frozen=True)
class MapChoice:
    """The choices that identify one map: image, layer, classes (``target``, ``extra``, ``versus``), method."""

    image: int
    layer: str
    target: int
    method: str
    extra: tuple[int, ...] = ()
    versus: int | None = None

    @property
    def classes(self) -> TargetChoice:
        return TargetChoice(self.target, self.extra, self.versus)

    @property
    def key(self) -> str:
        return f"{self.image}|{self.layer}|{self.classes.spec}|{self.method}"


class CAMExplorer(NbvizWidget):
    """Class-activation maps of `model` on `images`, explored with layer / class / method controls.

    `CAMExplorer()` alone shows the embedded pretrained EfficientNet-Lite0 on the "chelsea" photo.
    `images`: one or a list of PIL images, HxWx3 uint8 arrays, CxHxW tensors or file paths, or a
    `LazyImages` collection, whose images are prepared only when shown (for thousands of images).
    `transform`: PIL image -> CxHxW model input (required unless the model is the embedded one).
    `labels`: class names; `layers` / `methods`: restrict the choices (by default every spatial layer
    and "fuse"); `topk`: predictions listed.
    A layer can be given by name or as the model's submodule (`layer=model.layer4`), everywhere.
    Other keyword arguments set traits (`layer`, `target`, `method`, `image_index`, `opacity`, ...).
    A class can be given by index or by name (`target="tabby"`: an exact label, else the one label
    equal to it ignoring case), here, in `compute` and in `export_state(classes=...)`.
    The map explains ``y[target] + sum(y[extra_targets]) - y[versus]``; the view's "Sanity check"
    button runs :func:`nbviz.cam.sanity_check` for the map on screen (see `sanity_result`).
    """

    _bundle_name = "cam_explorer"
    _summary = "class-activation map explorer"
    report_part_labels = {"_precomputed": "maps", "_images": "photos", "_probabilities": "predictions"}

    # Choices, readable and settable from Python, saved with the notebook.
    layer = LayerChoice("", help="The layer the map is computed at: one of `layers` (names as in model.named_modules()); the layer's module is accepted too.").tag(sync=True)
    target = ClassTarget(0, help="The class the map explains, as an index into `class_names` or a class name (default: the image's top prediction); `extra_targets` and `versus` combine it with others.").tag(sync=True)
    method = traitlets.Unicode("gradcam", help="The CAM method: one of `methods` (canonical names such as 'gradcam', 'gradcam++', 'scorecam').").tag(sync=True)
    image_index = traitlets.Int(0, help="Which image is shown, 0-based, when several were given.").tag(sync=True)
    opacity = traitlets.Float(0.5, min=0.0, max=1.0, help="Opacity of the heatmap over the photo: 0 (photo only) to 1 (map only).").tag(sync=True)
    colormap = traitlets.Unicode("jet", help="Colormap of the heatmap: 'jet', 'turbo', 'viridis', 'inferno', 'magma', 'plasma' or 'gray'.").tag(sync=True)
    threshold = traitlets.Float(0.0, min=0.0, max=1.0, help="Map values below this (0 to 1, the map's own scale) are not drawn, so only the strongest regions show.").tag(sync=True)
    # Classes summed with `target` (a modifier-click in the class list), and a class to explain
    # against ("why target rather than versus"): the map explains y_target + sum y_extra - y_versus.
    extra_targets = traitlets.List(traitlets.Int(), help="Class indices whose scores are added to the target's "
                                   "(Ctrl / Cmd / Shift + click in the class list).").tag(sync=True)
    versus = traitlets.Int(None, allow_none=True, help="A class index to explain the target against (score "
                           "y_target - y_versus), or None.").tag(sync=True)

    # What the front end needs once: choices, class names, photos, predictions, colormaps.
    _layers = traitlets.List(traitlets.Unicode()).tag(sync=True)
    _methods = traitlets.List(traitlets.Dict()).tag(sync=True)
    _class_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    _images = traitlets.List(traitlets.Bytes()).tag(sync=True)
    _image_mimes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    _image_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    _n_images = traitlets.Int(0).tag(sync=True)  # all images; a LazyImages collection sends photos on request
    _probabilities = traitlets.List(traitlets.Bytes()).tag(sync=True)
    _topk = traitlets.List(traitlets.List(traitlets.Int())).tag(sync=True)
    _colormaps = traitlets.Dict().tag(sync=True)
    # Estimated seconds per layer and method, and the threshold above which the view asks first
    # (nbviz.cam.cost): {"confirm_above_s": s, "seconds": {layer: {method: s}}}.
    _cost = traitlets.Dict().tag(sync=True)
    # Offline report only (filled by export_state): key -> uint8 unit codes, key -> [h, w].
    _precomputed = traitlets.Dict().tag(sync=True)
    _precomputed_shapes = traitlets.Dict().tag(sync=True)
    # The sanity check of the map on screen: its progress, then its result (see cam_sanity_panel).
    _sanity = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        model: torch.nn.Module | None = None,
        images: ImageLike | Sequence[ImageLike] | None = None,
        *,
        transform: Callable[[Any], torch.Tensor] | None = None,
        labels: Sequence[str] | None = None,
        layers: Sequence[str | torch.nn.Module] | None = None,
        methods: Sequence[str] | None = None,
        topk: int = 10,
        **traits: Any,
    ) -> None:
        """Run `model` once on each image for its predictions; maps are computed when asked for.

        Every argument is described in the class docstring; `traits` set the public traits
        (`layer`, `target`, `extra_targets`, `versus`, `method`, `image_index`, `opacity`, `colormap`,
        `threshold`).
        Bad input raises ValueError naming the argument and the choices.
        """
        from nbviz import cam
        from nbviz.cam.explainer import FUSE

        model, transform, labels = _resolve_defaults(model, transform, labels, lazy=isinstance(images, LazyImages))
        if images is None:
            from nbviz.data import sample_image

            images = sample_image("chelsea")
        if not isinstance(topk, int) or topk < 1:
            raise ValueError(f"topk must be a positive integer, got {topk!r}")

        self._model = model
        self._engine = cam.Explainer(model)
        self._engine_lock = threading.RLock()
        self._maps: OrderedDict[str, np.ndarray] = OrderedDict()
        self._maps_bytes = 0
        self._maps_lock = threading.Lock()
        self._blank: dict[str, str] = {}  # map key -> why that cached map is blank (nbviz.cam.blank)
        self._scheduler = JobScheduler(self._execute)
        self._sanity_runner = SanityRunner(self._model_snapshot, lambda payload: setattr(self, "_sanity", payload))
        self._topk_size = topk
        try:
            self._gallery = ImageGallery(images, transform, _model_device(model), self._predict)
            layer_names = self._layer_choices(layers)
            method_names = self._method_choices(methods)
            n_classes = self._gallery.probabilities(0).shape[0]
            class_names = _class_names(labels, n_classes)
            eager = range(0 if self._gallery.lazy else len(self._gallery))
            probabilities = [self._gallery.probabilities(i) for i in eager]
            topk_lists = [self._gallery.topk(i, topk) for i in eager]
            photos = [self._gallery.photo(i) for i in eager]
            names = [self._gallery.prepared(i).name for i in eager]
            cost = {"confirm_above_s": cam.cost.CONFIRM_ABOVE_S,
                    "seconds": self._engine.estimates(self._gallery.prepared(0).tensor, layer_names, method_names)}
        except Exception:
            self._engine.close()
            raise

        traits.setdefault("layer", layer_names[-1])
        traits.setdefault("method", "gradcam" if "gradcam" in method_names else method_names[0])
        image_index = traits.get("image_index", 0)
        if isinstance(image_index, int) and 0 <= image_index < len(self._gallery):
            traits.setdefault("target", self._gallery.topk(image_index, 1)[0])
        super().__init__(
            _n_images=len(self._gallery),
            _layers=layer_names + ([FUSE] if layers is None and len(layer_names) > 1 else []),
            _methods=[_method_entry(name, cam) for name in method_names],
            _class_names=class_names,
            _images=[data for data, _ in photos],
            _image_mimes=[mime for _, mime in photos],
            _image_names=names,
            _probabilities=[np.asarray(p, dtype="<f4").tobytes() for p in probabilities],
            _topk=topk_lists,
            _colormaps=colormap_luts(COLORMAPS),
            _cost=cost,
            **traits,
        )
        self.observe(self._select_top_class, "image_index")
        self.observe(lambda _: self._sanity_runner.clear(),
                     ["image_index", "layer", "method", "target", "extra_targets", "versus"])
        self.on_msg(self._on_message)

    # ---- public API ---------------------------------------------------------------------------
    def compute(
        self,
        method: str | None = None,
        layer: str | torch.nn.Module | None = None,
        target: int | str | None = None,
        image_index: int | None = None,
        *,
        upsample: bool = True,
    ) -> np.ndarray:
        """The map for these choices (defaults: the current ones), computed now: (H, W) float32 in [0, 1].

        The rule every map function follows (:doc:`/maps`): ``method``, ``layer``, ``target`` in that
        order, positionally or by name; at the model input's resolution (H, W) by default, and with
        ``upsample=False`` at the resolution the method computes at (the layer's grid): exactly the
        map the view shows and upsamples in the browser. Grid maps are cached, shared with the view:
        asking again, from here or from the browser, does not recompute. The model runs one
        computation at a time: while the view computes a slow method, this waits for it (its Cancel
        button frees the model), and a map the view was computing for the same choices is returned
        without a second computation.
        """
        choice = self._choice(layer, target, method, image_index)
        values = self._input_map(choice) if upsample else self._map(choice).copy()
        reason = self._cached_blank(choice.key)
        if reason is not None:
            from nbviz.cam.blank import warn_blank

            warn_blank(self._method_label(choice.method), [reason], stacklevel=2)
        return values

    @property
    def layers(self) -> list[str]:
        """The layers offered in the layer dropdown."""
        return list(self._layers)

    @property
    def methods(self) -> list[str]:
        """The methods offered in the method dropdown (canonical names)."""
        return [entry["name"] for entry in self._methods]

    @property
    def class_names(self) -> list[str]:
        """The class names, indexed by `target`."""
        return list(self._class_names)

    @property
    def sanity_result(self):
        """The :class:`~nbviz.cam.SanityResult` of the last sanity check run from the view's button for the
        map on screen, or None (none run yet, still running, failed, or the choices changed since)."""
        return self._sanity_runner.result

    def compute_batch(
        self,
        image_indices: Sequence[int],
        targets: Sequence[int] | None = None,
        *,
        layer: str | None = None,
        method: str | None = None,
        batch_size: int = 64,
        upsample: bool = True,
    ) -> np.ndarray:
        """Maps of many images at once, (K, H, W) float32 in [0, 1], by the rule of every map function
        (:doc:`/maps`): at the model input's resolution, or with ``upsample=False`` the layer's grid.

        Map k is image `image_indices[k]` for class `targets[k]` (default: each image's most
        probable class) at `layer` / `method` (default: the current ones). Images go through the
        model `batch_size` at a time (one forward and backward pass per batch instead of per image;
        the images must share one size); each map also enters the cache the view reads, so
        showing one of these images later costs nothing. Blank maps issue no warning here; the
        view shows why they are blank.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        indices = [int(i) for i in image_indices]
        if targets is None:
            targets = [self.top_classes(1, i)[0] for i in indices]
        if len(targets) != len(indices):
            raise ValueError(f"targets has {len(targets)} entries for {len(indices)} images; give one class per image")
        choices = [self._choice(layer, int(t), method, i) for i, t in zip(indices, targets)]
        out: list[np.ndarray] = []
        for start in range(0, len(choices), batch_size):
            chunk = choices[start:start + batch_size]
            with self._engine_lock:
                x = torch.cat([self._gallery.prepared(c.image).tensor for c in chunk])
                result = self._engine.result(x, method=chunk[0].method, layer=chunk[0].layer,
                                             target=[c.target for c in chunk], upsample=False)
            values = np.ascontiguousarray(result.maps.detach().float().cpu().numpy(), dtype=np.float32)
            for choice, value, reason in zip(chunk, values, result.blank):
                value.setflags(write=False)
                self._store(choice.key, value, reason)
            out.append(values if not upsample else
                       np.stack([self._upsampled(value, c.image) for c, value in zip(chunk, values)]))
        if not out:
            return np.zeros((0, 0, 0), dtype=np.float32)
        return np.concatenate(out)

    @property
    def _prepared(self) -> ImageGallery:
        """The images prepared for the model, by index (lazy collections prepare on access)."""
        return self._gallery

    @property
    def n_images(self) -> int:
        """How many images the explorer can show (`image_index` runs from 0 to n_images - 1)."""
        return len(self._gallery)

    def top_classes(self, k: int = 3, image_index: int | None = None) -> list[int]:
        """Indices of the k most probable classes for an image (default: the current one)."""
        index = self.image_index if image_index is None else image_index
        return self._gallery.topk(index, k)

    def has_map(self, image_index: int) -> bool:
        """Whether image `image_index`'s map for its most probable class, at the current layer and
        method, is in the cache (showing it then costs no pass through the model)."""
        choice = self._choice(None, self.top_classes(1, image_index)[0], None, image_index)
        return self._cached(choice.key) is not None

    def probabilities(self, image_index: int | None = None) -> np.ndarray:
        """Softmax probabilities over all classes for an image (default: the current one)."""
        index = self.image_index if image_index is None else image_index
        return np.array(self._gallery.probabilities(index), dtype=np.float32)

    def export_state(
        self,
        layers: Sequence[str] | None = None,
        classes: Sequence[int] | None = None,
        methods: Sequence[str] | None = None,
        images: Sequence[int] | None = None,
    ) -> dict[str, Any]:
        """State for an offline report, with maps precomputed for every combination of choices.

        Defaults: the current layer; per image, its top-3 classes and the current class; the
        gradient-based methods plus the current method; every image (with `LazyImages`: the
        current one, and the photos of the exported images only). Choices that fail in the
        engine (e.g. CAM on a model without global pooling) are left out and shown as unavailable.
        """
        from nbviz import cam

        layer_list = [self.layer] if layers is None else [self._choice(l, None, None, None).layer for l in layers]
        if images is None and self._gallery.lazy:
            images = [self.image_index]
        if methods is None:
            method_list = [m for m in self.methods if m in cam.GRADIENT_METHODS]
            if self.method not in method_list:
                method_list.append(self.method)
        else:
            method_list = [self._choice(None, None, m, None).method for m in methods]
        image_list_ = range(len(self._gallery)) if images is None else images
        data: dict[str, bytes] = {}
        shapes: dict[str, list[int]] = {}

        def add(choice: MapChoice) -> None:
            try:
                values = self._map(choice)
            except cam.CAMError as error:
                log.info("export_state: %s left out: %s", choice.key, error)
                return
            data[choice.key] = unit_codes(values)  # a quarter of float32, same colours
            shapes[choice.key] = list(values.shape)

        for image in image_list_:
            if classes is None:
                class_list = list(dict.fromkeys(self.top_classes(3, image) + ([self.target] if image == self.image_index else [])))
            else:
                class_list = list(classes)
            for layer in layer_list:
                for target in class_list:
                    for method in method_list:
                        add(self._choice(layer, target, method, image))
        current = self._choice(None, None, None, None)
        if (current.extra or current.versus is not None) and current.image in image_list_:
            for layer in layer_list:  # the several-class or versus choice on screen
                for method in method_list:
                    add(replace(current, layer=layer, method=method))
        state = super().export_state()
        state["_cost"] = {}  # a report computes nothing
        if self._gallery.lazy:
            state.update(self.image_state(image_list_))
        state["_precomputed"] = data
        state["_precomputed_shapes"] = shapes
        return state

    def snapshot_figure(self, *, figsize: tuple[float, float] | None = None) -> Figure:
        """The current view as a matplotlib Figure (for `to_png`): the photo with the current map over
        it as the view composites it, titled with method, class and probability, and a colour bar."""
        # Loaded on the first snapshot: importing this widget does not pay for matplotlib.figure (~0.5 s).
        from nbviz.widgets.cam_snapshot import decode_photo, overlay_figure

        method = self._method_label(self.method)
        choice = self._choice(None, None, None, None).classes
        class_name = choice.label(self._class_names)
        probability = float(sum(self.probabilities()[k] for k in (choice.target, *choice.extra)))
        return overlay_figure(
            decode_photo(self._gallery.photo(self.image_index)[0]),
            self.compute(upsample=False),  # the layer's grid, [0, 1]: what the view upsamples
            self._colormaps[self.colormap],
            opacity=self.opacity,
            threshold=self.threshold,
            title=f"{method}: {class_name} (p = {probability:.2f})",
            caption=f"layer {self.layer} · class {choice.spec} · {method} · opacity {self.opacity:.2f}"
            + (f" · threshold {self.threshold:.2f}" if self.threshold > 0 else ""),
            figsize=figsize,
        )

    def close(self) -> None:
        """Stop the worker, remove the engine's hooks and close the widget."""
        for worker in (getattr(self, "_scheduler", None), getattr(self, "_sanity_runner", None)):
            if worker is not None:
                worker.close()
        engine = getattr(self, "_engine", None)
        if engine is not None:
            with self._engine_lock:
                engine.close()
        super().close()

    # ---- validation ---------------------------------------------------------------------------
    @traitlets.validate("layer")
    def _valid_layer(self, proposal: dict) -> str:
        value = proposal["value"]
        if not self._layers or value in self._layers:
            return value
        return explorer_layer(self._model, value, self._layers, self._listed_layer)

    def _listed_layer(self, name: str) -> str | None:
        """The offered name of the layer whose output ``name`` hands on (see `Explainer.listed_name`)."""
        with self._engine_lock:
            return self._engine.listed_name(self._gallery.prepared(self.image_index).tensor, name)

    @traitlets.validate("method")
    def _valid_method(self, proposal: dict) -> str:
        from nbviz import cam

        try:
            value = cam.resolve_method(proposal["value"])
        except cam.CAMError as error:
            raise traitlets.TraitError(str(error)) from None
        if self._methods and value not in self.methods:
            raise traitlets.TraitError(
                f"method {value!r} is not offered by this explorer; choose one of: {', '.join(self.methods)}"
            )
        return value

    @traitlets.validate("target")
    def _valid_target(self, proposal: dict) -> int:
        value = target_index(proposal["value"], self._class_names)
        if self._class_names and not 0 <= value < len(self._class_names):
            raise traitlets.TraitError(
                f"target must be a class index from 0 to {len(self._class_names) - 1}, got {value}"
            )
        return value

    @traitlets.validate("extra_targets")
    def _valid_extra_targets(self, proposal: dict) -> list[int]:
        return [self._valid_target({"value": value}) for value in proposal["value"]]

    @traitlets.validate("versus")
    def _valid_versus(self, proposal: dict) -> int | None:
        return None if proposal["value"] is None else self._valid_target(proposal)

    @traitlets.validate("image_index")
    def _valid_image_index(self, proposal: dict) -> int:
        value = proposal["value"]
        if self._n_images and not 0 <= value < self._n_images:
            raise traitlets.TraitError(f"image_index must be from 0 to {self._n_images - 1}, got {value}")
        return value

    @traitlets.validate("colormap")
    def _valid_colormap(self, proposal: dict) -> str:
        value = proposal["value"]
        if self._colormaps and value not in self._colormaps:
            raise traitlets.TraitError(f"unknown colormap {value!r}; choose one of: {', '.join(self._colormaps)}")
        return value

    def _choice(self, layer, target, method, image_index, extra=None, versus=None) -> MapChoice:
        """Validated choices, the current trait values filling the gaps (the current extra classes and
        versus class only with the current target: a target given alone means that one class)."""
        proposal = lambda name, value, current: current if value is None else getattr(self, f"_valid_{name}")({"value": value})  # noqa: E731
        if target is None:
            extra = self.extra_targets if extra is None else extra
            versus = self.versus if versus is None else versus
        choice = MapChoice(
            image=proposal("image_index", image_index, self.image_index),
            layer=proposal("layer", layer, self.layer),
            target=int(proposal("target", target, self.target)),
            method=proposal("method", method, self.method),
            extra=tuple(proposal("extra_targets", extra, [])),
            versus=proposal("versus", versus, None),
        )
        try:
            choice.classes  # noqa: B018 (checks the combination: no repeated class, versus not chosen)
        except ValueError as error:
            raise traitlets.TraitError(str(error)) from None
        return choice

    def _select_top_class(self, change: dict) -> None:
        with self.hold_trait_notifications():
            self.extra_targets, self.versus = [], None
            self.target = self._gallery.topk(change["new"], 1)[0]

    # ---- engine access ------------------------------------------------------------------------
    def _layer_choices(self, layers: Sequence[str | torch.nn.Module] | None) -> list[str]:
        with self._engine_lock:
            candidates = list(self._engine.layers(self._gallery.prepared(0).tensor))
        if layers is None:
            if not candidates:
                raise ValueError("the model has no layer with a spatial output to explain; pass layers=[...]")
            return candidates
        chosen = [layers] if isinstance(layers, (str, torch.nn.Module)) else list(layers)
        if not chosen:
            raise ValueError("layers is empty: pass None for every candidate layer, or a list of layer names")
        from nbviz.cam.layers import layer_name

        return list(dict.fromkeys(layer_name(self._model, layer, candidates) for layer in chosen))

    @staticmethod
    def _method_choices(methods: Sequence[str] | None) -> list[str]:
        from nbviz import cam

        if methods is None:
            return list(cam.METHODS)
        chosen = [methods] if isinstance(methods, str) else list(methods)
        if not chosen:
            raise ValueError("methods is empty: pass None for every method, or a list such as ['gradcam']")
        return list(dict.fromkeys(cam.resolve_method(name) for name in chosen))

    def _predict(self, tensor: torch.Tensor) -> torch.Tensor:
        with self._engine_lock:
            return self._engine.predict(tensor)[0].detach().float().cpu()

    def _explain(self, choice: MapChoice, *, progress=None, cancel=None) -> np.ndarray:
        """The engine's map for `choice` at the layer's grid (the resolution the method computes at)."""
        return self._explain_result(choice, progress=progress, cancel=cancel)[0]

    def _explain_result(self, choice: MapChoice, *, progress=None, cancel=None) -> tuple[np.ndarray, str | None]:
        """`_explain`'s map and why it is blank (None when it is not)."""
        tensor = self._gallery.prepared(choice.image).tensor
        result = self._engine.result(
            tensor, method=choice.method, layer=choice.layer, target=choice.classes.score_target(),
            upsample=False, progress=progress, cancel=cancel,
        )
        return result.maps[0].detach().float().cpu().numpy(), result.blank[0]

    def _map(self, choice: MapChoice, progress=None, cancel=None) -> np.ndarray:
        """The cached feature-resolution map for `choice`, computing it if needed."""
        with self._maps_lock:
            cached = self._maps.get(choice.key)
            if cached is not None:
                self._maps.move_to_end(choice.key)
                return cached
        with self._engine_lock:
            cached = self._cached(choice.key)  # computed by another thread while this one waited
            if cached is not None:
                return cached
            values, reason = self._explain_result(choice, progress=progress, cancel=cancel)
            values = np.ascontiguousarray(values, dtype=np.float32)
        values.setflags(write=False)
        self._store(choice.key, values, reason)
        return values

    def _store(self, key: str, values: np.ndarray, reason: str | None) -> None:
        """Cache a grid map and why it is blank (None: it is not), forgetting the least recently used."""
        with self._maps_lock:
            old = self._maps.pop(key, None)
            self._maps_bytes += values.nbytes - (old.nbytes if old is not None else 0)
            self._maps[key] = values
            if reason is not None:
                self._blank[key] = reason
            else:
                self._blank.pop(key, None)
            while self._maps_bytes > MAP_CACHE_BYTES and len(self._maps) > 1:
                forgotten, dropped = self._maps.popitem(last=False)
                self._maps_bytes -= dropped.nbytes
                self._blank.pop(forgotten, None)

    def _input_map(self, choice: MapChoice, progress=None, cancel=None) -> np.ndarray:
        """The map for `choice` at the model input's resolution, derived from the cached grid map."""
        return self._upsampled(self._map(choice, progress=progress, cancel=cancel), choice.image)

    def _upsampled(self, grid: np.ndarray, image: int) -> np.ndarray:
        """A grid map brought to image `image`'s model input resolution.

        minmax is invariant under affine maps and bilinear upsampling is linear, so
        minmax(up(grid map)) is the engine's upsampled map minmax(up(relu(raw))).
        """
        from nbviz.cam.postprocess import minmax_per_image, upsample

        size = tuple(self._gallery.prepared(image).tensor.shape[-2:])
        return minmax_per_image(upsample(torch.from_numpy(grid.copy())[None], size))[0].numpy()

    def _cached(self, key: str) -> np.ndarray | None:
        with self._maps_lock:
            return self._maps.get(key)

    def _cached_blank(self, key: str) -> str | None:
        """Why the cached map of `key` is blank, or None."""
        with self._maps_lock:
            return self._blank.get(key)

    def _method_label(self, method: str) -> str:
        return next((entry["label"] for entry in self._methods if entry["name"] == method), method)

    # ---- messages -----------------------------------------------------------------------------
    def _on_message(self, _widget: Any, content: Any, buffers: list) -> None:
        """Browser requests, handled on the kernel's main thread: answer from the cache or queue."""
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        try:
            if kind == "compute":
                self._on_compute(content)
            elif kind == "cancel":
                job = self._scheduler.cancel(str(content.get("id")))
                if job is not None:
                    for request_id in job.ids:
                        self.send({"type": "cancelled", "key": job.key, "id": request_id})
            elif kind == "scores":
                choice = self._choice_from(content)
                self._scheduler.submit_scores(str(content.get("client", "")), str(content["id"]), choice.key, choice)
            elif kind in SANITY_MESSAGES:
                self._sanity_runner.on_message(content, self._sanity_request)
            elif kind == "image":
                self._send_image(self._valid_image_index({"value": int(content["index"])}))
        except (traitlets.TraitError, KeyError, TypeError, ValueError) as error:
            self.send({"type": "error", "key": _raw_key(content), "id": content.get("id"), "message": _message(error)})

    def _on_compute(self, content: dict) -> None:
        client, lane = str(content.get("client", "")), str(content.get("lane", "main"))
        queued = []
        for request in content.get("requests", []):
            try:
                choice = self._choice_from(request)
            except (traitlets.TraitError, KeyError, TypeError, ValueError) as error:
                self.send({"type": "error", "key": _raw_key(request), "id": request.get("id"), "message": _message(error)})
                continue
            cached = self._cached(choice.key)
            if cached is not None:
                self._send_map(choice.key, cached)
            else:
                queued.append((str(request.get("id")), choice.key, choice))
        self._scheduler.submit_lane(client, lane, queued)

    def _choice_from(self, request: dict) -> MapChoice:
        classes = parse_target_spec(request["target"])
        return self._choice(str(request["layer"]), classes.target, str(request["method"]), int(request["image"]),
                            extra=list(classes.extra), versus=classes.versus)

    def _sanity_request(self, request: dict) -> SanityRequest:
        """What the sanity check of the map a browser request names needs (the model is copied later)."""
        choice = self._choice_from(request)
        return SanityRequest(key=choice.key, method=choice.method, layer=choice.layer,
                             target=choice.classes.score_target(), x=self._gallery.prepared(choice.image).tensor)

    def _model_snapshot(self) -> torch.nn.Module:
        """A deep copy of the model, taken while no engine call has hooks on it."""
        import copy

        with self._engine_lock:
            return copy.deepcopy(self._model)

    def _send_image(self, index: int) -> None:
        """One image of a lazy collection to the browser: photo, name, probabilities, top classes."""
        photo, mime = self._gallery.photo(index)
        probabilities = np.asarray(self._gallery.probabilities(index), dtype="<f4").tobytes()
        self.send({"type": "image", "index": index, "mime": mime, "name": self._gallery.prepared(index).name,
                   "topk": self.top_classes(self._topk_size, index)}, buffers=[photo, probabilities])

    def image_state(self, indices: Sequence[int], photos: dict[int, tuple[bytes, str]] | None = None) -> dict[str, Any]:
        """`_images`, `_image_mimes`, `_image_names`, `_probabilities`, `_topk` for a report of a
        lazy explorer: filled for `indices` (photos from `photos` where given), empty elsewhere."""
        chosen = set(int(i) for i in indices)
        photos = photos or {}
        encoded = {i: photos.get(i) or self._gallery.photo(i) for i in chosen}
        rows = range(len(self._gallery))
        return {
            "_images": [encoded[i][0] if i in chosen else b"" for i in rows],
            "_image_mimes": [encoded[i][1] if i in chosen else "" for i in rows],
            "_image_names": [self._gallery.prepared(i).name if i in chosen else "" for i in rows],
            "_probabilities": [np.asarray(self._gallery.probabilities(i), dtype="<f4").tobytes() if i in chosen else b""
                               for i in rows],
            "_topk": [self.top_classes(self._topk_size, i) if i in chosen else [] for i in rows],
        }

    def _send_map(self, key: str, values: np.ndarray) -> None:
        content = {"type": "map", "key": key, "shape": list(values.shape)}
        reason = self._cached_blank(key)
        if reason is not None:
            content["blank"] = reason  # the view says why instead of showing an empty overlay
        self.send(content, buffers=[_float32_bytes(values)])

    def _execute(self, job: Job) -> None:
        """Worker thread: compute one job and send the result, an error, or the cancellation."""
        from nbviz import cam

        if job.cancel.is_set():
            return
        choice: MapChoice = job.params
        try:
            if job.kind == "scores":
                self._send_scores(job, choice)
                return
            values = self._map(choice, progress=self._progress_sender(job), cancel=job.cancel)
            self._send_map(job.key, values)
        except cam.Cancelled:
            for request_id in job.ids or [None]:
                self.send({"type": "cancelled", "key": job.key, "id": request_id})
        except Exception as error:  # shown in the widget; the widget stays usable
            if not isinstance(error, cam.CAMError):
                log.exception("CAMExplorer could not compute %s", job.key)
            for request_id in job.ids or [None]:
                self.send({"type": "error" if job.kind == "map" else "scores", "key": job.key, "id": request_id,
                           "message": _message(error), "error": _message(error)})

    def _send_scores(self, job: Job, choice: MapChoice) -> None:
        from nbviz import cam
        from nbviz.cam.metrics import deletion_insertion, road

        target = choice.classes.score_target()
        saliency = torch.from_numpy(self._input_map(choice))[None]
        with self._engine_lock:
            x = self._gallery.prepared(choice.image).tensor
            scores = deletion_insertion(self._model, x, saliency, target, steps=SCORE_STEPS)
            reply = {"deletion": float(scores["deletion"][0]), "insertion": float(scores["insertion"][0])}
            try:  # ROAD needs SciPy; without it the other two scores still count
                debiased = road(self._model, x, saliency, target)
                reply.update(road_morf=float(debiased["morf"][0]), road_lerf=float(debiased["lerf"][0]))
            except (cam.CAMError, ImportError) as error:
                reply["road_error"] = _message(error)
        for request_id in job.ids:
            self.send({"type": "scores", "key": job.key, "id": request_id, **reply})

    def _progress_sender(self, job: Job) -> Callable[[int, int], None]:
        """progress(done, total) for the engine: forwards to the browser at most every 0.1 s."""
        def send(done: int, total: int) -> None:
            for request_id in job.ids[:1]:
                self.send({"type": "progress", "key": job.key, "id": request_id, "done": int(done), "total": int(total)})

        return throttled(send, PROGRESS_INTERVAL_S)


# ---- helpers --------------------------------------------------------------------------------------
def _resolve_defaults(model, transform, labels, lazy=False):
    """The embedded pretrained model when `model` is None; its transform and labels when it is used.
    `lazy`: the images are a LazyImages collection, which prepares its own model inputs."""
    from nbviz.models import EfficientNetLite

    if model is None:
        from nbviz.data import load_pretrained

        model, default_transform, default_labels = load_pretrained()
        return model, transform or default_transform, labels if labels is not None else default_labels
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if transform is None and not lazy:
        if isinstance(model, EfficientNetLite):
            from nbviz.data import imagenet_classes, pretrained_transform

            transform = pretrained_transform()
            if labels is None and model.classifier.out_features == 1000:
                labels = imagenet_classes()
        else:
            raise ValueError(
                f"CAMExplorer needs transform= for a {type(model).__name__}: a callable turning a PIL image "
                "into the model's CxHxW input tensor, e.g. for torchvision ImageNet models "
                "transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), "
                "transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]). "
                "Only the embedded model (CAMExplorer() or nbviz.data.load_pretrained()) brings its own."
            )
    return model, transform, labels


def _model_device(model: torch.nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _class_names(labels: Sequence[str] | None, n_classes: int) -> list[str]:
    if labels is None:
        return [f"class {i}" for i in range(n_classes)]
    names = [str(name) for name in labels]
    if len(names) != n_classes:
        raise ValueError(f"labels has {len(names)} names but the model outputs {n_classes} classes")
    return names


def _method_entry(name: str, cam: Any) -> dict[str, Any]:
    """The menu entry of a method, from its registration: name, label, family, whether it is slow, and
    its measured sanity-check verdict (``MethodSpec.sanity``: "pass", "fail" or None)."""
    spec = cam.method_spec(name)
    return {"name": spec.name, "label": spec.label, "family": spec.family, "slow": spec.slow, "sanity": spec.sanity}


def _float32_bytes(values: np.ndarray) -> bytes:
    return np.ascontiguousarray(values, dtype="<f4").tobytes()


def _raw_key(request: Any) -> str:
    if not isinstance(request, dict):
        return ""
    return "|".join(str(request.get(name, "")) for name in ("image", "layer", "target", "method"))


def _message(error: BaseException) -> str:
    """A readable one-line message: the text of engine and validation errors, else 'Type: text'."""
    from nbviz import cam

    if isinstance(error, (cam.CAMError, traitlets.TraitError)):
        return str(error)
    text = str(error) or "no details"
    return f"{type(error).__name__}: {text}"
