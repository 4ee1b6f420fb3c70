"""ModelLens: a dataset embedded by a model's features next to the model's class-activation maps.

One pass of the model over the images (`nbviz.features`) gives each image's feature vector,
probabilities and predicted class, and a small thumbnail. A TSNEScatter lays the features out
(coloured by true label, predicted label or confidence; mistakes ringed); a CAMExplorer over the
same images, read lazily (`LazyImages`: an image is decoded again only when it is shown), shows
where the model looked. Both are children of this widget (anywidget composition): clicking point i
shows image i with its predicted class (its map prepared while the pointer rested on the point,
`lens_prefetch`); a lasso fills the group panel with the group's mean map (`lens_group`); `to_html`
keeps clicking and lassoing working offline (`lens_export`).
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
import traitlets

from nbviz.widgets.cam_gallery import LazyImages
from nbviz.widgets.cam_inputs import PreparedImage, to_pil
from nbviz.widgets.kernel_thread import KernelThread
from nbviz.widgets.lens_export import DEFAULT_MAX_IMAGES, shrunk
from nbviz.widgets.lens_group import GroupResult, GroupWorker
from nbviz.widgets.lens_prefetch import MapPrefetcher, layout_neighbours, sweep_order
from nbviz.widgets.link import LinkedViews

COLOR_BY = ("label", "predicted", "confidence")
#: Which maps ModelLens prepares before they are clicked (see `lens_prefetch`).
PREFETCH = ("all", "near", "off")
#: Longest side of the scatter's hover thumbnails: 48 px up to 2,000 images, 24 px above.
THUMBNAIL_SIDE = (48, 24)
DEFAULT_GROUP_LIMIT = 200


class ModelLensError(ValueError):
    """Bad input for ModelLens (labels, classes, a model without class scores); the message names the fix."""


class ModelLens(LinkedViews):
    """`model`'s view of `images`: t-SNE of its features beside its class-activation maps.

    `images`: a folder, a torch Dataset or DataLoader, a (N, C, H, W) tensor or a list of arrays /
    PIL images / paths (as for `nbviz.features`). `transform`: image -> model input (C, H, W).
    `labels`: true labels (one per image; default: the labels of (image, label) dataset items).
    `classes`: class names (one per model output). `layer`: where the features are taken
    (default: the classifier head's input). `tsne_params` go to the TSNEScatter / `nbviz.tsne.TSNE`.
    Parts: `lens.scatter`, `lens.explorer`, `lens.features`. `color_by`: "label", "predicted" or
    "confidence"; `group_limit`: the most images of a lasso whose maps enter the mean.
    """

    _bundle_name = "model_lens"
    _summary = "model lens: t-SNE of a model's features linked to its class-activation maps"

    color_by = traitlets.Unicode("predicted", help="What colours the scatter: 'label' (true label), 'predicted' (the model's class) or 'confidence' (probability of the predicted class).").tag(sync=True)
    group_limit = traitlets.Int(DEFAULT_GROUP_LIMIT, help="The most images of a lasso whose maps enter the group's mean (the first ones selected); each costs one map.").tag(sync=True)
    # Per-point colouring, for the browser's colour switch (live and in a report).
    _label_codes = traitlets.Bytes(b"").tag(sync=True)
    _predicted_codes = traitlets.Bytes(b"").tag(sync=True)
    _class_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    _confidence = traitlets.Bytes(b"").tag(sync=True)
    # The group panel: status, progress, the images in the mean, the mean and each image's map.
    group_status = traitlets.Unicode("idle", help="Read-only: the lasso group's maps: 'idle', 'computing', 'done', 'cancelled' or 'error'.").tag(sync=True)
    group_done = traitlets.Int(0, help="Read-only: how many of the group's maps are computed.").tag(sync=True)
    group_total = traitlets.Int(0, help="Read-only: how many maps the group needs (at most `group_limit`).").tag(sync=True)
    group_message = traitlets.Unicode("", help="Read-only: what the group panel says (how many images the mean covers, or the error).").tag(sync=True)
    group_indices = traitlets.List(traitlets.Int(), help="Read-only: the points whose maps the group's mean covers, in selection order.").tag(sync=True)
    _group_mean = traitlets.Bytes(b"").tag(sync=True)  # float32 h x w
    _group_maps = traitlets.Bytes(b"").tag(sync=True)  # uint8 K x h x w
    _group_shape = traitlets.List(traitlets.Int()).tag(sync=True)

    def __init__(
        self,
        model: torch.nn.Module,
        images: Any,
        *,
        transform: Callable[[Any], torch.Tensor] | None = None,
        labels: Any = None,
        classes: Sequence[str] | None = None,
        layer: Any = None,
        batch_size: int | None = None,
        progress: bool = True,
        autostart: bool = True,
        prefetch: str = "all",
        **tsne_params: Any,
    ) -> None:
        """Run `model` once over `images` (`nbviz.features`), lay out the features with t-SNE and
        link the scatter to a lazily reading CAMExplorer. `batch_size` and `progress` go to
        `nbviz.features` (a progress bar over the images); with `autostart` the t-SNE starts at
        once. `prefetch`: which maps are prepared before they are clicked (`lens_prefetch`): "all"
        (the hovered point, a clicked point's neighbours, then every point while the t-SNE is not
        running), "near" (the first two only) or "off". Raises ModelLensError / FeaturesError (both
        ValueErrors) naming the fix for bad input, before any widget is shown."""
        from nbviz.lens import features as compute_features
        from nbviz.lens.image_sources import image_source
        from nbviz.widgets.cam_explorer import CAMExplorer
        from nbviz.widgets.tsne_scatter import TSNEScatter

        if prefetch not in PREFETCH:
            raise ModelLensError(f"prefetch must be one of {', '.join(map(repr, PREFETCH))}, got {prefetch!r}")
        source = image_source(images)
        given_labels = _label_array(labels, len(source))
        thumbnails: list[np.ndarray] = []
        side = THUMBNAIL_SIDE[0] if len(source) <= 2000 else THUMBNAIL_SIDE[1]

        def keep_thumbnail(entry: Any) -> Any:
            thumbnails.append(_thumbnail(entry, side))
            return transform(entry) if transform is not None else entry

        feats = compute_features(model, source, transform=keep_thumbnail, layer=layer,
                                 batch_size=batch_size, progress=progress)
        if feats.probs is None:
            raise ModelLensError("ModelLens needs a classifier: the model's output must be (batch, n_classes) scores, "
                                 "so each image has a predicted class whose map the explorer shows")
        n_classes = feats.probs.shape[1]
        class_names = _class_names(classes, n_classes)
        true = given_labels[feats.indices] if given_labels is not None else feats.labels
        if true is not None:
            true = _as_class_indices(true, class_names)
        self.features = feats
        explorer = CAMExplorer(
            model, LazyImages(len(feats), self._loader(source, feats.indices, transform), probabilities=feats.probs),
            labels=class_names)
        try:
            predicted = feats.predicted
            confidence = feats.probs[np.arange(len(feats)), predicted].astype("<f4")
            scatter = TSNEScatter(
                feats.X, images=_stack(thumbnails),
                texts=_texts(feats, class_names, true, confidence), autostart=False, **tsne_params)
        except Exception:
            explorer.close()
            raise
        scatter.ringed = np.flatnonzero(true != predicted).tolist() if true is not None else []
        try:
            super().__init__(
                scatter, explorer, selection_mode="none",
                _label_codes=true.astype("<u2").tobytes() if true is not None else b"",
                _predicted_codes=predicted.astype("<u2").tobytes(),
                _class_names=class_names,
                _confidence=confidence.tobytes(),
            )
        except Exception:
            scatter.close()
            explorer.close()
            raise
        self._kernel = KernelThread()
        self._group = GroupWorker(explorer, lambda result: self._kernel.call(lambda: self._show_group(result), key="group"))
        self._prefetch = MapPrefetcher(
            explorer, sweep_order=sweep_order(len(feats), scatter.ringed),
            may_sweep=lambda: scatter.status != "running", near=prefetch != "off", sweep=prefetch == "all")
        self.on_msg(self._on_message)
        scatter.on_msg(self._on_scatter_message)
        scatter.observe(self._on_lasso, "selection")
        scatter.observe(self._on_focus_prefetch, "focus")
        scatter.observe(lambda _change: self._prefetch.resume(), "status")
        explorer.observe(self._on_map_choice, ["layer", "method"])
        explorer.observe(lambda _change: self._prefetch.touched(),
                         ["image_index", "target", "layer", "method", "versus", "extra_targets"])
        if prefetch == "all":
            self._prefetch.resume()
        self._apply_color()
        if autostart:
            scatter.start()

    # ---- public API ---------------------------------------------------------------------------
    @property
    def misclassified(self) -> list[int]:
        """Points whose predicted class differs from their true label (ringed in the scatter)."""
        return list(self.scatter.ringed)

    def wait_group(self, timeout: float = 30.0) -> bool:
        """Block until the group panel's maps are computed (scripts, tests); False on timeout."""
        done = self._group.wait(timeout)
        self._kernel.drain()
        return done

    def cancel_group(self) -> None:
        """Stop computing the group's maps (the panel's Cancel button)."""
        self._group.cancel()

    def export_state(self, max_images: int = DEFAULT_MAX_IMAGES) -> dict[str, Any]:
        """As LinkedViews.export_state, without the live group (the report's lasso averages the
        maps saved in it)."""
        state = super().export_state(max_images=max_images)
        state.update(group_status="idle", group_done=0, group_total=0, group_message="", group_indices=[],
                     _group_mean=b"", _group_maps=b"", _group_shape=[])
        return state

    def close(self) -> None:
        """Stop the group worker and close the lens with its scatter and explorer."""
        if hasattr(self, "_group"):  # absent when the constructor failed before making it
            self._group.cancel()
            self._prefetch.close()
            self._kernel.close()
        scatter, explorer = self.scatter, self.explorer
        super().close()
        for part in (scatter, explorer):
            if part is not None:
                part.close()

    # ---- behaviour ----------------------------------------------------------------------------
    @traitlets.validate("color_by")
    def _valid_color_by(self, proposal: dict) -> str:
        value = proposal["value"]
        if value not in COLOR_BY:
            raise traitlets.TraitError(f"color_by must be one of {', '.join(COLOR_BY)}, got {value!r}")
        if value == "label" and not self._label_codes:
            raise traitlets.TraitError("color_by='label' needs true labels: pass labels= (or a dataset of (image, label) items)")
        return value

    @traitlets.validate("group_limit")
    def _valid_group_limit(self, proposal: dict) -> int:
        if proposal["value"] < 1:
            raise traitlets.TraitError(f"group_limit must be at least 1, got {proposal['value']}")
        return proposal["value"]

    @traitlets.observe("color_by")
    def _on_color_by(self, _change: dict) -> None:
        self._apply_color()

    def _apply_color(self) -> None:
        """The scatter's colours for `color_by` (the browser does the same in a report)."""
        scatter = self.scatter
        with scatter.hold_sync():
            if self.color_by == "confidence":
                scatter.label_codes, scatter.label_names = b"", []
                scatter.color_values, scatter.color_range = self._confidence, [0.0, 1.0]
                scatter.color_label = "confidence (probability of the predicted class)"
            else:
                codes = self._label_codes if self.color_by == "label" else self._predicted_codes
                scatter.color_values = b""
                scatter.label_codes, scatter.label_names = codes, list(self._class_names)

    def _on_lasso(self, change: dict) -> None:
        self._group.start(change["new"], self.group_limit)

    def _on_focus_prefetch(self, change: dict) -> None:
        """A clicked point: prepare the maps of its layout neighbours (likely the next clicks)."""
        if change["new"] >= 0:
            self._prefetch.clicked_near(layout_neighbours(self.scatter.embedding, change["new"]))

    def _on_map_choice(self, _change: dict) -> None:
        self._prefetch.restart_sweep()
        if self.scatter.selection:
            self._group.start(self.scatter.selection, self.group_limit)

    def _show_group(self, result: GroupResult) -> None:
        with self.hold_sync():
            self.group_status, self.group_done, self.group_total = result.status, result.done, result.total
            self.group_message = result.message
            if result.status in ("done", "idle"):
                self.group_indices = result.indices
                self._group_mean = result.mean.astype("<f4").tobytes() if result.mean is not None else b""
                self._group_shape = list(result.mean.shape) if result.mean is not None else []
                self._group_maps = result.maps

    def _on_scatter_message(self, _widget: Any, content: Any, _buffers: list) -> None:
        """The scatter's "hover": prepare that point's map before it is clicked (lens_prefetch)."""
        if isinstance(content, dict) and content.get("type") == "hover":
            self._prefetch.hovered(int(content.get("index", -1)))

    def _on_message(self, _widget: Any, content: Any, _buffers: list) -> None:
        if isinstance(content, dict) and content.get("type") == "cancel_group":
            self._group.cancel()

    @staticmethod
    def _loader(source: Any, indices: np.ndarray, transform: Any) -> Callable[[int], PreparedImage]:
        """load(point) for LazyImages: the point's source item read again, as `features` read it."""
        from nbviz.lens.image_sources import model_input, read_entry

        def load(point: int) -> PreparedImage:
            index = int(indices[point])
            raw, _label = source.entry(index)
            entry = read_entry(raw)
            name = Path(raw).name if isinstance(raw, (str, os.PathLike)) else f"image {index}"
            return PreparedImage(model_input(entry, transform, index).unsqueeze(0), _photo(entry), name)

        return load


# ---- helpers --------------------------------------------------------------------------------------
def _label_array(labels: Any, n_images: int) -> np.ndarray | None:
    if labels is None:
        return None
    array = np.asarray(labels.detach().cpu() if isinstance(labels, torch.Tensor) else labels)
    if array.ndim != 1 or len(array) != n_images:
        raise ModelLensError(f"labels has {len(array) if array.ndim else 0} entries (shape {array.shape}) but there are "
                             f"{n_images} images; pass one true label per image, in the images' order")
    return array


def _class_names(classes: Sequence[str] | None, n_classes: int) -> list[str]:
    if classes is None:
        return [str(i) for i in range(n_classes)]
    names = [str(c) for c in classes]
    if len(names) != n_classes:
        raise ModelLensError(f"classes has {len(names)} names but the model outputs {n_classes} class scores; "
                             "pass one name per output, in output order")
    return names


def _as_class_indices(labels: np.ndarray, class_names: list[str]) -> np.ndarray:
    """True labels as class indices: integers as they are, names looked up in `class_names`."""
    if labels.dtype.kind in "iu":
        bad = labels[(labels < 0) | (labels >= len(class_names))]
        if bad.size:
            raise ModelLensError(f"label {bad[0]} is not a class index from 0 to {len(class_names) - 1}")
        return labels.astype(np.int64)
    lookup = {name: i for i, name in enumerate(class_names)}
    unknown = [str(v) for v in labels if str(v) not in lookup]
    if unknown:
        raise ModelLensError(f"label {unknown[0]!r} is not one of the class names ({', '.join(class_names[:5])}, ...); "
                             "pass labels as class indices or names from classes=")
    return np.array([lookup[str(v)] for v in labels], dtype=np.int64)


def _photo(entry: Any) -> Any:
    """The photo the explorer draws for a read entry (tensors of intensities in [0, 1])."""
    if isinstance(entry, torch.Tensor) and entry.is_floating_point():
        entry = entry.clamp(0, 1)
    elif isinstance(entry, np.ndarray) and np.issubdtype(entry.dtype, np.floating):
        entry = np.clip(entry, 0.0, 1.0)
    return to_pil(entry)


def _thumbnail(entry: Any, side: int) -> np.ndarray:
    """An RGB uint8 thumbnail of at most `side` pixels a side (never enlarged)."""
    from PIL import Image

    return np.asarray(shrunk(_photo(entry), side, Image.BOX), dtype=np.uint8)


def _stack(thumbnails: list[np.ndarray]) -> np.ndarray | None:
    """N x h x w x 3 thumbnails, or None (no hover pictures) when the images differ in size."""
    shapes = {t.shape for t in thumbnails}
    if len(shapes) != 1:
        warnings.warn("the images differ in size, so the scatter shows no hover thumbnails", UserWarning, stacklevel=3)
        return None
    return np.stack(thumbnails)


def _texts(feats: Any, class_names: list[str], true: np.ndarray | None, confidence: np.ndarray) -> list[str]:
    """Hover text per point: name, true label (when known), predicted class and its probability."""
    names = [p.name for p in feats.paths] if feats.paths is not None else [f"image {i}" for i in feats.indices]
    texts = []
    for row, name in enumerate(names):
        truth = f" · label {class_names[true[row]]}" if true is not None else ""
        texts.append(f"{name}{truth} · predicted {class_names[feats.predicted[row]]} ({confidence[row]:.0%})")
    return texts
