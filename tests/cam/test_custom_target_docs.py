"""The documented segmentation example (docs/custom_targets.md) runs as written, and its callable
target gives the Grad-CAM of the summed region logit, computed here by hand."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from nbviz import cam

DOC = Path(__file__).resolve().parents[2] / "docs" / "custom_targets.md"


@pytest.fixture(scope="module")
def documented():
    """The namespace the page's Python block leaves behind."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 1
    namespace: dict = {}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)  # noqa: S102 (our own documentation)
    return namespace


def test_the_documented_map_is_gradcam_of_the_region_score(documented):
    model, x, score = documented["model"], documented["x"], documented["region_score"]
    heatmap = documented["heatmap"]
    assert heatmap.shape == (1, 224, 224) and heatmap.min() == 0 and heatmap.max() == 1
    # Grad-CAM by hand: w_k = mean_ij d score / dA_kij at backbone.16, M = relu(sum_k w_k A_k),
    # bilinear upsampling with half-pixel centres, min-max
    seen = {}
    handle = model.backbone["16"].register_forward_hook(lambda module, inputs, output: seen.update(a=output))
    try:
        value = score(model(x))
    finally:
        handle.remove()
    assert value.shape == (1,)
    (gradient,) = torch.autograd.grad(value.sum(), seen["a"])
    raw = torch.relu((gradient.mean(dim=(2, 3))[:, :, None, None] * seen["a"]).sum(dim=1))
    up = F.interpolate(raw[:, None], size=(224, 224), mode="bilinear", align_corners=False)[:, 0]
    expected = (up - up.min()) / (up.max() - up.min())
    torch.testing.assert_close(heatmap, expected.detach(), atol=2e-5, rtol=0)


def test_a_callable_with_the_wrong_shape_names_the_fix(documented):
    model, x = documented["model"], documented["x"]
    with pytest.raises(cam.CAMError, match="one score per sample"):
        cam.compute(model, x, method="gradcam", layer="backbone.16", target=lambda out: out["out"][:, 15])
    with pytest.raises(cam.CAMError, match="needs class indices"):
        cam.compute(model, x, method="cam", layer="backbone.16", target=documented["region_score"])
