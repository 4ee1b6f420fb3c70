"""Parity with pytorch-grad-cam (gradcam, xgradcam, layercam, hirescam, scorecam, ablationcam) and
torchcam (cam) on torchvision resnet18, densenet121, mobilenet_v3_small with seeded random weights,
and on the pretrained EfficientNet-Lite0 from nbviz.data.

Conventions that differ (and how the comparison accounts for them):
* pytorch-grad-cam min-max normalises at the layer's resolution and again after cv2.resize; ours
  normalises once after the resize.  Resizing is linear, so renormalising its output gives ours.
* Score-CAM: pytorch-grad-cam upsamples the masks with align_corners=True (UpsamplingBilinear2d)
  and adds 1e-8 to the mask's range; we use half-pixel centres (align_corners=False), as for the
  maps.  The masks differ slightly, hence Pearson r >= 0.99 rather than equality.
* Ablation-CAM: pytorch-grad-cam zeroes a channel only when the layer's minimum is 0 and uses
  ``min - 1e7`` otherwise; we always zero (the paper).  We compare at post-ReLU layers (min 0),
  where both ablate to zero.  Weights are otherwise the same, so the maps are compared by Pearson r.
* densenet121's ``features`` output is changed in place by the F.relu in densenet's forward;
  pytorch-grad-cam then pairs post-ReLU activations with pre-ReLU gradients.  We use the final
  (post-ReLU) tensor for both, so gradient parity is checked at layers without in-place ops after them.
"""
from __future__ import annotations

import pytest
import torch
import torchvision
from cam_helpers import minmax, pearson
from pytorch_grad_cam import AblationCAM, GradCAM, HiResCAM, LayerCAM, ScoreCAM, XGradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torchcam.methods import CAM as TorchcamCAM

from nbviz.cam import Explainer

GRADIENT_REFERENCES = {"gradcam": GradCAM, "xgradcam": XGradCAM, "layercam": LayerCAM, "hirescam": HiResCAM}


def _seeded(builder, **kw):
    torch.manual_seed(0)
    return builder(weights=None, **kw).eval()


def _random_image(size: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(1)
    return torch.randn(1, 3, size, size, generator=gen)


@pytest.fixture(scope="module")
def resnet18():
    return _seeded(torchvision.models.resnet18), _random_image(64)


@pytest.fixture(scope="module")
def densenet121():
    return _seeded(torchvision.models.densenet121), _random_image(64)


def _calibrate_batchnorm(model: torch.nn.Module, size: int) -> torch.nn.Module:
    """Set BatchNorm statistics from three seeded random batches.

    A freshly initialised mobilenet_v3_small shrinks activations to ~1e-7 by its last block, where
    pytorch-grad-cam's epsilons (1e-7) dominate its maps; calibrated statistics keep them O(1).
    """
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None
            module.reset_running_stats()
    model.train()
    with torch.no_grad():
        for seed in range(3):
            model(torch.randn(8, 3, size, size, generator=torch.Generator().manual_seed(10 + seed)))
    return model.eval()


@pytest.fixture(scope="module")
def mobilenet():
    return _calibrate_batchnorm(_seeded(torchvision.models.mobilenet_v3_small), 96), _random_image(96)


@pytest.fixture(scope="module")
def lite0():
    from nbviz.data import load_pretrained, sample_image

    model, transform, _ = load_pretrained()
    return model.eval(), transform(sample_image("chelsea"))[None]


# model fixture, layers for gradient methods, a post-ReLU layer for score/ablation, cam layer + fc
CASES = {
    "resnet18": ("resnet18", ["layer4", "layer3"], "layer1", ("layer4", "fc")),
    "densenet121": ("densenet121", ["features.denseblock4", "features.transition2"], "features.pool0",
                    ("features", "classifier")),
    "mobilenet_v3_small": ("mobilenet", ["features.12", "features.6"], "features.1.block.0", None),
    "efficientnet_lite0": ("lite0", ["head", "blocks.10"], "stem", ("head", "classifier")),
}


def _module(model, name):
    return dict(model.named_modules())[name]


def _theirs(cls, model, layer, x, cls_idx, **kw):
    with cls(model=model, target_layers=[_module(model, layer)], **kw) as cam:
        out = cam(input_tensor=x, targets=[ClassifierOutputTarget(cls_idx)])
    return minmax(torch.from_numpy(out))  # renormalise after their resize (see module docstring)


def _predicted(model, x) -> int:
    with torch.no_grad():
        return int(model(x).argmax())


@pytest.mark.parametrize("case", list(CASES))
def test_gradient_methods_match_pytorch_grad_cam(case, request):
    fixture, layers, _, _ = CASES[case]
    model, x = request.getfixturevalue(fixture)
    cls_idx = _predicted(model, x)
    with Explainer(model) as ex:
        for layer in layers:
            for method, reference in GRADIENT_REFERENCES.items():
                ours = ex.explain(x, method, layer, cls_idx)
                theirs = _theirs(reference, model, layer, x, cls_idx)
                diff = float((ours - theirs).abs().max())
                assert diff <= 1e-3, f"{case} {method} at {layer}: max abs diff {diff}"
        assert ex.forward_count == 1  # every layer and method came from one recorded forward pass


@pytest.mark.parametrize("case", list(CASES))
def test_scorecam_and_ablationcam_correlate_with_pytorch_grad_cam(case, request):
    fixture, _, layer, _ = CASES[case]
    model, x = request.getfixturevalue(fixture)
    cls_idx = _predicted(model, x)
    with Explainer(model) as ex:
        ex.layers(x)
        acts_min = float(ex._record.layers[layer].raw.detach().min())
        assert acts_min == 0.0, "the comparison layer must be post-ReLU (see module docstring)"
        ours_score = ex.explain(x, "scorecam", layer, cls_idx, batch_size=64)
        ours_ablation = ex.explain(x, "ablationcam", layer, cls_idx)
    theirs_score = _theirs(ScoreCAM, model, layer, x, cls_idx)
    theirs_ablation = _theirs(AblationCAM, model, layer, x, cls_idx, batch_size=64)
    r_score, r_ablation = pearson(ours_score, theirs_score), pearson(ours_ablation, theirs_ablation)
    assert r_score >= 0.99, f"{case} scorecam at {layer}: r = {r_score:.4f}"
    assert r_ablation >= 0.99, f"{case} ablationcam at {layer}: r = {r_ablation:.4f}"


@pytest.mark.parametrize("case", [c for c in CASES if CASES[c][3] is not None])
def test_cam_matches_torchcam(case, request):
    fixture, _, _, (layer, fc) = CASES[case]
    model, x = request.getfixturevalue(fixture)
    cls_idx = _predicted(model, x)
    with Explainer(model) as ex:
        ours = ex.explain(x, "cam", layer, cls_idx, upsample=False)
    with TorchcamCAM(model, target_layer=layer, fc_layer=fc, input_shape=tuple(x.shape[1:])) as extractor:
        scores = model(x)
        theirs = extractor(class_idx=cls_idx, scores=scores, normalized=False)[0]
    diff = float((ours - minmax(theirs.detach())).abs().max())
    assert diff <= 1e-4, f"{case} cam at {layer}: max abs diff {diff}"
