"""Features of a dataset: one batched pass of a model, a layer's activations pooled to vectors.

For each image x the feature vector is pool(A(x)) where A(x) is the output of `layer` (or, by
default, the input of the model's classifier head: its last nn.Linear):
  - (B, D) vectors are kept as they are,
  - (B, C, H, W) maps become (B, C) by the mean ("avg") or maximum ("max") over H x W,
  - (B, T, C) token sequences become (B, C) by the same over the T tokens.
The model's own output, when it is a (B, C) tensor, gives logits, softmax probabilities and the
predicted class. The model's training flags and hooks are restored afterwards, on any exit.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nbviz.cam.hygiene import evaluation_mode, hooks_removed_after
from nbviz.cam.inputs import model_device, model_dtype
from nbviz.cam.layers import layer_name

from .errors import FeaturesError
from .image_sources import Item, Transform, image_source

POOLS = ("avg", "max")


@dataclass
class Features:
    """What `features` returns; row i describes source item `indices[i]`.

    X (N, D) float32 pooled activations; logits / probs (N, C) float32 and predicted (N,) int64,
    or None when the model does not output (B, C) scores; labels (N,) from (image, label) items,
    or None; indices (N,) positions in the source (unreadable files are skipped); paths, the
    file of each row when the images came from files; layer, the name of the hooked module.
    """

    X: np.ndarray
    logits: np.ndarray | None
    probs: np.ndarray | None
    predicted: np.ndarray | None
    labels: np.ndarray | None
    indices: np.ndarray
    paths: list[Path] | None
    layer: str

    def __len__(self) -> int:
        return len(self.X)


def features(
    model: nn.Module,
    images: Any,
    *,
    transform: Transform | None = None,
    layer: nn.Module | str | None = None,
    pool: str = "avg",
    batch_size: int | None = None,
    device: Any = None,
    progress: bool = True,
) -> Features:
    """Pooled activations of `layer` for every image, in batches (see the module docstring).

    `images`: a folder (searched recursively), a torch Dataset (image or (image, label) items), a
    DataLoader, a (N, C, H, W) tensor, or a list of arrays / PIL images / file paths; decoded a
    batch at a time. `transform` turns each PIL image / array into a (C, H, W) tensor (needed when
    the images differ in size). `batch_size`: default 64 on the CPU, 256 elsewhere. `device`: where
    to compute; the model must already be there (default: the model's device). `progress` shows a
    tqdm bar. Runs under torch.inference_mode with every module in eval mode; afterwards the
    model's training flags are as they were and no hook is left, also after an error or Ctrl-C.
    """
    if pool not in POOLS:
        raise FeaturesError(f"pool must be one of {', '.join(POOLS)}, got {pool!r}")
    source = image_source(images)
    if len(source) == 0:
        raise FeaturesError("there are no images to compute features of; pass at least one")
    here = model_device(model, torch.device("cpu"))
    if device is not None and torch.device(device) != here:
        raise FeaturesError(f"the model is on {here} but device={device!r} was asked for; move the model "
                            f"first (model.to({str(device)!r})) or leave device=None")
    size = batch_size or (64 if here.type == "cpu" else 256)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise FeaturesError(f"batch_size must be a positive int, got {batch_size!r}")
    module, name, hook_input = _hook_point(model, layer)
    captured: list[Any] = []
    rows: dict[str, list] = {"X": [], "logits": [], "labels": [], "indices": []}
    skipped: list[str] = []
    with evaluation_mode(model), torch.inference_mode(), hooks_removed_after([]) as handles:
        if hook_input:
            handles.append(module.register_forward_pre_hook(lambda m, args: captured.append(args[0])))
        else:
            handles.append(module.register_forward_hook(lambda m, args, out: captured.append(out)))
        dtype = model_dtype(model) or torch.float32
        bar = _progress(len(source), progress)
        for batch, consumed in _batches(source.items(transform), size, skipped, bar):
            x = torch.stack([item.image for item in batch]).to(here, dtype)
            captured.clear()
            output = model(x)
            rows["X"].append(_pooled(_captured_once(captured, name), pool, name).float().cpu())
            if isinstance(output, torch.Tensor) and output.dim() == 2 and output.shape[0] == len(batch):
                rows["logits"].append(output.float().cpu())
            rows["labels"] += [item.label for item in batch]
            rows["indices"] += [item.index for item in batch]
            bar.update(consumed)
    if skipped:
        listed = "; ".join(skipped[:3]) + (f"; and {len(skipped) - 3} more" if len(skipped) > 3 else "")
        warnings.warn(f"skipped {len(skipped)} unreadable image(s): {listed}", UserWarning, stacklevel=2)
    if not rows["X"]:
        raise FeaturesError(f"none of the {len(source)} images could be read; see the warning for why")
    return _assemble(rows, source.paths, name)


def _hook_point(model: nn.Module, layer: nn.Module | str | None) -> tuple[nn.Module, str, bool]:
    """(module, name, hook its input?): the given layer's output, or the classifier head's input."""
    names = [n for n, _ in model.named_modules() if n]
    if layer is None:
        heads = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
        if not heads:
            raise FeaturesError("the model has no nn.Linear classifier head to take features before; "
                                f"name a layer with layer=..., e.g. one of {', '.join(names[-4:])}")
        head_name, head = heads[-1]
        return head, head_name, True
    name = layer_name(model, layer, names[-8:], "its last layers are")
    return dict(model.named_modules())[name], name, False


def _captured_once(captured: list[Any], name: str) -> torch.Tensor:
    if not captured:
        raise FeaturesError(f"layer {name!r} was not called during the forward pass; choose a layer the model uses")
    if len(captured) > 1:
        raise FeaturesError(f"layer {name!r} is called {len(captured)} times in one forward pass (a shared "
                            "module), so its output is ambiguous; choose a layer called once, e.g. its parent")
    value = captured[0]
    if not isinstance(value, torch.Tensor):
        raise FeaturesError(f"layer {name!r} outputs a {type(value).__name__}, not a tensor; choose a layer "
                            "whose output is a (B, D) vector, a (B, C, H, W) map or (B, T, C) tokens")
    return value


def _pooled(activations: torch.Tensor, pool: str, name: str) -> torch.Tensor:
    """(B, D) vectors from (B, D), (B, C, H, W) or (B, T, C) activations (module docstring)."""
    if activations.dim() == 2:
        return activations
    if activations.dim() == 4:
        dims = (2, 3)
    elif activations.dim() == 3:
        dims = (1,)
    else:
        raise FeaturesError(f"layer {name!r} outputs shape {tuple(activations.shape)}, neither a vector, a spatial "
                            "map nor a token sequence; choose another layer")
    return activations.mean(dim=dims) if pool == "avg" else activations.amax(dim=dims)


def _batches(items: Iterator[Item], size: int, skipped: list[str], bar: Any) -> Iterator[tuple[list[Item], int]]:
    """(batch, items consumed for it): readable items grouped by `size`, unreadable ones recorded
    in `skipped`; every image must have the first one's shape. Closes `bar` at the end."""
    batch: list[Item] = []
    first_shape = None
    consumed = 0
    try:
        for item in items:
            consumed += 1
            if item.image is None:
                skipped.append(item.problem)
                continue
            shape = tuple(item.image.shape)
            first_shape = first_shape or shape
            if shape != first_shape:
                raise FeaturesError(
                    f"image {item.index} is {shape[-2]}x{shape[-1]} with {shape[0]} channels but the first is "
                    f"{first_shape[-2]}x{first_shape[-1]} with {first_shape[0]}; pass transform= to bring "
                    "every image to one size (e.g. the model's preprocessing)")
            batch.append(item)
            if len(batch) == size:
                yield batch, consumed
                batch, consumed = [], 0
        if batch:
            yield batch, consumed
    finally:
        bar.close()


def _progress(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="features", unit="img", disable=not enabled)


def _assemble(rows: dict[str, list], paths: list[Path] | None, name: str) -> Features:
    X = torch.cat(rows["X"]).numpy()
    logits = torch.cat(rows["logits"]).numpy() if len(rows["logits"]) == len(rows["X"]) else None
    probs = torch.from_numpy(logits).softmax(dim=1).numpy() if logits is not None else None
    predicted = logits.argmax(axis=1).astype(np.int64) if logits is not None else None
    labels = np.asarray(rows["labels"]) if all(label is not None for label in rows["labels"]) else None
    indices = np.asarray(rows["indices"], dtype=np.int64)
    kept_paths = [paths[i] for i in indices] if paths is not None else None
    return Features(X, logits, probs, predicted, labels, indices, kept_paths, name)
