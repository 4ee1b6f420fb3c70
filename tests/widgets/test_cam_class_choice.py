"""CAMExplorer beyond one class and one layer: several classes summed, a versus class, the fused
layer, ROAD next to deletion / insertion, the method menu's sanity verdicts, and reports of each."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import traitlets

from cam_widget_helpers import CamTinyNet
from harness import wait_until

from nbviz import cam
from nbviz.report.compact import UNIT_CODE_ERROR, from_unit_codes
from nbviz.widgets.cam_explorer import SCORE_STEPS
from nbviz.widgets.cam_targets import TargetChoice, parse_target_spec


def test_target_specs_round_trip_and_name_the_engine_target():
    for text, choice in [("281", TargetChoice(281)), ("281+285", TargetChoice(281, (285,))),
                         ("281-285", TargetChoice(281, (), 285)), ("3+1+4-2", TargetChoice(3, (1, 4), 2))]:
        assert parse_target_spec(text) == choice and choice.spec == text
    assert parse_target_spec(7) == TargetChoice(7)
    assert TargetChoice(4).score_target() == 4
    assert TargetChoice(281, (), 285).score_target() == cam.contrast(281, 285)
    assert TargetChoice(281, (285, 287)).score_target() == cam.class_sum(281, 285, 287)
    assert TargetChoice(1, (2,), 3).score_target().terms == ((1, 1.0), (2, 1.0), (3, -1.0))
    assert TargetChoice(1, (2,), 3).label(["a", "b", "c", "d"]) == "b + c vs. d"
    for bad in ("", "1+", "a", "1-2-3", "-1"):
        with pytest.raises(ValueError, match="not a class choice"):
            parse_target_spec(bad)
    with pytest.raises(ValueError, match="repeat"):
        TargetChoice(1, (1,))
    with pytest.raises(ValueError, match="versus class 2 is one of the chosen"):
        TargetChoice(1, (2,), 2)


def test_versus_and_extra_classes_explain_the_combined_score(cam_make_explorer):
    explorer = cam_make_explorer(layer="features.3")
    x = explorer._prepared[0].tensor
    a, b, c = explorer.top_classes(3)
    with cam.Explainer(CamTinyNet()) as reference:
        explorer.versus = b
        np.testing.assert_array_equal(explorer.compute(upsample=False), reference.explain(
            x, "gradcam", "features.3", cam.contrast(a, b), upsample=False)[0].numpy())
        explorer.versus, explorer.extra_targets = None, [c]
        np.testing.assert_array_equal(explorer.compute(upsample=False), reference.explain(
            x, "gradcam", "features.3", cam.class_sum(a, c), upsample=False)[0].numpy())
        # a + c - b by hand: Grad-CAM's weights are linear in the score, so the map is
        # minmax(relu(sum_k (w_a + w_c - w_b)_k A_k)) with w_j the pooled gradient of y_j
        explorer.versus = b
        activation = reference.explain(x, "gradcam", "features.3", a, upsample=False)  # records the layer
        record = reference._record
        layer_out = record.layers["features.3"].spatial()
        weights = [torch.autograd.grad(record.logits[0, k], record.layers["features.3"].raw, retain_graph=True)[0]
                   .mean(dim=(2, 3)) for k in (a, c, b)]
        combined = (weights[0] + weights[1] - weights[2])[0]
        raw = torch.relu((combined[:, None, None] * layer_out[0]).sum(0))
        expected = (raw - raw.min()) / (raw.max() - raw.min())
        np.testing.assert_allclose(explorer.compute(upsample=False), expected.detach().numpy(), atol=1e-5)
        assert activation.shape == (1, 16, 16)
    assert explorer._choice(None, None, None, None).key == f"0|features.3|{a}+{c}-{b}|gradcam"
    # a target given alone means that class alone, whatever the traits combine
    np.testing.assert_array_equal(explorer.compute(target=a, upsample=False), cam.Explainer(CamTinyNet()).explain(
        x, "gradcam", "features.3", a, upsample=False)[0].numpy())


def test_bad_class_choices_are_clear_errors(cam_make_explorer):
    explorer = cam_make_explorer()
    with pytest.raises(traitlets.TraitError, match="class index from 0 to 4"):
        explorer.versus = 9
    with pytest.raises(traitlets.TraitError, match="class index from 0 to 4"):
        explorer.extra_targets = [1, 7]
    explorer.versus = explorer.target  # each trait is valid alone; the combination is checked when used
    with pytest.raises(traitlets.TraitError, match="versus class"):
        explorer.compute(upsample=False)
    explorer.versus = None
    explorer.image_index = 1  # a new image starts again from its top class alone
    explorer.extra_targets, explorer.versus = [explorer.top_classes(3)[1]], explorer.top_classes(3)[2]
    explorer.image_index = 0
    assert (explorer.extra_targets, explorer.versus, explorer.target) == ([], None, explorer.top_classes(1)[0])


def test_browser_requests_with_target_specs(cam_make_explorer, cam_front_end):
    explorer = cam_make_explorer()
    browser = cam_front_end(explorer)
    a, b = explorer.top_classes(2)
    browser.request("main", {"image": 0, "layer": "features", "target": f"{a}-{b}", "method": "gradcam"})
    key = f"0|features|{a}-{b}|gradcam"
    assert wait_until(lambda: key in browser.maps(), 60)
    with cam.Explainer(CamTinyNet()) as reference:
        np.testing.assert_array_equal(browser.maps()[key], reference.explain(
            explorer._prepared[0].tensor, "gradcam", "features", cam.contrast(a, b), upsample=False)[0].numpy())
    browser.request("main", {"image": 0, "layer": "features", "target": f"{a}-{a}", "method": "gradcam"})
    assert wait_until(lambda: browser.of_type("error"), 30)
    assert "versus class" in browser.of_type("error")[0][0]["message"]


def test_fuse_is_offered_and_is_the_engines_fused_map(cam_make_explorer):
    explorer = cam_make_explorer()
    assert explorer.layers[-1] == "fuse" and explorer.layer == "features"  # the default stays the last layer
    assert "fuse" not in cam_make_explorer(layers=["features.3", "features"]).layers  # a chosen list is kept as given
    x = explorer._prepared[0].tensor
    with cam.Explainer(CamTinyNet()) as reference:
        expected = reference.explain(x, "gradcam", "fuse", explorer.target, upsample=False)[0].numpy()
        assert reference.fusion_layers(x) == ["features.1", "features"]  # the last layer of the 32 and 16 px grids
    np.testing.assert_array_equal(explorer.compute(layer="fuse", upsample=False), expected)
    assert explorer.compute(layer="fuse", upsample=False).shape == (32, 32)  # the finest fused grid


def test_road_is_scored_next_to_deletion_and_insertion(cam_make_explorer, cam_front_end):
    from nbviz.cam.metrics import deletion_insertion, road

    explorer = cam_make_explorer()
    browser = cam_front_end(explorer)
    a, b = explorer.top_classes(2)
    explorer.versus = b
    browser.send({"type": "scores", "id": "r1", "client": "test", "image": 0, "layer": explorer.layer,
                  "target": str(a), "method": "gradcam"})
    assert wait_until(lambda: browser.of_type("scores"), timeout=60)
    scores, _ = browser.of_type("scores")[0]
    x = explorer._prepared[0].tensor
    saliency = torch.from_numpy(explorer.compute(target=a, upsample=True))[None]
    expected = road(explorer._model, x, saliency, a)
    assert scores["road_morf"] == pytest.approx(float(expected["morf"][0]), abs=1e-6)
    assert scores["road_lerf"] == pytest.approx(float(expected["lerf"][0]), abs=1e-6)
    plain = deletion_insertion(explorer._model, x, saliency, a, steps=SCORE_STEPS)
    assert scores["deletion"] == pytest.approx(float(plain["deletion"][0]), abs=1e-6)


def test_the_method_menu_carries_the_measured_sanity_verdicts(cam_make_explorer):
    explorer = cam_make_explorer()
    entries = {entry["name"]: entry for entry in explorer._methods}
    for name, entry in entries.items():
        assert entry["sanity"] == cam.method_spec(name).sanity
    assert entries["guided-backprop"]["sanity"] == "fail" and entries["gradcam"]["sanity"] == "pass"


def test_reports_keep_every_new_state(cam_make_explorer, tmp_path):
    explorer = cam_make_explorer(labels=list("abcde"))
    a, b, c = explorer.top_classes(3)
    explorer.extra_targets, explorer.versus = [c], b
    state = explorer.export_state()
    key = f"0|features|{a}+{c}-{b}|gradcam"
    assert key in state["_precomputed"]  # the combined choice on screen is saved with the report
    values = from_unit_codes(state["_precomputed"][key], state["_precomputed_shapes"][key])
    np.testing.assert_allclose(values, explorer.compute(upsample=False), atol=UNIT_CODE_ERROR + 1e-7)
    assert state["versus"] == b and state["extra_targets"] == [c] and "fuse" in state["_layers"]
    explorer.layer = "fuse"
    assert f"0|fuse|{a}+{c}-{b}|gradcam" in explorer.export_state()["_precomputed"]
    page = explorer.to_html(tmp_path / "report.html").read_text()
    assert '"extra_targets"' in page and '"versus"' in page
