"""Contrastive and multi-class targets: y_a - y_b and sum_j y_j, for every method."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nbviz import cam
from nbviz.cam import CAMError, TargetError, class_sum, compute, contrast
from nbviz.cam.metrics import average_drop_increase

from cam_helpers import minmax


def test_contrast_is_a_hand_written_gradcam_of_the_logit_difference(lite0_chelsea):
    model, x = lite0_chelsea
    a, b = 285, 281  # Egyptian cat rather than tabby
    seen = {}
    handle = model.blocks[15].register_forward_hook(lambda module, inputs, output: seen.update(A=output))
    try:
        out = model(x.clone().requires_grad_(True))
    finally:
        handle.remove()
    (grad,) = torch.autograd.grad(out[0, a] - out[0, b], seen["A"])
    weights = grad.mean(dim=(2, 3))  # Grad-CAM: w_k = mean_ij d(y_a - y_b)/dA_kij
    raw = torch.einsum("bk,bkhw->bhw", weights, seen["A"].detach())
    expected = minmax(F.interpolate(raw.clamp_min(0)[:, None], size=(224, 224), mode="bilinear",
                                    align_corners=False)[:, 0])
    got = compute(model, x, method="gradcam", layer="blocks.15", target=contrast(a, b))
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    plain = compute(model, x, method="gradcam", layer="blocks.15", target=a)
    assert (got - plain).abs().max() > 0.1  # the contrast is not the map of class a alone


def _tiny() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 5, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(5, 4))


@pytest.mark.parametrize("method", list(cam.METHODS))
def test_every_method_explains_a_combination_as_the_same_score_given_as_a_callable(method):
    model, x = _tiny(), torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    for combination, score in ((contrast(2, 0), lambda out: out[:, 2] - out[:, 0]),
                               (class_sum(1, 3), lambda out: out[:, 1] + out[:, 3])):
        got = compute(model, x, method=method, layer="3", target=combination)
        if cam.method_spec(method).needs_head:
            # CAM weights the channels by the head's rows, combined the same way: W_a - W_b or W_a + W_b
            weight = model[6].weight.detach()
            rows = {"contrast": weight[2] - weight[0], "sum": weight[1] + weight[3]}
            row = rows["contrast" if combination.terms[1][1] < 0 else "sum"]
            with torch.no_grad():
                activation = F.relu(model[2](F.relu(model[0](x))))
            expected = minmax(torch.einsum("k,bkhw->bhw", row, activation))
        else:
            expected = compute(model, x, method=method, layer="3", target=score)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_bad_combinations_name_the_fix():
    with pytest.raises(TargetError, match="with itself"):
        contrast(3, 3)
    with pytest.raises(TargetError, match="at least one class"):
        class_sum()
    with pytest.raises(TargetError, match="repeats a class"):
        class_sum(1, 1)
    with pytest.raises(TargetError, match="must be a class index"):
        contrast(1.5, 2)
    model, x = _tiny(), torch.randn(1, 3, 8, 8)
    with pytest.raises(TargetError, match="class 9 of y\\[1\\] - y\\[9\\] is out of range"):
        compute(model, x, target=contrast(1, 9))
    with pytest.raises(TargetError, match="one class's softmax probability"):
        average_drop_increase(model, x, torch.rand(1, 8, 8), target=contrast(1, 2))
    with pytest.raises(TargetError, match="returned shape \\(1, 4\\)"):
        compute(model, x, target=lambda out: out)
    assert issubclass(TargetError, CAMError) and str(contrast(4, 1)) == "y[4] - y[1]"


# fused maps ---------------------------------------------------------------------------------------

def test_fusion_of_one_layer_is_that_layers_map_and_of_two_the_maximum():
    model, x = _tiny(), torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    with cam.Explainer(model) as explainer:
        for method in ("gradcam", "scorecam", "guided-gradcam"):
            assert torch.equal(explainer.explain(x, method, ["3"], 1), explainer.explain(x, method, "3", 1))
        first, second = (explainer.explain(x, "gradcam", name, 1) for name in ("1", "3"))
        torch.testing.assert_close(explainer.explain(x, "gradcam", ["3", "1", "3"], 1),
                                   minmax(torch.maximum(first, second)), atol=0, rtol=0)
        assert explainer.fusion_layers(x, [model[3], "1"]) == ["1", "3"]  # input to output, each once
        # guided backprop is computed at the input: there is nothing to fuse
        assert torch.equal(explainer.explain(x, "guided-backprop", "fuse", 1),
                           explainer.explain(x, "guided-backprop", None, 1))
        with pytest.raises(cam.LayerError, match="names no layer to fuse"):
            explainer.explain(x, "gradcam", [], 1)


def test_fusion_at_the_layers_resolution_upsamples_to_the_finest_grid():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(2, 2, 1),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 2))
    x = torch.randn(1, 1, 8, 8, generator=torch.Generator().manual_seed(4))
    with cam.Explainer(model) as explainer:
        fine = explainer.explain(x, "gradcam", "1", 0, upsample=False)  # 8 x 8
        coarse = explainer.explain(x, "gradcam", "3", 0, upsample=False)  # 4 x 4
        fused = explainer.explain(x, "gradcam", ["1", "3"], 0, upsample=False)
    up = F.interpolate(coarse[:, None], size=(8, 8), mode="bilinear", align_corners=False)[:, 0]
    torch.testing.assert_close(fused, minmax(torch.maximum(fine, up)), atol=1e-6, rtol=0)


def test_fuse_takes_the_last_layer_of_the_three_deepest_grids(lite0_chelsea):
    model, x = lite0_chelsea
    with cam.Explainer(model) as explainer:
        names = explainer.fusion_layers(x)
        shapes = []
        for name in names:
            seen = {}
            handle = dict(model.named_modules())[name].register_forward_hook(
                lambda module, inputs, output: seen.update(shape=tuple(output.shape[-2:])))
            with torch.no_grad():
                model(x)
            handle.remove()
            shapes.append(seen["shape"])
        assert shapes == [(28, 28), (14, 14), (7, 7)] and names[-1] == explainer.default_layer(x)


def test_class_index_finds_a_name_exactly_then_ignoring_case_and_explains_a_miss():
    labels = ["tabby", "Tabby", "tiger cat", "Egyptian cat", "lynx", "LYNX"]
    assert cam.class_index("tabby", labels) == 0 and cam.class_index("Tabby", labels) == 1  # exact wins
    assert cam.class_index("egyptian CAT", labels) == 3  # the one case-insensitive match
    with pytest.raises(TargetError) as several:
        cam.class_index("Lynx", labels)  # no exact match, two case-insensitive ones
    assert "matches 2 labels: 4 ('lynx'), 5 ('LYNX')" in str(several.value)
    with pytest.raises(TargetError) as unknown:
        cam.class_index("tigre cat", labels, listing="explorer.class_names")
    message = str(unknown.value)
    assert "no class is called 'tigre cat' among the 6 labels" in message
    assert "did you mean 'tiger cat' (2)" in message and "explorer.class_names lists them all" in message
    with pytest.raises(TargetError, match="no class is called 'zebra'.*; the labels you passed lists"):
        cam.class_index("zebra", labels)
    with pytest.raises(TargetError, match="a class name must be a string, got int"):
        cam.class_index(3, labels)


def test_a_class_name_as_target_of_the_engine_says_how_to_turn_it_into_an_index():
    model, x = _tiny(), torch.randn(1, 3, 8, 8)
    with pytest.raises(TargetError, match=r"got str \(a class name works where the labels are known.*class_index"):
        compute(model, x, method="gradcam", target="tabby")
