"""Every kind of image collection `nbviz.features` accepts, read lazily as batches of tensors.

A source knows its length and yields (index, image tensor or None, label or None) one item at a
time, decoding an image only when asked for it, so a 10,000-file folder costs 10,000 paths until
it is read. None marks an item that could not be read (a broken file): the caller skips it.
`entry(i)` reads one item at random (a ModelLens shows the image of a clicked point this way).
"""
from __future__ import annotations

import abc
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .errors import FeaturesError

#: File name endings read as images when a folder is given (case-insensitive).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")

Transform = Callable[[Any], torch.Tensor]


@dataclass
class Item:
    """One image of a source: its position, the tensor (None when unreadable) and its label."""

    index: int
    image: torch.Tensor | None
    label: Any = None
    problem: str = ""


def image_source(images: Any) -> "ImageSource":
    """The source for `images`: a folder path, a DataLoader, a Dataset, or a sequence of images
    (an ImageSource is returned as it is).

    Sequence items may be HxWxC / HxW arrays, CxHxW tensors, PIL images or file paths.
    """
    from torch.utils.data import DataLoader, Dataset

    if isinstance(images, ImageSource):
        return images
    if isinstance(images, (str, os.PathLike)) and Path(images).is_dir():
        return FolderSource(Path(images))
    if isinstance(images, (str, os.PathLike)):
        raise FeaturesError(f"{str(images)!r} is not a folder; pass a folder of images, a Dataset, a "
                            "DataLoader or a list of images / file paths")
    if isinstance(images, DataLoader):
        return LoaderSource(images)
    if isinstance(images, Dataset):
        return DatasetSource(images)
    if isinstance(images, torch.Tensor) and images.dim() == 4:
        return SequenceSource(list(images.unbind(0)))
    if isinstance(images, np.ndarray) and images.ndim == 4:
        return SequenceSource(list(images))
    if isinstance(images, Sequence) and not isinstance(images, (str, bytes)):
        return SequenceSource(list(images))
    raise FeaturesError(
        f"images must be a folder path, a torch Dataset or DataLoader, a (N, C, H, W) tensor or a list "
        f"of arrays / PIL images / file paths, got {type(images).__name__}")


class ImageSource(abc.ABC):
    """An image collection: its length, file paths when it has them, and its items in order."""

    paths: list[Path] | None = None

    @abc.abstractmethod
    def __len__(self) -> int:
        """Number of items."""

    @abc.abstractmethod
    def items(self, transform: Transform | None) -> Iterator[Item]:
        """Each item decoded (through `transform` when given), in order."""

    @abc.abstractmethod
    def entry(self, index: int) -> tuple[Any, Any]:
        """(image, label) of item `index` as stored: a path, array, PIL image or tensor; label or None."""


class SequenceSource(ImageSource):
    """A list of arrays, tensors, PIL images or file paths, decoded one at a time."""

    def __init__(self, entries: list[Any]) -> None:
        self.entries = entries
        if all(isinstance(e, (str, os.PathLike)) for e in entries):
            self.paths = [Path(e) for e in entries]

    def __len__(self) -> int:
        return len(self.entries)

    def items(self, transform: Transform | None) -> Iterator[Item]:
        for index, entry in enumerate(self.entries):
            yield _decoded(index, entry, transform)

    def entry(self, index: int) -> tuple[Any, Any]:
        return self.entries[index], None


class FolderSource(SequenceSource):
    """Every image file under a folder (recursively, sorted by path)."""

    def __init__(self, folder: Path) -> None:
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise FeaturesError(f"the folder {str(folder)!r} holds no image files ({', '.join(IMAGE_SUFFIXES)}); "
                                "check the path, or pass a list of images instead")
        super().__init__(files)


class DatasetSource(ImageSource):
    """A map-style torch Dataset whose items are images or (image, label, ...) tuples."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def items(self, transform: Transform | None) -> Iterator[Item]:
        for index in range(len(self.dataset)):
            image, label = _split_item(self.dataset[index])
            yield _decoded(index, image, transform, label)

    def entry(self, index: int) -> tuple[Any, Any]:
        return _split_item(self.dataset[index])


class LoaderSource(ImageSource):
    """A DataLoader yielding (B, C, H, W) batches or (batch, labels, ...) tuples; unbatched here."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def __len__(self) -> int:
        return len(self.loader.dataset)

    def items(self, transform: Transform | None) -> Iterator[Item]:
        index = 0
        for batch in self.loader:
            images, labels = _split_item(batch)
            if not isinstance(images, torch.Tensor) or images.dim() != 4:
                raise FeaturesError("a DataLoader must yield (B, C, H, W) tensors or (tensor, labels) tuples; "
                                    f"got {type(images).__name__}")
            for row, image in enumerate(images.unbind(0)):
                label = labels[row] if labels is not None else None
                yield _decoded(index, image, transform, label)
                index += 1

    def entry(self, index: int) -> tuple[Any, Any]:
        """Item `index` of the loader's dataset (what the loader batches, before collation)."""
        return _split_item(self.loader.dataset[index])


def _split_item(item: Any) -> tuple[Any, Any]:
    if isinstance(item, (tuple, list)) and len(item) >= 2:
        return item[0], item[1]
    return item, None


def read_entry(entry: Any) -> Any:
    """An entry ready for a transform: a file path opened as an RGB PIL image, anything else as it is.
    Raises OSError / ValueError for a file that is not a readable image."""
    if isinstance(entry, (str, os.PathLike)):
        with Image.open(entry) as opened:
            return opened.convert("RGB")
    return entry


def model_input(entry: Any, transform: Transform | None, index: int) -> torch.Tensor:
    """The (C, H, W) float tensor `features` gives the model for a read entry (see `read_entry`)."""
    return as_chw(transform(entry) if transform is not None else entry, index)


def _decoded(index: int, entry: Any, transform: Transform | None, label: Any = None) -> Item:
    """Decode one entry to a (C, H, W) float tensor, through `transform` when one is given."""
    if isinstance(label, torch.Tensor) and label.numel() == 1:
        label = label.item()
    try:
        entry = read_entry(entry)
    except (OSError, UnidentifiedImageError, ValueError) as error:
        return Item(index, None, label, f"{entry}: {error}")
    return Item(index, model_input(entry, transform, index), label)


def as_chw(image: Any, index: int) -> torch.Tensor:
    """A float (C, H, W) tensor: tensors as they are, uint8 / PIL pixels scaled to [0, 1]."""
    if isinstance(image, torch.Tensor):
        tensor = image if image.is_floating_point() else image.float() / 255.0
        if tensor.dim() == 2:
            tensor = tensor.unsqueeze(0)
        if tensor.dim() != 3:
            raise FeaturesError(f"image {index} has shape {tuple(image.shape)}; expected (C, H, W)")
        return tensor
    array = np.asarray(image)
    if array.dtype == object or array.ndim not in (2, 3):
        raise FeaturesError(f"image {index} is a {type(image).__name__} of shape {array.shape}; "
                            "pass HxW / HxWxC arrays, PIL images, CxHxW tensors or file paths")
    scale = 255.0 if array.dtype == np.uint8 else 1.0
    tensor = torch.tensor(array, dtype=torch.float32) / scale
    return tensor.unsqueeze(0) if tensor.dim() == 2 else tensor.permute(2, 0, 1)
