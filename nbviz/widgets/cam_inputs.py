"""Turning what users pass as images into (model input, photo shown in the widget) pairs.

Plumbing only: decoding, type conversion and JPEG encoding; the maths stays in the engine.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from PIL import Image

ImageLike = Any  # PIL.Image.Image | np.ndarray (HxWx3 uint8) | torch.Tensor (CxHxW) | str | os.PathLike

JPEG_QUALITY = 90


class ImageInputError(ValueError):
    """An image could not be read or prepared for the model."""


@dataclass
class PreparedImage:
    """One image: the model input (1xCxHxW), the photo the overlay is drawn on, and its name."""

    tensor: torch.Tensor
    photo: Image.Image
    name: str


def image_list(images: ImageLike | Sequence[ImageLike]) -> list[ImageLike]:
    """A single image or a list/tuple of images, as a non-empty list."""
    if isinstance(images, (list, tuple)):
        if not images:
            raise ImageInputError("images is empty: pass one image or a non-empty list of images")
        return list(images)
    return [images]


def to_pil(image: ImageLike) -> Image.Image:
    """An RGB PIL image from a PIL image, an HxW(x3|x4) uint8 array, a CxHxW tensor or a file path.

    Float tensors and arrays are read as intensities in [0, 1] (scaled by 255); uint8 as 0..255.
    """
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    if isinstance(image, (str, os.PathLike)):
        path = Path(image).expanduser()
        if not path.is_file():
            raise ImageInputError(f"image file {str(path)!r} does not exist")
        try:
            with Image.open(path) as opened:
                return opened.convert("RGB")
        except OSError as error:
            raise ImageInputError(f"could not read {str(path)!r} as an image: {error}") from error
    if isinstance(image, torch.Tensor):
        if image.ndim != 3 or image.shape[0] not in (1, 3, 4):
            raise ImageInputError(
                f"an image tensor must be CxHxW with 1, 3 or 4 channels, got shape {tuple(image.shape)}; "
                "for a batch, pass a list of tensors"
            )
        image = image.detach().cpu().permute(1, 2, 0).numpy()
    if isinstance(image, np.ndarray):
        return _array_to_pil(image)
    raise ImageInputError(
        f"cannot use a {type(image).__name__} as an image; pass a PIL image, an HxWx3 uint8 array, "
        "a CxHxW tensor or a file path"
    )


def _array_to_pil(array: np.ndarray) -> Image.Image:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageInputError(f"an image array must be HxW, HxWx3 or HxWx4, got shape {array.shape}")
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ImageInputError("the image array contains NaN or infinite values")
        array = np.clip(np.rint(array * 255.0), 0, 255)
    return Image.fromarray(np.ascontiguousarray(array.astype(np.uint8))).convert("RGB")


def prepare_image(image: ImageLike, transform: Callable[[Any], torch.Tensor], index: int) -> PreparedImage:
    """Run `transform` on the image; the photo is the last PIL image the transform produced.

    For a torchvision `Compose` whose first steps resize and crop PIL images, that photo is exactly
    the crop the model sees, so the map lines up with it. Other transforms keep the whole photo.
    """
    pil = to_pil(image)
    photo = pil
    steps = getattr(transform, "transforms", None)
    try:
        if isinstance(steps, (list, tuple)):
            value: Any = pil
            for step in steps:
                value = step(value)
                if isinstance(value, Image.Image):
                    photo = value
        else:
            value = transform(pil)
    except Exception as error:  # the user's transform: say which image broke it
        raise ImageInputError(f"the transform failed on image {index}: {type(error).__name__}: {error}") from error
    if not isinstance(value, torch.Tensor) or value.ndim != 3:
        raise ImageInputError(
            f"the transform must turn a PIL image into a CxHxW float tensor; for image {index} it returned "
            f"{type(value).__name__}{tuple(value.shape) if isinstance(value, torch.Tensor) else ''}"
        )
    return PreparedImage(tensor=value.unsqueeze(0), photo=photo.convert("RGB"), name=_image_name(image, index))


def _image_name(image: ImageLike, index: int) -> str:
    if isinstance(image, (str, os.PathLike)):
        return Path(image).name
    filename = getattr(image, "filename", "")
    return Path(filename).name if filename else f"image {index}"


def encode_photo(photo: Image.Image) -> tuple[bytes, str]:
    """JPEG bytes (quality 90) and their MIME type: what the browser decodes once per image."""
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue(), "image/jpeg"
