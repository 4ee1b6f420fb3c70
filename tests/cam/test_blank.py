"""A blank map says why (issue 16, item 4): zero gradient, every weight negative, zero weights or
activations, a constant map; as a CAMWarning from Python and as CAMResult.blank for the widget."""
from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from nbviz import cam
from nbviz.cam import blank


def _small_vit() -> nn.Module:
    """torchvision's VisionTransformer, small enough for a test; its head is zero-initialised like vit_b_16's."""
    from torchvision.models.vision_transformer import VisionTransformer

    torch.manual_seed(0)
    return VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32,
                             num_classes=5).eval()


def _conv_gap_linear(head_weight: torch.Tensor, conv_weight: float | None = None, conv_bias: float | None = None):
    """conv(3 -> 4) -> ReLU -> global average pool -> linear(4 -> 2) with the given head weight (2, 4)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    with torch.no_grad():
        model[4].weight.copy_(head_weight)
        model[4].bias.zero_()
        if conv_weight is not None:
            model[0].weight.fill_(conv_weight)
        if conv_bias is not None:
            model[0].bias.fill_(conv_bias)
    return model.eval()


X = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(3))


def test_torchvision_vit_b_16_without_weights_gets_a_blank_grad_cam_that_says_why():
    """The issue's case itself (about 20 s on 2 CPU cores: one forward and two backward passes of ViT-B/16)."""
    from torchvision.models import vit_b_16

    torch.manual_seed(0)
    model = vit_b_16(weights=None).eval()
    assert not model.heads.head.weight.any() and not model.heads.head.bias.any()  # zero-initialised head
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with pytest.warns(cam.CAMWarning, match="the Grad-CAM map is blank: the gradient of the target is zero everywhere"):
        maps = cam.compute(model, x, "gradcam")
    assert maps.shape == (1, 224, 224) and not maps.any()


def test_a_small_vit_gets_the_reason_from_every_gradient_method():
    model = _small_vit()
    assert not model.heads.head.weight.any() and not model.heads.head.bias.any()
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with cam.Explainer(model) as explainer:
        for method in ("gradcam", "gradcam++", "layercam", "hirescam", "xgradcam"):
            result = explainer.result(x, method)
            assert not result.maps.any()
            assert result.blank == (blank.ZERO_GRADIENT,)
        assert explainer.result(x, "guided-backprop").blank == (blank.ZERO_INPUT_GRADIENT,)
        with pytest.warns(cam.CAMWarning, match="the Grad-CAM map is blank: the gradient of the target is zero") as seen:
            explainer.explain(x, "gradcam")
    assert seen[0].filename == __file__  # the warning points at the user's call
    with pytest.warns(cam.CAMWarning) as seen:
        cam.compute(model, x, "gradcam")
    assert seen[0].filename == __file__


def test_every_grad_cam_weight_negative_is_told_and_the_other_class_is_not_blank():
    # d y_0 / d A_k = W_0k / (h w) < 0 for every channel k, and A = relu(...) >= 0, so the map
    # sum_k w_k A_k is <= 0 everywhere and < 0 where any channel is active.
    model = _conv_gap_linear(torch.tensor([[-1.0, -0.5, -2.0, -0.1], [1.0, 0.5, 2.0, 0.1]]))
    with cam.Explainer(model) as explainer:
        result = explainer.result(X, "gradcam", "1", 0)
        assert not result.maps.any()
        assert result.blank == (blank.NEGATIVE.format(detail=blank.GRADCAM_WEIGHTS),)
        assert "every channel weight is negative" in result.blank[0] and "try another class or layer" in result.blank[0]
        # HiResCAM's map sum_k G_k A_k is negative too, but it has no channel weights to blame
        assert explainer.result(X, "hirescam", "1", 0).blank == (blank.NEGATIVE.format(detail=""),)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a map that is not blank warns nothing
            assert explainer.explain(X, "gradcam", "1", 1).amax() == 1.0
        assert explainer.result(X, "gradcam", "1", 1).blank == (None,)


def test_zero_score_weighted_maps_and_constant_maps_say_why():
    zero_head = _conv_gap_linear(torch.zeros(2, 4))
    with cam.Explainer(zero_head) as explainer:
        # y = 0 whatever the channels: every ablation weight (y - y_k) / y is taken as y - y_k = 0
        assert explainer.result(X, "ablationcam", "1", 0).blank == (blank.ZERO_MAP["ablation"],)
        assert explainer.result(X, "cam", "1", 0).blank == (blank.ZERO_MAP["activation"],)
    dead = _conv_gap_linear(torch.ones(2, 4), conv_weight=0.0, conv_bias=-1.0)  # relu(-1) = 0 everywhere
    with cam.Explainer(dead) as explainer:
        assert explainer.result(X, "scorecam", "1", 0).blank == (blank.ZERO_MAP["score"],)
    flat = _conv_gap_linear(torch.ones(2, 4), conv_weight=0.0, conv_bias=0.5)  # A = 0.5 everywhere
    with cam.Explainer(flat) as explainer:
        assert explainer.result(X, "gradcam", "1", 0).blank == (blank.CONSTANT,)


def test_a_batch_tells_each_image_and_fused_maps_are_blank_only_where_every_layer_is():
    model = _conv_gap_linear(torch.tensor([[-1.0, -0.5, -2.0, -0.1], [1.0, 0.5, 2.0, 0.1]]))
    batch = torch.cat([X, X.flip(-1)])
    with cam.Explainer(model) as explainer:
        result = explainer.result(batch, "gradcam", "1", [0, 1])
        assert result.blank[0] is not None and result.blank[1] is None
        with pytest.warns(cam.CAMWarning, match="the Grad-CAM map of image 0 is blank"):
            explainer.explain(batch, "gradcam", "1", [0, 1])
        assert explainer.result(X, "gradcam", "0", 0).blank == (None,)  # the conv output before the ReLU
        assert explainer.result(X, "gradcam", ["0", "1"], 0).blank == (None,)  # so the fusion is not blank
    with cam.Explainer(_conv_gap_linear(torch.zeros(2, 4))) as explainer:
        fused = explainer.result(X, "gradcam", ["0", "1"], 0)
        assert not fused.maps.any()
        assert fused.blank == (f"at 0: {blank.ZERO_GRADIENT}; at 1: {blank.ZERO_GRADIENT}",)
