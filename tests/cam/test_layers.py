"""Candidate layers: CNN maps, ViT token grids, Swin channels-last maps; names and order."""
from __future__ import annotations

import pytest
import torch
import torchvision
from cam_helpers import assert_no_hooks
from torchvision.models.vision_transformer import VisionTransformer

from nbviz.cam import CAMWarning, Explainer, candidate_layers, compute
from nbviz.cam.layouts import Layout, detect_layout


def test_resnet18_candidates_are_spatial_ordered_and_distinct():
    torch.manual_seed(0)
    net = torchvision.models.resnet18(weights=None)
    names = candidate_layers(net, torch.randn(1, 3, 64, 64))
    assert names[0] == "conv1" and names[-1] == "layer4"
    for excluded in ("fc", "avgpool", "layer4.1", "layer1.0.relu"):
        assert excluded not in names  # not spatial, same tensor as 'layer4', or a shared module
    order = [names.index(n) for n in ("layer1", "layer2", "layer3", "layer4")]
    assert order == sorted(order)
    assert "layer3.1.conv2" in names
    assert "relu" in names and "bn1" not in names  # bn1 feeds an in-place ReLU: one tensor, one name
    assert net.training
    assert_no_hooks(net)


def test_layout_detection():
    assert detect_layout((1, 64, 7, 7), (224, 224)) == Layout("nchw", 7, 7)
    assert detect_layout((1, 7, 7, 768), (224, 224)) == Layout("nhwc", 7, 7)
    assert detect_layout((1, 56, 56, 96), (224, 224)) == Layout("nhwc", 56, 56)
    assert detect_layout((1, 96, 56, 56), (224, 224)) == Layout("nchw", 56, 56)
    assert detect_layout((1, 197, 768), (224, 224)) == Layout("tokens", 14, 14, 1)
    assert detect_layout((1, 196, 768), (224, 224)) == Layout("tokens", 14, 14, 0)
    assert detect_layout((1, 198, 384), (224, 224)) == Layout("tokens", 14, 14, 2)
    assert detect_layout((1, 7, 10, 64), (224, 320)) == Layout("nhwc", 7, 10)
    assert detect_layout((1, 64, 7, 10), (224, 320)) == Layout("nchw", 7, 10)
    assert detect_layout((1, 512, 1, 1), (224, 224)) is None
    assert detect_layout((1, 1000), (224, 224)) is None
    # the token reshape puts token 1 + r*w + c at grid position (r, c)
    tokens = torch.arange(1 + 6, dtype=torch.float32).view(1, 7, 1).expand(1, 7, 2)
    grid = Layout("tokens", 2, 3, 1).to_spatial(tokens)
    assert grid.shape == (1, 2, 2, 3) and grid[0, 0].tolist() == [[1, 2, 3], [4, 5, 6]]


def test_vit_b_16_token_layers_reshape_to_14x14():
    torch.manual_seed(0)
    vit = torchvision.models.vit_b_16(weights=None).eval()
    names = candidate_layers(vit, torch.randn(1, 3, 224, 224))
    assert "conv_proj" in names and "encoder.layers.encoder_layer_11.ln_1" in names
    assert "encoder.layers.encoder_layer_0.mlp" in names
    assert_no_hooks(vit)


def _tiny_vit():
    torch.manual_seed(0)
    vit = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16,
                            mlp_dim=32, num_classes=5).eval()
    torch.nn.init.normal_(vit.heads.head.weight)  # torchvision zero-initialises the head
    return vit


def test_vit_default_layer_skips_class_token_only_layers_and_maps_are_not_blank():
    vit = _tiny_vit()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with Explainer(vit) as ex:
        # after the last attention only the class token reaches the head: patch gradients are zero
        assert ex.default_layer(x) == "encoder.layers.encoder_layer_1.ln_1"
        for method in ("gradcam", "layercam", "eigencam", "scorecam", "ablationcam"):
            maps = ex.explain(x, method, upsample=False)
            assert maps.shape == (2, 4, 4) and float(maps.max()) == 1.0
        with pytest.warns(CAMWarning, match="gradient of the target is zero everywhere at this layer"):
            blank = ex.explain(x, "gradcam", "encoder.ln", upsample=False)  # patch tokens after the last attention
        assert float(blank.abs().max()) == 0.0
    assert_no_hooks(vit)


def test_vit_gradcam_at_token_layer_matches_manual_reshape():
    vit = _tiny_vit()
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    layer = "encoder.layers.encoder_layer_1.ln_1"
    saved = {}
    handle = dict(vit.named_modules())[layer].register_forward_hook(lambda m, i, o: saved.update(t=o))
    out = vit(x)
    handle.remove()
    (g,) = torch.autograd.grad(out[0, 2], saved["t"])
    a = saved["t"][:, 1:].reshape(1, 4, 4, 16).permute(0, 3, 1, 2)
    g = g[:, 1:].reshape(1, 4, 4, 16).permute(0, 3, 1, 2)
    manual = (g.mean(dim=(2, 3))[:, :, None, None] * a).sum(1).clamp_min(0)
    manual = (manual - manual.min()) / (manual.max() - manual.min())
    got = compute(vit, x, method="gradcam", layer=layer, target=2, upsample=False)
    torch.testing.assert_close(got, manual.detach(), atol=1e-5, rtol=0)


def test_swin_t_stages_are_channels_last_maps():
    torch.manual_seed(0)
    swin = torchvision.models.swin_t(weights=None).eval()
    x = torch.randn(1, 3, 96, 96, generator=torch.Generator().manual_seed(0))
    with Explainer(swin) as ex:
        names = ex.layers(x)
        assert "features.1" in names and "permute" in names
        stage = ex._record.layers["features.7"] if "features.7" in ex._record.layers else None
        assert stage is not None and stage.layout.kind == "nhwc"
        maps = ex.explain(x, "gradcam", "features.5", upsample=False)
        assert maps.shape == (1, 6, 6) and float(maps.max()) == 1.0
    assert_no_hooks(swin)
