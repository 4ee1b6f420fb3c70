"""Model hygiene: hooks removed, modes and flags restored, odd models and contexts handled."""
from __future__ import annotations

import threading

import pytest
import torch
import torchvision
from cam_helpers import assert_no_hooks
from torch import nn

from nbviz.cam import (
    GRADIENT_METHODS,
    METHODS,
    Cancelled,
    CAMError,
    Explainer,
    InputError,
    LayerError,
    MethodError,
    TargetError,
    compute,
)

FAST = [m for m in METHODS if m not in ("sscam", "iscam", "smoothgradcam++")]


class SmallNet(nn.Module):
    def __init__(self, out: str = "tensor"):
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
                                      nn.Conv2d(8, 6, 3, stride=2, padding=1), nn.ReLU(inplace=True))
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(6, 5)
        self.out = out

    def forward(self, x):
        logits = self.fc(self.drop(self.features(x).mean(dim=(2, 3))))
        if self.out == "tuple":
            return logits, logits.sum()
        if self.out == "dict":
            return {"logits": logits}
        return logits


@pytest.fixture
def x():
    return torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("method", FAST)
def test_every_method_leaves_model_untouched(method, x):
    net = SmallNet()
    net.train()
    net.features[1].eval()  # a mixed state must come back exactly
    frozen = net.features[0].weight
    frozen.requires_grad_(False)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    maps = compute(net, x, method=method, target=[1, 3])
    assert maps.shape == (2, 16, 16) and maps.dtype == torch.float32
    assert torch.isfinite(maps).all() and 0 <= float(maps.min()) and float(maps.max()) <= 1
    assert net.training and not net.features[1].training and net.fc.training
    assert not frozen.requires_grad and net.fc.weight.requires_grad
    assert all(p.grad is None for p in net.parameters())
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), f"{k} changed"  # eval mode: BN statistics untouched
    assert_no_hooks(net)


def test_no_grad_inference_mode_and_fully_frozen_model(x):
    net = SmallNet().requires_grad_(False)
    expected = compute(SmallNet(), x, method="gradcam", target=2)
    expected_pp = compute(SmallNet(), x, method="gradcam++", target=2)
    with torch.no_grad():
        torch.testing.assert_close(compute(net, x, method="gradcam", target=2), expected)
    with torch.inference_mode():
        inference_x = x.clone()  # an inference tensor
        torch.testing.assert_close(compute(net, inference_x, method="gradcam++", target=2), expected_pp)
    assert not any(p.requires_grad for p in net.parameters())
    assert_no_hooks(net)


def test_densenet_inplace_relu_works_and_hooks_are_removed():
    torch.manual_seed(0)
    net = torchvision.models.densenet121(weights=None)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with Explainer(net) as ex:
        assert ex.default_layer(x) == "features"  # norm5, whose output densenet's F.relu changes in place
        for method in ("gradcam", "gradcam++", "layercam", "guided-backprop", "cam"):
            maps = ex.explain(x, method)
            assert torch.isfinite(maps).all() and float(maps.max()) == 1.0
    assert net.training  # restored: torchvision models are built in training mode
    assert_no_hooks(net)


@pytest.mark.parametrize("out", ["tuple", "dict"])
def test_tuple_and_dict_outputs_need_and_accept_a_callable(out, x):
    net = SmallNet(out)
    plain = compute(SmallNet(), x, method="gradcam", target=4)

    def pick(output):
        return (output[0] if out == "tuple" else output["logits"])[:, 4]

    torch.testing.assert_close(compute(net, x, method="gradcam", target=pick), plain)
    torch.testing.assert_close(compute(net, x, method="scorecam", target=pick),
                               compute(SmallNet(), x, method="scorecam", target=4))
    with pytest.raises(TargetError, match="callable"):
        compute(net, x, method="gradcam", target=4)
    assert_no_hooks(net)


def test_bad_inputs_raise_clear_errors_and_leave_nothing_behind(x):
    net = SmallNet()
    net.train()
    cases = [
        (lambda: compute(net, x[0]), InputError, "unsqueeze"),
        (lambda: compute(net, x.to(torch.int64)), InputError, "floating"),
        (lambda: compute(net, x.double()), InputError, "dtype"),
        (lambda: compute(net, x[:, :1]), InputError, "channels"),
        (lambda: compute(net, x.numpy()), InputError, "torch.Tensor"),
        (lambda: compute(net, x * float("nan")), InputError, "NaN"),
        (lambda: compute(net, x, layer="feature.3"), LayerError, "did you mean 'features.3'"),
        (lambda: compute(net, x, layer="fc"), LayerError, "not a spatial map"),
        (lambda: compute(net, x, layer=nn.Conv2d(1, 1, 1)), LayerError, "not a submodule"),
        (lambda: compute(net, x, target=5), TargetError, "out of range"),
        (lambda: compute(net, x, target=[1, 2, 3]), TargetError, "one class per sample"),
        (lambda: compute(net, x, target=lambda out: out[:, 0].sum().detach()), TargetError, "shape"),
        (lambda: compute(net, x, method="gradcamm"), MethodError, "unknown CAM method"),
        (lambda: compute(net, x, method="scorecam", batch_size=0), MethodError, "positive integer"),
        (lambda: compute(net, x, method="gradcam", n_samples=3), MethodError, "does not take"),
        (lambda: compute(net, x, method="cam", layer="features.0"), MethodError, "gradcam"),
    ]
    for call, error, text in cases:
        with pytest.raises(error, match=text) as info:
            call()
        assert isinstance(info.value, CAMError) and isinstance(info.value, ValueError)
        assert_no_hooks(net)
        assert net.training and all(m.training for m in net.modules())


def test_shared_module_is_ambiguous():
    relu = nn.ReLU()
    net = nn.Sequential(nn.Conv2d(3, 4, 3), relu, nn.Conv2d(4, 4, 3), relu, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Linear(4, 3))
    with pytest.raises(LayerError, match="called 2 times"):
        compute(net, torch.randn(1, 3, 12, 12), layer="1")
    assert_no_hooks(net)


def test_model_without_spatial_layer_and_cam_without_gap_linear_head():
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(12, 4))
    with pytest.raises(LayerError, match="no layer with a spatial output"):
        compute(mlp, torch.randn(1, 3, 2, 2))
    assert_no_hooks(mlp)
    torch.manual_seed(0)
    mobilenet = torchvision.models.mobilenet_v3_small(weights=None).eval()
    with pytest.raises(MethodError) as info:
        compute(mobilenet, torch.randn(1, 3, 32, 32), method="cam")
    for alternative in ("gradcam", "scorecam", "ablationcam", "eigencam"):
        assert alternative in str(info.value)
    assert_no_hooks(mobilenet)


@pytest.mark.parametrize("method", ["scorecam", "sscam", "iscam", "ablationcam", "smoothgradcam++"])
def test_slow_methods_report_progress_and_cancel_cleanly(method, x):
    net = SmallNet()
    seen = []
    with Explainer(net) as ex:
        ex.explain(x, method, target=1, progress=lambda d, t: seen.append((d, t)), batch_size=2)
        assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] > 1
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)
        flag = threading.Event()

        def cancel_after_first(done, total):
            if done >= 1:
                flag.set()

        with pytest.raises(Cancelled):
            ex.explain(x, method, target=2, progress=cancel_after_first, cancel=flag, batch_size=2)
        assert_no_hooks(net)
        flag.clear()
        # nothing half-done was cached: the same request now completes and equals a fresh one
        again = ex.explain(x, method, target=2, batch_size=2)
    torch.testing.assert_close(again, compute(SmallNet(), x, method=method, target=2, batch_size=2))
    assert_no_hooks(net)


def test_methods_stay_on_the_model_device(x):
    net = SmallNet()
    for method in ("gradcam", "scorecam", "eigencam"):
        assert compute(net, x, method=method).device == next(net.parameters()).device


def test_gradient_methods_group_needs_no_extra_forward(x):
    net = SmallNet()
    with Explainer(net) as ex:
        for method in GRADIENT_METHODS:
            ex.explain(x, method, target=0)
        assert ex.forward_count == 1
