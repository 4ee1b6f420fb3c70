"""Faithfulness metrics of saliency maps: deletion / insertion AUC (RISE), ROAD (remove and debias)
and Average Drop / Increase.

All run the model under ``torch.inference_mode`` in eval mode (training flags restored after) and
score the target class by its softmax probability.
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .errors import InputError, TargetError
from .hygiene import model_session
from .imputation import impute
from .inputs import validate_input
from .recorder import run_model
from .targets import Target, TargetLike, resolve_target


def _probabilities(model: nn.Module, batch: torch.Tensor) -> torch.Tensor:
    out = run_model(model, batch)
    if not isinstance(out, torch.Tensor) or out.dim() != 2:
        raise InputError("metrics need a model that returns (batch, classes) logits; "
                         f"this one returns {type(out).__name__}")
    return torch.softmax(out.float(), dim=1)


def _class_target(target: TargetLike, probs: torch.Tensor, batch: int, device: torch.device) -> Target:
    """The resolved target, which must name one class per image (metrics score its softmax probability)."""
    tgt = resolve_target(target, probs, batch, device)
    if tgt.classes is None:
        raise TargetError("faithfulness metrics score one class's softmax probability per image, so target must be "
                          "a class index, a list of them or None (contrast, class_sum and callables have no "
                          "probability); pass the class the map explains, e.g. target=285")
    return tgt


def _check_saliency(x: torch.Tensor, saliency: Any) -> torch.Tensor:
    if not isinstance(saliency, torch.Tensor):
        raise InputError(f"saliency must be a torch.Tensor of shape (B, H, W), got {type(saliency).__name__}")
    if saliency.dim() == 2:
        saliency = saliency[None]
    expected = (x.shape[0], x.shape[2], x.shape[3])
    if tuple(saliency.shape) != expected:
        raise InputError(f"saliency has shape {tuple(saliency.shape)} but x needs {expected}; compute the "
                         "map with upsample=True so it has the input's size")
    return saliency.detach().to(x.device, torch.float32)


def gaussian_blur(x: torch.Tensor, sigma: float = 5.0) -> torch.Tensor:
    """Separable Gaussian blur with reflect padding: ``k(t) ~ exp(-t^2 / (2 sigma^2))`` for ``|t| <= 3 sigma``."""
    radius = max(1, int(math.ceil(3 * sigma)))
    radius = min(radius, x.shape[-1] - 1, x.shape[-2] - 1) if min(x.shape[-2:]) > 1 else 0
    if radius == 0:
        return x.clone()
    t = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-t * t / (2 * sigma * sigma))
    kernel = kernel / kernel.sum()
    channels = x.shape[1]
    padded = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    horizontal = F.conv2d(padded, kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)
    return F.conv2d(horizontal, kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)


def _auc(curve: torch.Tensor) -> torch.Tensor:
    """Trapezoidal area under curves sampled at fractions 0, 1/n, ..., 1: ``(sum p - (p_0 + p_n)/2) / n``."""
    n = curve.shape[-1] - 1
    return (curve.sum(dim=-1) - (curve[..., 0] + curve[..., -1]) / 2) / n


def deletion_insertion(model: nn.Module, x: torch.Tensor, saliency: torch.Tensor, target: TargetLike = None,
                       steps: int = 32, *, batch_size: int = 16, blur_sigma: float = 5.0,
                       deletion_baseline: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Deletion and insertion curves and AUCs (Petsiuk et al., RISE).

    Pixels are ranked by decreasing saliency (ties in raster order).  At step ``s`` of ``steps``
    the first ``ceil(s * H * W / steps)`` ranked pixels are replaced by the deletion baseline
    (zeros by default) for the deletion curve, or copied from ``x`` onto a blurred copy of ``x``
    (Gaussian, ``blur_sigma`` pixels) for the insertion curve.  Each curve holds the target's
    softmax probability at the ``steps + 1`` fractions 0, 1/steps, ..., 1; the AUC is the trapezoidal
    area over [0, 1].  A faithful map has a low deletion and a high insertion AUC.

    Returns ``deletion`` and ``insertion`` (B,), ``deletion_curve`` and ``insertion_curve``
    (B, steps + 1) and ``fractions`` (steps + 1,).
    """
    if not isinstance(steps, int) or steps < 1:
        raise InputError(f"steps must be a positive integer, got {steps!r}")
    x = validate_input(model, x)
    saliency = _check_saliency(x, saliency)
    batch, _, h, w = x.shape
    pixels = h * w
    counts = [math.ceil(s * pixels / steps) for s in range(steps + 1)]
    with model_session(model), torch.inference_mode():
        probs = _probabilities(model, x)
        tgt = _class_target(target, probs, batch, x.device)
        classes = tgt.classes
        base = torch.zeros_like(x) if deletion_baseline is None else deletion_baseline.to(x).expand_as(x)
        blurred = gaussian_blur(x, blur_sigma)
        curves = {"deletion": torch.zeros(batch, steps + 1), "insertion": torch.zeros(batch, steps + 1)}
        for b in range(batch):
            order = torch.argsort(saliency[b].flatten(), descending=True, stable=True)
            rank = torch.empty_like(order)
            rank[order] = torch.arange(pixels, device=x.device)
            rank = rank.view(1, 1, h, w)
            for name, start, finish in (("deletion", x[b], base[b]), ("insertion", blurred[b], x[b])):
                for first in range(0, steps + 1, batch_size):
                    chunk = torch.tensor(counts[first:first + batch_size], device=x.device).view(-1, 1, 1, 1)
                    changed = rank < chunk  # (n, 1, H, W): pixels already switched at each step
                    images = torch.where(changed, finish, start)
                    p = _probabilities(model, images)[:, int(classes[b])]
                    curves[name][b, first:first + len(chunk)] = p.float().cpu()
    fractions = torch.tensor(counts, dtype=torch.float32) / pixels
    return {"deletion": _auc(curves["deletion"]), "insertion": _auc(curves["insertion"]),
            "deletion_curve": curves["deletion"], "insertion_curve": curves["insertion"],
            "fractions": fractions}


def road(model: nn.Module, x: torch.Tensor, saliency: torch.Tensor, target: TargetLike = None,
         fractions: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9), *, noise: float = 0.01,
         seed: int = 0) -> dict[str, torch.Tensor]:
    """ROAD, Remove And Debias (Rong et al. 2022): the target's softmax probability after the most
    (MoRF) or least (LeRF) salient ``round(f * H * W)`` pixels are removed and filled by noisy linear
    imputation (``nbviz.cam.imputation.impute``, Gaussian noise ``noise``, seeded by ``seed``),
    for each fraction ``f`` in ``fractions`` (0 < f < 1).  Unlike plain deletion the filled pixels
    carry no trace of the mask's shape.  Pixels are ranked by decreasing saliency, ties in raster order.
    A faithful map gives a low ``morf`` and a high ``lerf`` (the mean probability over the fractions).

    Returns ``morf`` and ``lerf`` (B,), ``morf_curve`` and ``lerf_curve`` (B, len(fractions)) and
    ``fractions``.
    """
    if not fractions or not all(isinstance(f, (int, float)) and 0 < f < 1 for f in fractions):
        raise InputError(f"ROAD fractions must be numbers strictly between 0 and 1, got {fractions!r}")
    x = validate_input(model, x)
    saliency = _check_saliency(x, saliency)
    batch, _, h, w = x.shape
    generator = torch.Generator().manual_seed(seed)
    curves = {"morf": torch.zeros(batch, len(fractions)), "lerf": torch.zeros(batch, len(fractions))}
    with model_session(model), torch.inference_mode():
        tgt = _class_target(target, _probabilities(model, x), batch, x.device)
        for b in range(batch):
            order = torch.argsort(saliency[b].flatten(), descending=True, stable=True)
            images = {"morf": [], "lerf": []}
            for f in fractions:
                count = round(f * h * w)
                for name, chosen in (("morf", order[:count]), ("lerf", order.flip(0)[:count])):
                    removed = torch.zeros(h * w, dtype=torch.bool, device=x.device)
                    removed[chosen] = True
                    images[name].append(impute(x[b], removed.view(h, w), noise, generator))
            for name, stack in images.items():
                curves[name][b] = _probabilities(model, torch.stack(stack))[:, int(tgt.classes[b])].float().cpu()
    return {"morf": curves["morf"].mean(dim=1), "lerf": curves["lerf"].mean(dim=1), "morf_curve": curves["morf"],
            "lerf_curve": curves["lerf"], "fractions": torch.tensor(fractions, dtype=torch.float32)}


def average_drop_increase(model: nn.Module, x: torch.Tensor, saliency: torch.Tensor,
                          target: TargetLike = None) -> dict[str, Any]:
    """Average Drop and Increase in Confidence (Chattopadhay et al., Grad-CAM++), in percent.

    With ``Y_i`` the target probability for image i and ``O_i`` that for the explanation map
    ``x_i * S_i`` (saliency in [0, 1]): ``Average Drop = 100/N sum_i max(0, Y_i - O_i) / Y_i`` and
    ``Increase in Confidence = 100/N sum_i [Y_i < O_i]``.  Returns both and the per-image
    ``drop`` (%) and ``increase`` (bool) tensors.
    """
    x = validate_input(model, x)
    saliency = _check_saliency(x, saliency)
    with model_session(model), torch.inference_mode():
        probs = _probabilities(model, x)
        tgt = _class_target(target, probs, x.shape[0], x.device)
        rows = torch.arange(x.shape[0], device=x.device)
        y = probs[rows, tgt.classes]
        o = _probabilities(model, x * saliency[:, None].to(x.dtype))[rows, tgt.classes]
    drop = 100 * (y - o).clamp_min(0) / y
    increase = y < o
    return {"average_drop": float(drop.mean()), "increase_in_confidence": float(100 * increase.float().mean()),
            "drop": drop.cpu(), "increase": increase.cpu()}
