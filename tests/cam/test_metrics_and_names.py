"""Faithfulness metrics against hand computation, and the method-name table."""
from __future__ import annotations

import math

import pytest
import torch
from cam_helpers import assert_no_hooks
from torch import nn

from nbviz.cam import GRADIENT_METHODS, METHODS, SLOW_METHODS, MethodError, resolve_method
from nbviz.cam.metrics import average_drop_increase, deletion_insertion, gaussian_blur


class PixelLogit(nn.Module):
    """logits = [sum_ij v_ij x_ij, 0]: p(class 0) = sigmoid(v . x)."""

    def __init__(self, v):
        super().__init__()
        self.v = nn.Parameter(torch.tensor(v).view(1, 1, 2, 2))

    def forward(self, x):
        s = (x * self.v).sum(dim=(1, 2, 3))
        return torch.stack([s, torch.zeros_like(s)], dim=1)


def _sigmoid(t: float) -> float:
    return 1 / (1 + math.exp(-t))


def test_deletion_and_insertion_by_hand():
    model = PixelLogit([2.0, -1.0, 0.5, 3.0])
    x = torch.tensor([1.0, 2.0, -1.0, 1.0]).view(1, 1, 2, 2)
    saliency = torch.tensor([0.9, 0.1, 0.5, 1.0]).view(1, 2, 2)  # order: pixel 3, 0, 2, 1
    contrib = {0: 2.0, 1: -2.0, 2: -0.5, 3: 3.0}
    order = [3, 0, 2, 1]
    deletion = [_sigmoid(sum(contrib[p] for p in order[k:])) for k in range(5)]
    blur = gaussian_blur(x, 5.0).flatten().tolist()
    blur_contrib = {p: [2.0, -1.0, 0.5, 3.0][p] * blur[p] for p in range(4)}
    insertion = [_sigmoid(sum(contrib[p] for p in order[:k]) + sum(blur_contrib[p] for p in order[k:]))
                 for k in range(5)]
    got = deletion_insertion(model, x, saliency, target=0, steps=4, batch_size=3)
    torch.testing.assert_close(got["deletion_curve"][0], torch.tensor(deletion), atol=1e-6, rtol=0)
    torch.testing.assert_close(got["insertion_curve"][0], torch.tensor(insertion), atol=1e-6, rtol=0)
    trapezoid = lambda c: (sum(c) - (c[0] + c[-1]) / 2) / 4  # noqa: E731
    assert got["deletion"][0].item() == pytest.approx(trapezoid(deletion), abs=1e-6)
    assert got["insertion"][0].item() == pytest.approx(trapezoid(insertion), abs=1e-6)
    assert got["fractions"].tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    # the reversed ranking deletes the helpful pixels last: a worse (higher) deletion AUC
    worse = deletion_insertion(model, x, 1 - saliency, target=0, steps=4)
    assert worse["deletion"][0] > got["deletion"][0]
    assert_no_hooks(model)


def test_average_drop_and_increase_by_hand():
    model = PixelLogit([2.0, -1.0, 0.5, 3.0])
    x = torch.tensor([[1.0, 2.0, -1.0, 1.0], [0.5, -1.0, 1.0, 0.2]]).view(2, 1, 2, 2)
    saliency = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]]).view(2, 2, 2)
    y = [_sigmoid(2 - 2 - 0.5 + 3), _sigmoid(1 + 1 + 0.5 + 0.6)]
    o = [_sigmoid(2 + 3), _sigmoid(1 + 0.5)]
    drop = [100 * max(0.0, yi - oi) / yi for yi, oi in zip(y, o)]
    got = average_drop_increase(model, x, saliency, target=0)
    assert got["average_drop"] == pytest.approx(sum(drop) / 2, abs=1e-4)
    assert got["increase_in_confidence"] == pytest.approx(50.0)
    assert got["increase"].tolist() == [True, False]


def test_metrics_reject_mismatched_saliency():
    model = PixelLogit([1.0, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="upsample=True"):
        deletion_insertion(model, torch.zeros(1, 1, 2, 2), torch.zeros(1, 3, 3))


def test_method_names_and_aliases():
    assert len(METHODS) == 14 and len(set(METHODS)) == 14
    assert set(SLOW_METHODS) == {"scorecam", "sscam", "iscam", "ablationcam", "smoothgradcam++"}
    assert set(GRADIENT_METHODS) <= set(METHODS) and not set(GRADIENT_METHODS) & set(SLOW_METHODS)
    for alias, canonical in [("GradCAMPlusPlus", "gradcam++"), ("Grad-CAM++", "gradcam++"), ("GRADCAM", "gradcam"),
                             ("ScoreCAM", "scorecam"), ("SmoothGradCAMpp", "smoothgradcam++"),
                             ("ablation_cam", "ablationcam"), ("XGradCAM", "xgradcam"), ("LayerCAM", "layercam"),
                             ("HiResCAM", "hirescam"), ("EigenCAM", "eigencam"), ("SSCAM", "sscam"),
                             ("ISCAM", "iscam"), ("GuidedBackprop", "guided-backprop"),
                             ("guided_gradcam", "guided-gradcam"), ("CAM", "cam")]:
        assert resolve_method(alias) == canonical
    for name in METHODS:
        assert resolve_method(name) == name
    with pytest.raises(MethodError, match="gradcam"):
        resolve_method("gradcamz")
