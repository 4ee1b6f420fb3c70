"""One map shape contract (docs/maps.md, issue 16 item 5): cam.compute, Explainer.explain and
CAMExplorer.compute take method, layer, target in that order, return the input's resolution by
default and, with upsample=False, the resolution the method computes at; the values agree."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from cam_widget_helpers import CamTinyNet, cam_test_images, cam_transform_32

from nbviz import cam

# CamTinyNet on a 32 x 32 input: features.0 is 32 x 32, features.3 and features 16 x 16.
GRID = {"features.0": (32, 32), "features.3": (16, 16), "features": (16, 16)}


@pytest.mark.parametrize("method", list(cam.METHODS))
def test_every_method_follows_one_rule_in_the_engine_and_the_explorer(cam_make_explorer, method):
    explorer = cam_make_explorer(methods=list(cam.METHODS))
    spec = cam.method_spec(method)
    x = cam_transform_32()(Image.fromarray(cam_test_images()[0]))[None]
    model = CamTinyNet()
    options = {"n_samples": 2} if "n_samples" in spec.options else {}
    layer = "features"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cam.CAMWarning)  # some classes' maps are blank: choose another
        target = next(k for k in range(5)
                      if float(cam.compute(model, x, method, layer, k, progress=False, **options).max()) == 1.0)
    positional = cam.compute(model, x, method, layer, target, progress=False, **options)
    assert positional.shape == (1, 32, 32) and positional.dtype == torch.float32
    keywords = cam.compute(model, x, method=method, layer=layer, target=target, progress=False, **options)
    torch.testing.assert_close(positional, keywords, rtol=0, atol=0)
    with cam.Explainer(model) as explainer:
        explained = explainer.explain(x, method, layer, target, **options)
        grid = explainer.explain(x, method, layer, target, upsample=False, **options)
    torch.testing.assert_close(explained, positional, rtol=0, atol=0)
    expected_grid = (32, 32) if spec.input_resolution else GRID[layer]
    assert grid.shape == (1, *expected_grid)
    if options:  # the explorer runs a method with its default options
        return
    shown = explorer.compute(method, layer, target, 0)
    assert isinstance(shown, np.ndarray) and shown.shape == (32, 32) and shown.dtype == np.float32
    np.testing.assert_allclose(shown, positional[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(explorer.compute(method, layer, target, 0, upsample=False), grid[0].numpy(), atol=1e-6)


def test_fused_maps_are_at_the_finest_grid_without_upsampling():
    model = CamTinyNet()
    x = cam_transform_32()(Image.fromarray(cam_test_images()[1]))[None]
    fused = cam.compute(model, x, "gradcam", ["features.3", "features.0"], 2, upsample=False)
    assert fused.shape == (1, *GRID["features.0"])
    assert cam.compute(model, x, "gradcam", ["features.3", "features"], 2).shape == (1, 32, 32)


def test_sanity_check_takes_the_method_positionally_too():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                                torch.nn.Flatten(), torch.nn.Linear(4, 3))
    x = torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    a = cam.sanity_check(model, x, "gradcam", "1", 0, similarity=("spearman",))
    b = cam.sanity_check(model, x, method="gradcam", layer="1", target=0, similarity=("spearman",))
    np.testing.assert_array_equal(a.curve("spearman"), b.curve("spearman"))


def test_compute_batch_follows_the_same_rule(cam_make_explorer):
    explorer = cam_make_explorer()
    batched = explorer.compute_batch([0, 1], [2, 4], layer="features", method="gradcam")
    assert batched.shape == (2, 32, 32)
    grid = explorer.compute_batch([0, 1], [2, 4], layer="features", method="gradcam", upsample=False)
    assert grid.shape == (2, *GRID["features"])
    for k, (image, target) in enumerate([(0, 2), (1, 4)]):
        np.testing.assert_allclose(batched[k], explorer.compute("gradcam", "features", target, image), atol=1e-6)
        np.testing.assert_allclose(grid[k], explorer.compute("gradcam", "features", target, image, upsample=False),
                                   atol=1e-6)
