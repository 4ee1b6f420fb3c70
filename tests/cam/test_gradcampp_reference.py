"""Grad-CAM++ against a float64 evaluation of Eq. 19, at shallow and deep layers.

Neither pytorch-grad-cam (adds eps = 1e-6 to the denominator) nor torchcam (drops the alpha
denominator) is a valid reference, so the reference here is the formula itself.
"""
from __future__ import annotations

import pytest
import torch
import torchvision
from cam_helpers import minmax

from nbviz.cam import Explainer


def _eq19_float64(model, x, layer, cls_idx):
    """Literal Eq. 19 on float64 activations and gradients of a float64 copy of the model."""
    model64 = model.double()
    acts = {}
    handle = dict(model64.named_modules())[layer].register_forward_hook(lambda m, i, o: acts.update(a=o))
    try:
        out = model64(x.double())
    finally:
        handle.remove()
    a = acts["a"]
    (g,) = torch.autograd.grad(out[0, cls_idx], a)
    a, g = a.detach(), g.detach()
    s = a.sum(dim=(2, 3), keepdim=True)
    denominator = 2 * g ** 2 + s * g ** 3
    alpha = torch.where(g != 0, g ** 2 / torch.where(denominator != 0, denominator, 1.0), 0.0)
    weights = (g.clamp_min(0) * alpha).sum(dim=(2, 3))
    return minmax((weights[:, :, None, None] * a).sum(1)), g


@pytest.fixture(scope="module")
def lite0_pair():
    from nbviz.data import load_pretrained, sample_image

    model, transform, _ = load_pretrained()
    return model.eval(), transform(sample_image("chelsea"))[None]


@pytest.mark.parametrize("layer", ["stem", "blocks.5", "head"])
def test_pretrained_lite0_matches_float64_eq19(lite0_pair, layer):
    model, x = lite0_pair
    with torch.no_grad():
        cls_idx = int(model(x).argmax())
    with Explainer(model) as ex:
        ours32 = ex.explain(x, "gradcam++", layer, cls_idx, upsample=False)
    import copy

    model64 = copy.deepcopy(model)
    reference, g = _eq19_float64(model64, x, layer, cls_idx)
    # the float64 engine must reproduce the formula to rounding error ...
    with Explainer(model64) as ex64:
        ours64 = ex64.explain(x.double(), "gradcam++", layer, cls_idx, upsample=False)
    torch.testing.assert_close(ours64, reference.float(), atol=1e-6, rtol=0)
    # ... and the float32 engine to within float32 error of the network itself
    diff = float((ours32 - reference.float()).abs().max())
    assert diff <= 2e-3, f"float32 Grad-CAM++ at {layer} differs from float64 Eq. 19 by {diff}"
    if layer == "head":
        # deep inside a pretrained net the gradients are tiny: an eps of 1e-6 would swamp 2 g^2
        assert float(g.abs().max()) < 1e-2


def test_resnet18_random_weights_shallow_and_deep():
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    import copy

    for layer in ("layer1.0.conv1", "layer4"):
        reference, _ = _eq19_float64(copy.deepcopy(model), x, layer, 7)
        with Explainer(copy.deepcopy(model).double()) as ex:
            ours = ex.explain(x.double(), "gradcam++", layer, 7, upsample=False)
        torch.testing.assert_close(ours, reference.float(), atol=1e-6, rtol=0)
