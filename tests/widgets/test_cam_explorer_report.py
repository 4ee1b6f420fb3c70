"""CAMExplorer in an offline report: renders from precomputed maps with the network blocked, switches
among them without a kernel, and shows choices that were not precomputed as unavailable."""
from __future__ import annotations

import pytest

from nbviz import to_html


@pytest.mark.browser
def test_cam_explorer_report_works_offline(cam_make_explorer, page_for_html, screenshot, tmp_path):
    explorer = cam_make_explorer(labels=["apple", "banana", "cherry", "date", "elderberry"])
    top = explorer.top_classes(3)
    path = to_html(tmp_path / "cam_report.html", explorer, title="CAM report")
    page = page_for_html(path, wait_for=".nbviz-cam[data-painted-key]")
    root = page.locator(".nbviz-cam").first
    assert root.get_attribute("data-offline") == "true"
    assert root.get_attribute("data-painted-key") == f"0|features|{top[0]}|gradcam"

    # Saved methods are enabled, the others (slow and guided ones) are marked unavailable.
    enabled = root.locator("select[data-role=method] option:not([disabled])").evaluate_all("(os) => os.map((o) => o.value)")
    assert set(enabled) == {"cam", "gradcam", "gradcam++", "xgradcam", "layercam", "hirescam", "eigencam"}
    disabled_layers = root.locator("select[data-role=layer] option[disabled]").count()
    assert disabled_layers == len(explorer.layers) - 1

    # Classes: the top 3 are available, the rest are not.
    rows = root.locator("[data-role=classes] .cam-class")
    available = [int(rows.nth(i).get_attribute("data-class")) for i in range(rows.count())
                 if "cam-disabled" not in rows.nth(i).get_attribute("class")]
    assert sorted(available) == sorted(top)
    root.locator(f"[data-role=classes] .cam-class[data-class='{top[1]}']").click()
    root.locator("select[data-role=method]").select_option("layercam")
    page.wait_for_function("([el, key]) => el.dataset.paintedKey === key",
                           arg=[root.element_handle(), f"0|features|{top[1]}|layercam"])
    assert root.locator("[data-role=scores]").is_disabled()
    screenshot(root, "cam_11_offline_report.png")

    # The second image through the thumbnails, from saved maps too.
    root.locator("[data-role=thumbnails] [data-image='1']").click()
    top1 = explorer.top_classes(1, image_index=1)[0]
    page.wait_for_function("([el, key]) => el.dataset.paintedKey === key",
                           arg=[root.element_handle(), f"1|features|{top1}|layercam"])
    assert page.blocked_requests == [] and page.console_errors == []
