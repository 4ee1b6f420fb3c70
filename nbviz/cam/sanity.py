"""Model-parameter randomisation test (Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018).

A map that explains the model must change when the model's learned weights are destroyed.  The
test re-initialises the model block by block, from the output towards the input, recomputes the
map after each step and measures how much it still resembles the original.  Methods whose maps stay
alike (Guided Backprop, Guided Grad-CAM in the paper) show the image's edges rather than what the
model learned.  The paper's second test, retraining on permuted labels, is out of scope here.
"""
from __future__ import annotations

import copy
import gc
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .context import check_cancel
from .errors import CAMError, ModelError
from .explainer import Explainer, LayerLike, is_fusion
from .layers import layer_name
from .postprocess import minmax_per_image, upsample
from .registry import method_spec
from .similarity import SIMILARITIES, similarity_to
from .targets import TargetLike

#: Default verdict: the Spearman rank correlation with the original map must fall below this value.
#: 0.5 means at most a quarter of the original ranking's variance is still explained
#: (rho^2 = 0.25); maps of methods that only see edges stay far above it (about 0.8 and more).
SPEARMAN_THRESHOLD = 0.5

CASCADES = ("top-down", "independent")
_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


@dataclass(frozen=True)
class SanityResult:
    """What :func:`sanity_check` measured.

    ``blocks``: the randomised units in the order they were randomised (the head first).
    ``original``: the map of the trained model, (B, H, W).  ``maps``: (S, B, H, W), the map after
    step s (cascading: blocks 0..s randomised; independent: only block s).  ``similarity``: measure
    name -> (S, B) array of the similarity of each step's map to the original.  ``passed``: whether
    the ``verdict_measure`` of the batch mean fell below ``threshold`` by the middle of the cascade
    (at or before step ``middle``); ``first_below`` is the first step where it did (None: never).
    ``feature_original`` (B, h, w) and ``feature_maps`` (S, B, h, w): the same maps at the resolution the
    method computes them (the layer's grid, the finest grid of a fused map, the input for guided
    methods); ``maps`` are these upsampled as :func:`~nbviz.cam.compute` upsamples.
    """

    method: str
    layer: str | list[str] | None
    cascade: str
    seed: int
    blocks: tuple[str, ...]
    original: torch.Tensor
    maps: torch.Tensor
    similarity: dict[str, np.ndarray]
    verdict_measure: str
    threshold: float
    middle: int
    first_below: int | None
    passed: bool
    seconds: float = field(default=0.0, compare=False)
    feature_original: torch.Tensor | None = None
    feature_maps: torch.Tensor | None = None

    @property
    def verdict(self) -> str:
        """``"pass"`` (the map depends on the weights) or ``"fail"`` (it survives their randomisation)."""
        return "pass" if self.passed else "fail"

    def curve(self, measure: str | None = None) -> np.ndarray:
        """Similarity per step (mean over the batch) for ``measure`` (default: the verdict's measure)."""
        return self.similarity[measure or self.verdict_measure].mean(axis=1)

    def table(self) -> list[dict[str, Any]]:
        """One row per step: ``block`` and the batch-mean value of every measure."""
        return [{"block": block, **{name: float(values[s].mean()) for name, values in self.similarity.items()}}
                for s, block in enumerate(self.blocks)]

    def __repr__(self) -> str:
        curve = ", ".join(f"{value:.2f}" for value in self.curve())
        return (f"SanityResult(method={self.method!r}, verdict={self.verdict!r}, {self.verdict_measure} "
                f"threshold={self.threshold}, by step {self.middle} of {len(self.blocks)}: [{curve}])")


def cascade_blocks(model: nn.Module, call_order: Sequence[str]) -> list[str]:
    """The units the cascade randomises, input to output: the modules with parameters at the top of the
    module tree, with plain containers (``Sequential``, ``ModuleList``, ``ModuleDict``) opened into their
    children; ordered by when their forward call finished, modules never called left out."""
    units: list[str] = []

    def visit(module: nn.Module, prefix: str) -> None:
        for name, child in module.named_children():
            full = f"{prefix}{name}"
            if next(child.parameters(), None) is None:
                continue
            if type(child) in _CONTAINERS:
                visit(child, full + ".")
            else:
                units.append(full)

    visit(model, "")
    finished = {name: index for index, name in enumerate(call_order)}
    return sorted((unit for unit in units if unit in finished), key=finished.__getitem__)


def _randomise(unit: nn.Module, seed: int) -> None:
    """Re-initialise every parameter of ``unit`` as an untrained module of its type would be.

    Modules with ``reset_parameters`` (convolutions, linear layers, normalisation layers with their
    running statistics) use it; any other parameter is redrawn from N(0, s^2), s its trained standard
    deviation.  The global random state is seeded for this and restored afterwards.
    """
    devices = sorted({p.device.index or 0 for p in unit.parameters() if p.device.type == "cuda"})
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        torch.manual_seed(seed)
        covered: set[int] = set()
        for module in unit.modules():
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()
                covered.update(id(p) for p in module.parameters())
        for parameter in unit.parameters():
            if id(parameter) not in covered:
                std = float(parameter.float().std()) if parameter.numel() > 1 else 1.0
                parameter.normal_(0.0, std)


def _check_arguments(model: Any, cascade: str, similarity: Sequence[str], verdict_measure: str) -> tuple[str, ...]:
    if not isinstance(model, nn.Module):
        raise ModelError(f"sanity_check needs a torch.nn.Module, got {type(model).__name__}")
    if next(model.parameters(), None) is None:
        raise ModelError("the model has no parameters, so there is nothing to randomise; run the sanity check on "
                         "a model with learned weights (e.g. nbviz.data.load_pretrained()[0])")
    if cascade not in CASCADES:
        raise CAMError(f"cascade must be one of {', '.join(CASCADES)}, got {cascade!r}")
    names = (similarity,) if isinstance(similarity, str) else tuple(similarity)
    unknown = [name for name in names if name not in SIMILARITIES]
    if unknown or not names:
        problem = f"unknown similarity {unknown[0]!r}" if unknown else "the similarity list is empty"
        raise CAMError(f"{problem}; choose from {', '.join(SIMILARITIES)}")
    if verdict_measure not in names:
        raise CAMError(f"verdict_measure {verdict_measure!r} must be one of the computed similarities {names}")
    return names


def _portable_layer(model: nn.Module, layer: LayerLike) -> str | list[str] | None:
    """``layer`` by name(s), which the deep copy shares (modules of ``model`` are not the copy's)."""
    if layer is None or is_fusion(layer) and isinstance(layer, str):
        return layer
    if is_fusion(layer):
        return [layer_name(model, item, []) for item in layer]
    return layer_name(model, layer, [])


def sanity_check(model: nn.Module, x: torch.Tensor, method: str, layer: LayerLike = None,
                 target: TargetLike = None, *, cascade: str = "top-down", seed: int = 0,
                 similarity: Sequence[str] = ("spearman", "ssim", "hog"),
                 threshold: float = SPEARMAN_THRESHOLD, verdict_measure: str = "spearman",
                 progress: Callable[[int, int], None] | None = None, cancel: Any = None,
                 **options: Any) -> SanityResult:
    """Model-parameter randomisation test of ``method`` on ``x`` (Adebayo et al. 2018).

    Works on a deep copy of ``model`` on the model's device (the model and its weights stay
    untouched; the copy is freed afterwards).  The copy's units (see ``nbviz.cam.sanity.cascade_blocks``) are
    re-initialised one at a time from the output towards the input (``cascade="top-down"``, each
    step keeping the earlier ones randomised, as in the paper's cascading test) or one at a time
    with the others trained (``"independent"``), and the map recomputed after each step with the
    same layer, the same target class (None: the trained model's prediction) and ``options``.
    Each map is compared with the original by the ``similarity`` measures
    (``nbviz.cam.similarity``: Spearman rank correlation of absolute values, SSIM, HOG-feature
    correlation).  Verdict: passes when the batch-mean ``verdict_measure`` is below ``threshold``
    at some step up to the middle of the cascade, step ``(S - 1) // 2`` of S.  Re-initialisation
    is seeded by ``seed`` (and the global random state restored).  ``progress(done, total)`` is
    called after every map; setting ``cancel`` raises :class:`~nbviz.cam.Cancelled`.
    """
    names = _check_arguments(model, cascade, similarity, verdict_measure)
    spec = method_spec(method)
    layer_in_model = _portable_layer(model, layer) if spec.needs_layer else None
    started = time.perf_counter()
    check_cancel(cancel)
    twin = copy.deepcopy(model)
    copy_alive = weakref.ref(twin)
    explainer = Explainer(twin)
    try:
        return _run(twin, explainer, x, spec.name, layer_in_model if spec.needs_layer else None, target,
                    cascade, seed, names, float(threshold), verdict_measure, progress, cancel, options, started)
    finally:
        explainer.close()
        del explainer, twin
        # the gradient methods leave no reference cycle, so the copy is already gone; a full collection
        # costs about three model passes and is needed only where one was made (torch.fx tracing of the
        # perturbation methods' fast copy)
        if copy_alive() is not None:
            gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _run(twin: nn.Module, explainer: Explainer, x: torch.Tensor, method: str, layer: str | list[str] | None,
         target: TargetLike, cascade: str, seed: int, names: tuple[str, ...], threshold: float,
         verdict_measure: str, progress: Callable[[int, int], None] | None, cancel: Any,
         options: dict[str, Any], started: float) -> SanityResult:
    if method_spec(method).needs_layer and layer is None:
        layer = explainer.default_layer(x)
    if target is None:
        target = explainer.predict(x).argmax(dim=1).tolist()  # keep the trained model's class throughout

    size = tuple(x.shape[-2:])

    def explain() -> tuple[torch.Tensor, torch.Tensor]:
        """The map of the current weights at the method's resolution and at the input's.

        (``result``, not ``explain``: a randomised copy may well give a blank map, which is what the
        test measures, so no warning.)"""
        small = explainer.result(x, method, layer, target, upsample=False, cancel=cancel, **options).maps
        if tuple(small.shape[-2:]) == size:
            return small.cpu(), small.cpu()
        if is_fusion(layer):  # the maximum over layers does not commute with resizing: fuse at input size
            return small.cpu(), explainer.result(x, method, layer, target, cancel=cancel, **options).maps.cpu()
        # minmax(up(minmax(M))) = minmax(up(M)): bilinear resizing commutes with the affine min-max map
        return small.cpu(), minmax_per_image(upsample(small, size)).cpu()

    feature_original, original = explain()
    blocks = cascade_blocks(twin, explainer.call_order(x))[::-1]
    if not blocks:
        raise ModelError("no module with parameters is called in the model's forward pass, so the cascade has "
                         "nothing to randomise; check that the model's layers are registered submodules")
    modules = dict(twin.named_modules())
    total = len(blocks) + 1
    if progress is not None:
        progress(1, total)
    maps, feature_maps = [], []
    for step, block in enumerate(blocks):
        check_cancel(cancel)
        unit = modules[block]
        saved = {key: value.clone() for key, value in unit.state_dict().items()} if cascade == "independent" else None
        _randomise(unit, seed * 1_000_003 + step)
        small, full = explain()
        feature_maps.append(small)
        maps.append(full)
        if saved is not None:
            with torch.no_grad():
                unit.load_state_dict(saved)
        if progress is not None:
            progress(step + 2, total)
    stacked = torch.stack(maps)
    scores = {}
    for name in names:
        against = [similarity_to(name, original[b]) for b in range(original.shape[0])]
        scores[name] = np.array([[against[b](stacked[s, b]) for b in range(original.shape[0])]
                                 for s in range(len(blocks))])
    middle = (len(blocks) - 1) // 2
    below = np.flatnonzero(scores[verdict_measure].mean(axis=1) < threshold)
    first_below = int(below[0]) if below.size else None
    return SanityResult(method=method, layer=layer, cascade=cascade, seed=seed, blocks=tuple(blocks),
                        original=original, maps=stacked, similarity=scores, verdict_measure=verdict_measure,
                        threshold=threshold, middle=middle, first_below=first_below,
                        passed=first_below is not None and first_below <= middle,
                        seconds=time.perf_counter() - started, feature_original=feature_original,
                        feature_maps=torch.stack(feature_maps))
