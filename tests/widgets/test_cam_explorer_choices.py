"""CAMExplorer takes classes by name and layers as modules wherever it takes a class index or a
layer name (issue 16, items 2 and 3), and its errors name the fix without dumping long lists."""
from __future__ import annotations

import numpy as np
import pytest
import traitlets

from cam_widget_helpers import CamTinyNet

LABELS = ["tabby", "tiger cat", "Egyptian cat", "lynx", "Lynx"]


def test_class_names_are_targets_in_the_constructor_traits_and_compute(cam_make_explorer):
    explorer = cam_make_explorer(labels=LABELS, target="tiger cat")
    assert explorer.target == 1
    explorer.target = "EGYPTIAN CAT"  # the only case-insensitive match
    assert explorer.target == 2
    explorer.target = "Lynx"  # an exact match wins over the case-insensitive one
    assert explorer.target == 4
    np.testing.assert_array_equal(explorer.compute(target="tabby", method="gradcam"),
                                  explorer.compute(target=0, method="gradcam"))
    state = explorer.export_state(classes=["tabby", 3], methods=["gradcam"], images=[0])
    assert sorted(state["_precomputed"]) == [f"0|features|{k}|gradcam" for k in (0, 3)]


def test_a_class_name_that_is_ambiguous_or_unknown_is_a_clear_error(cam_make_explorer):
    explorer = cam_make_explorer(labels=["tabby", "Tabby cat", "tabby CAT", "lynx", "puma"])
    with pytest.raises(traitlets.TraitError, match=r"matches 2 labels: 1 \('Tabby cat'\), 2 \('tabby CAT'\)"):
        explorer.target = "TABBY CAT"
    with pytest.raises(traitlets.TraitError) as unknown:
        explorer.compute(target="tabbby")
    assert "did you mean 'tabby' (0)" in str(unknown.value) and "explorer.class_names lists them all" in str(unknown.value)
    with pytest.raises(traitlets.TraitError, match="no class is called 'c5'"):
        cam_make_explorer(labels=[f"c{i}" for i in range(5)], target="c5")
    with pytest.raises(traitlets.TraitError, match="class index \\(an int\\) or a class name \\(a str\\), got float"):
        explorer.compute(target=1.5)
    assert explorer.target == explorer.top_classes(1)[0]  # nothing corrupted


class DeepNet(__import__("torch").nn.Module):
    """41 spatial layers (a conv stack) before pooling and a linear head: long layer lists."""

    def __init__(self):
        import torch
        from torch import nn

        super().__init__()
        torch.manual_seed(0)
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.blocks = nn.Sequential(*[nn.Conv2d(4, 4, 3, padding=1) for _ in range(40)])
        self.head = nn.Linear(4, 5)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)).mean(dim=(2, 3)))


def test_modules_are_layers_in_the_constructor_traits_and_compute(cam_make_explorer):
    model = CamTinyNet()
    explorer = cam_make_explorer(model=model, layers=[model.features[0], "features.3", model.features])
    assert explorer.layers == ["features.0", "features.3", "features"]
    explorer.layer = model.features[3]
    assert explorer.layer == "features.3"
    explorer.layer = model.features[4]  # the in-place ReLU hands on the output listed as "features"
    assert explorer.layer == "features"
    np.testing.assert_array_equal(explorer.compute(layer=model.features[0], method="gradcam"),
                                  explorer.compute(layer="features.0", method="gradcam"))
    assert cam_make_explorer(model=model, layer=model.features[0]).layer == "features.0"
    state = explorer.export_state(layers=[model.features], classes=[1], methods=["gradcam"], images=[0])
    assert list(state["_precomputed"]) == ["0|features|1|gradcam"]


def test_layer_errors_name_the_module_type_and_abbreviate_the_list(cam_make_explorer):
    model = DeepNet()
    explorer = cam_make_explorer(model=model)
    assert len(explorer.layers) == 42 and explorer.layers[-1] == "fuse"  # 41 layers, then the fused map
    for bad in (CamTinyNet().features, "blocks.99"):
        with pytest.raises(traitlets.TraitError) as error:
            explorer.compute(layer=bad)
        message = str(error.value)
        assert "\n" not in message and len(message) < 400, message  # no module repr, no 41 names
        assert "... (34 earlier), 'blocks.33'" in message or "not a submodule of this model" in message
    assert "Sequential is not a submodule of this model" in _error(lambda: setattr(explorer, "layer", CamTinyNet().features))
    assert "did you mean 'blocks.9'" in _error(lambda: explorer.compute(layer="blocks.99"))
    restricted = cam_make_explorer(model=model, layers=[model.blocks[39], model.blocks])
    message = _error(lambda: restricted.compute(layer=model.blocks[5]))
    assert message == ("layer 'blocks.5' is not offered by this explorer (CAMExplorer(layers=...) chose them); "
                       "choose one of: 'blocks.39', 'blocks'")
    assert restricted.layer == "blocks"


def _error(action) -> str:
    with pytest.raises(traitlets.TraitError) as error:
        action()
    return str(error.value)


def test_the_view_gets_an_estimate_per_offered_layer_and_method_and_reports_none(cam_make_explorer):
    from nbviz import cam
    from nbviz.cam.cost import CONFIRM_ABOVE_S

    explorer = cam_make_explorer(layers=["features.0", "features"], methods=["gradcam", "scorecam", "ablationcam"])
    cost = explorer._cost
    assert cost["confirm_above_s"] == CONFIRM_ABOVE_S
    assert set(cost["seconds"]) == {"features.0", "features"}
    with cam.Explainer(explorer._model) as engine:
        expected = engine.estimates(explorer._prepared[0].tensor, ["features.0", "features"],
                                    ["gradcam", "scorecam", "ablationcam"])
    assert cost["seconds"] == expected  # the same measurement, cached per model and input shape
    # Score-CAM makes one pass per channel: 8 at features.0, 16 at features
    assert cost["seconds"]["features"]["scorecam"] == pytest.approx(2 * cost["seconds"]["features.0"]["scorecam"])
    assert explorer.export_state(methods=["gradcam"], images=[0])["_cost"] == {}
