"""CAMExplorer says why a map is blank (issue 16, item 4): the reason travels with the map to the
view, and compute() warns from Python."""
from __future__ import annotations

import warnings

import pytest
import torch

from cam_widget_helpers import CamTinyNet
from harness import wait_until

from nbviz import cam
from nbviz.cam import blank


def _zero_head() -> CamTinyNet:
    model = CamTinyNet()
    with torch.no_grad():
        model.fc.weight.zero_()
        model.fc.bias.zero_()
    return model


def test_a_blank_map_reaches_the_view_with_its_reason_and_compute_warns(cam_make_explorer, cam_front_end):
    explorer = cam_make_explorer(model=_zero_head())
    browser = cam_front_end(explorer)
    key = f"0|features|0|gradcam"
    browser.request("main", {"image": 0, "layer": "features", "target": 0, "method": "gradcam"})
    assert wait_until(lambda: browser.of_type("map"))
    content, _ = browser.of_type("map")[0]
    assert content["key"] == key and content["blank"] == blank.ZERO_GRADIENT
    assert not browser.maps()[key].any()
    with pytest.warns(cam.CAMWarning, match="the Grad-CAM map is blank: the gradient of the target is zero") as seen:
        explorer.compute("gradcam", "features", 0)
    assert seen[0].filename == __file__
    # the cached map is sent again from the cache with its reason
    browser.request("other", {"image": 0, "layer": "features", "target": 0, "method": "gradcam"})
    assert browser.of_type("map")[-1][0]["blank"] == blank.ZERO_GRADIENT


def test_a_map_that_shows_something_carries_no_reason_and_warns_nothing(cam_make_explorer, cam_front_end):
    explorer = cam_make_explorer()
    browser = cam_front_end(explorer)
    # on this image class 2's Grad-CAM at `features` is positive somewhere, class 3's negative everywhere
    browser.request("main", *({"image": 0, "layer": "features", "target": k, "method": "gradcam"} for k in (2, 3)))
    assert wait_until(lambda: len(browser.of_type("map")) == 2)
    sent = {content["key"]: content for content, _ in browser.of_type("map")}
    assert "blank" not in sent["0|features|2|gradcam"]
    # some of its channel weights are positive: the reason does not blame the weights
    assert sent["0|features|3|gradcam"]["blank"] == blank.NEGATIVE.format(detail="")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert explorer.compute("gradcam", "features", 2).max() == 1.0
