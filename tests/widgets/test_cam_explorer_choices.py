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
