"""Issue 13's controls in real browsers: in JupyterLab the "Sanity check" button shows the strip, the
similarity curves and the verdict, the method menu marks the methods that fail, the versus picker and
a modifier-click change the map, "fuse" is in the layer menu and ROAD is scored; in an offline report
the kernel-only controls are disabled and a saved sanity result still shows."""
from __future__ import annotations

import json

import pytest

from harness import wait_for_file

from nbviz import to_html

SETUP = '''
import json, pathlib
from nbviz import CAMExplorer
explorer = CAMExplorer()
def _dump(change=None):
    state = {name: getattr(explorer, name) for name in ("layer", "target", "method", "versus", "extra_targets")}
    pathlib.Path("cam_state.json.tmp").write_text(json.dumps(state))
    pathlib.Path("cam_state.json.tmp").replace("cam_state.json")
explorer.observe(_dump, names=["layer", "target", "method", "versus", "extra_targets"])
_dump()
'''
SHOW = "explorer"


def _painted(root, key: str, timeout: float = 120_000):
    root.page.wait_for_function("([el, key]) => el.dataset.paintedKey === key", arg=[root.element_handle(), key],
                                timeout=timeout)


def _state(lab, predicate):
    return json.loads(wait_for_file(lab.root / "cam_state.json", timeout=60, predicate=lambda t: predicate(json.loads(t))))


def _canvas_sum(root) -> float:
    return root.locator("canvas.cam-main").evaluate(
        "(c) => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.reduce((s, v, i) => i % 4 === 3 ? s : s + v, 0)")


def _sanity_done(root, timeout: float = 240_000):
    root.page.wait_for_function("(el) => el.dataset.state === 'done'", arg=root.locator("[data-role=sanity]").element_handle(),
                                timeout=timeout)


@pytest.mark.browser
def test_sanity_check_versus_and_fuse_in_jupyterlab(lab, screenshot):
    page = lab.open_notebook([SETUP, SHOW], "cam_honest.ipynb", timeout=180)
    root = page.locator(".nbviz-cam").first
    root.wait_for(timeout=60_000)
    state = _state(lab, lambda s: True)
    layer, target = state["layer"], state["target"]
    _painted(root, f"0|{layer}|{target}|gradcam")

    # The method menu marks the methods whose measured verdict is "fail", with the paper in the tooltip.
    failing = root.locator("select[data-role=method] option[value=guided-backprop]")
    assert "⚠" in failing.inner_text() and "Adebayo" in failing.get_attribute("title")
    assert "⚠" not in root.locator("select[data-role=method] option[value=gradcam]").inner_text()
    badge = root.locator("[data-role=method-badge]")
    assert badge.is_hidden()
    root.locator("select[data-role=method]").select_option("guided-backprop")
    _painted(root, f"0|{layer}|{target}|guided-backprop")
    assert badge.is_visible() and "Adebayo" in badge.get_attribute("title")
    screenshot(root, "cam_honest_01_badge.png")

    # Sanity check of Grad-CAM: progress, then the strip (original + one map per block), curves, verdict.
    root.locator("select[data-role=method]").select_option("gradcam")
    _painted(root, f"0|{layer}|{target}|gradcam")
    root.locator("[data-role=sanity-run]").click()
    _sanity_done(root)
    tiles = root.locator("[data-role=sanity-strip] .cam-sanity-tile")
    assert tiles.count() == 20  # the trained model's map, then classifier, head, 16 blocks, stem
    assert tiles.nth(1).locator(".cam-sanity-block").inner_text() == "classifier"
    verdict = root.locator("[data-role=sanity-verdict]")
    assert "Passes" in verdict.inner_text() and "Adebayo" in verdict.inner_text()
    curve = root.locator("[data-role=sanity-curve]")
    assert curve.locator("polyline").count() == 3 and curve.locator("[data-role=sanity-threshold]").count() == 1
    # each small map is drawn in the view's colormap; the trained one and a randomised one differ
    pixels = "(c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
    trained, random = tiles.nth(0).locator("canvas").evaluate(pixels), tiles.nth(10).locator("canvas").evaluate(pixels)
    assert max(trained) > 0 and sum(abs(p - q) for p, q in zip(trained, random)) > 0.05 * sum(trained)
    screenshot(root, "cam_honest_02_sanity_pass.png")
    section = root.locator("[data-role=sanity]")
    section.scroll_into_view_if_needed()
    screenshot(section, "cam_honest_02b_sanity_section.png")

    # Guided Backprop fails, in words a non-expert reads.
    root.locator("select[data-role=method]").select_option("guided-backprop")
    assert root.locator("[data-role=sanity-result]").is_hidden()  # the result was about Grad-CAM
    _painted(root, f"0|{layer}|{target}|guided-backprop")
    root.locator("[data-role=sanity-run]").click()
    _sanity_done(root)
    assert "Fails" in root.locator("[data-role=sanity-verdict]").inner_text()
    section.scroll_into_view_if_needed()
    screenshot(section, "cam_honest_03_sanity_fail.png")

    # Versus: "why the top class rather than the second": another map, and the toolbar says so.
    root.locator("select[data-role=method]").select_option("gradcam")
    _painted(root, f"0|{layer}|{target}|gradcam")
    before = _canvas_sum(root)
    second = int(root.locator("[data-role=classes] .cam-class").nth(1).get_attribute("data-class"))
    root.locator("select[data-role=versus]").select_option(str(second))
    _painted(root, f"0|{layer}|{target}-{second}|gradcam")
    assert _state(lab, lambda s: s["versus"] == second)["versus"] == second
    assert abs(_canvas_sum(root) - before) / before > 0.005
    assert " vs. " in root.locator("[data-role=target-label]").inner_text()
    assert "cam-versus" in root.locator(f".cam-class[data-class='{second}']").get_attribute("class")
    screenshot(root, "cam_honest_04_versus.png")

    # Ctrl-click a third class: the scores of both chosen classes are summed.
    third = int(root.locator("[data-role=classes] .cam-class").nth(2).get_attribute("data-class"))
    root.locator(f".cam-class[data-class='{third}']").click(modifiers=["Control"])
    _painted(root, f"0|{layer}|{target}+{third}-{second}|gradcam")
    assert _state(lab, lambda s: s["extra_targets"] == [third])["target"] == target
    assert root.locator(".cam-class.cam-selected").count() == 2
    assert " + " in root.locator("[data-role=target-label]").inner_text()
    screenshot(root, "cam_honest_05_multi.png")

    # Fused layers from the layer menu; ROAD next to deletion / insertion.
    root.locator("select[data-role=layer]").select_option("fuse")
    _painted(root, f"0|fuse|{target}+{third}-{second}|gradcam")
    root.locator("[data-role=target-reset]").click()
    _painted(root, f"0|fuse|{target}|gradcam")
    root.locator("[data-role=scores]").click()
    text = root.locator("[data-role=scores-text]")
    page.wait_for_function("(el) => /AUC|rror/.test(el.textContent)", arg=text.element_handle(), timeout=400_000)
    assert "ROAD most relevant first" in text.inner_text(), text.inner_text()
    screenshot(root, "cam_honest_06_fuse_road.png")
    assert page.console_errors == []


@pytest.mark.browser
def test_offline_report_disables_kernel_controls_and_keeps_the_sanity_result(cam_make_explorer, page_for_html,
                                                                            screenshot, tmp_path):
    from harness import wait_until

    explorer = cam_make_explorer(labels=["apple", "banana", "cherry", "date", "elderberry"])
    a, b, _ = explorer.top_classes(3)
    explorer.versus = b
    explorer._on_message(explorer, {"type": "sanity", "id": "r-1", "image": 0, "layer": explorer.layer,
                                    "target": f"{a}-{b}", "method": "gradcam"}, [])
    assert wait_until(lambda: explorer._sanity.get("state") == "done", 120)
    path = to_html(tmp_path / "honest_report.html", explorer)
    page = page_for_html(path, wait_for=".nbviz-cam[data-painted-key]")
    root = page.locator(".nbviz-cam").first
    assert root.get_attribute("data-painted-key") == f"0|features|{a}-{b}|gradcam"
    assert root.locator("select[data-role=versus]").is_disabled()
    assert root.locator("[data-role=sanity-run]").is_hidden() and root.locator("[data-role=target-reset]").is_hidden()
    assert root.locator("[data-role=sanity-strip] .cam-sanity-tile").count() == 4  # original + fc, features.3, features.0
    screenshot(root, "cam_honest_07_report.png")
    # another class in the report: the saved result described the other map, so it is not shown
    root.locator("select[data-role=method]").select_option("layercam")
    page.wait_for_function("([el, key]) => el.dataset.paintedKey === key",
                           arg=[root.element_handle(), f"0|features|{a}-{b}|layercam"])
    assert root.locator("[data-role=sanity]").is_hidden()
    assert page.blocked_requests == [] and page.console_errors == []
