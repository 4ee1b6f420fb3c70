"""The images of a CAMExplorer: a short list prepared up front, or a large collection read lazily.

A list of images (what users pass by hand) is prepared at once: model inputs, photos, predictions.
A `LazyImages` collection (e.g. every image of a 10,000-file folder behind a ModelLens) prepares an
image only when it is shown or explained, keeps the most recent ones, and sends each photo to the
browser on request instead of all of them up front.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Sequence

import numpy as np
import torch

from nbviz.widgets.cam_inputs import ImageLike, PreparedImage, encode_photo, image_list, prepare_image

#: Prepared images a lazy gallery keeps (model input + photo each).
LAZY_CACHE_SIZE = 64


class LazyImages:
    """`length` images, image i made by `load(i) -> PreparedImage` only when it is needed.

    `probabilities`: optional (length, C) class probabilities computed beforehand (e.g. by
    `nbviz.features`); without them an image's probabilities come from one forward pass when it
    is first shown.
    """

    def __init__(self, length: int, load: Callable[[int], PreparedImage], *, probabilities: Any = None) -> None:
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ValueError(f"LazyImages needs a positive number of images, got {length!r}")
        if probabilities is not None:
            probabilities = np.asarray(probabilities, dtype=np.float32)
            if probabilities.ndim != 2 or len(probabilities) != length:
                raise ValueError(f"probabilities must be ({length}, n_classes), got shape {probabilities.shape}")
        self.length = length
        self.load = load
        self.probabilities = probabilities

    def __len__(self) -> int:
        return self.length


class ImageGallery:
    """Model inputs, photos and predictions of the explorer's images, eager or lazy.

    `predict(tensor) -> (C,) probabilities` runs the model (the explorer's engine).
    """

    def __init__(
        self,
        images: ImageLike | Sequence[ImageLike] | LazyImages,
        transform: Callable[[Any], torch.Tensor] | None,
        device: torch.device,
        predict: Callable[[torch.Tensor], torch.Tensor],
    ) -> None:
        self.device = device
        self._predict = predict
        self._lock = threading.Lock()
        self.lazy = isinstance(images, LazyImages)
        if self.lazy:
            self._source: LazyImages | None = images
            self._prepared: OrderedDict[int, PreparedImage] = OrderedDict()
            self._probabilities: dict[int, np.ndarray] = {}
            self.count = len(images)
        else:
            self._source = None
            items = [prepare_image(image, transform, i) for i, image in enumerate(image_list(images))]
            for item in items:
                item.tensor = item.tensor.to(device)
            self._prepared = OrderedDict(enumerate(items))
            self._probabilities = {i: self._predict(item.tensor).numpy() for i, item in enumerate(items)}
            self.count = len(items)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> PreparedImage:
        return self.prepared(index)

    def prepared(self, index: int) -> PreparedImage:
        """Image `index` prepared for the model (its tensor on the model's device) and shown."""
        with self._lock:
            item = self._prepared.get(index)
            if item is not None:
                self._prepared.move_to_end(index)
                return item
        item = self._source.load(index)
        item.tensor = item.tensor.to(self.device)
        with self._lock:
            self._prepared[index] = item
            while len(self._prepared) > LAZY_CACHE_SIZE:
                self._prepared.popitem(last=False)
        return item

    def probabilities(self, index: int) -> np.ndarray:
        """(C,) float32 softmax probabilities of image `index`."""
        if self._source is not None and self._source.probabilities is not None:
            return self._source.probabilities[index]
        with self._lock:
            cached = self._probabilities.get(index)
        if cached is None:
            cached = self._predict(self.prepared(index).tensor).numpy()
            with self._lock:
                self._probabilities[index] = cached
        return cached

    def topk(self, index: int, k: int) -> list[int]:
        """The k most probable classes of image `index`, most probable first."""
        values = torch.from_numpy(np.ascontiguousarray(self.probabilities(index)))
        return torch.topk(values, min(k, values.shape[0])).indices.tolist()

    def photo(self, index: int) -> tuple[bytes, str]:
        """The photo of image `index` as JPEG bytes and its MIME type."""
        return encode_photo(self.prepared(index).photo)
