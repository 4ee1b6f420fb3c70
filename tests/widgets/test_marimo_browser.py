"""notebooks/quickstart_marimo.py under `marimo run` (headless Chromium): both widgets render inside
marimo, and their traits are reactive marimo values: choosing a method in the explorer and a lasso in
the scatter re-run the cells that read `method` and `selection`."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from frontend_checks import open_recording_page
from harness import running_page_server

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart_marimo.py"


@pytest.fixture(scope="module")
def marimo_app():
    command = ["marimo", "run", NOTEBOOK.name, "--headless", "--port={port}", "--host=127.0.0.1", "--no-token",
               "--no-sandbox", "--no-skew-protection"]
    with running_page_server(command, [NOTEBOOK], prefix="nbviz-marimo-") as server:
        yield server


def _lasso(page, plot) -> None:
    """Drag a lasso polygon over the middle of the plot with the lasso tool."""
    box = plot.bounding_box()
    left, top, width, height = box["x"], box["y"], box["width"], box["height"]
    polygon = [(left + width * fx, top + height * fy) for fx, fy in
               ((0.2, 0.2), (0.8, 0.25), (0.75, 0.8), (0.25, 0.75))]
    page.mouse.move(*polygon[0])
    page.mouse.down()
    for (ax, ay), (bx, by) in zip(polygon, polygon[1:] + polygon[:1]):
        for t in (0.25, 0.5, 0.75, 1.0):
            page.mouse.move(ax + (bx - ax) * t, ay + (by - ay) * t)
    page.mouse.up()


@pytest.mark.browser
def test_marimo_runs_both_widgets_as_reactive_values(marimo_app, browser_context, screenshot):
    page = open_recording_page(browser_context, marimo_app.url, timeout_s=120)
    cam = page.locator(".nbviz-cam").first
    scatter = page.locator(".nbviz-tsne").first
    cam.wait_for(timeout=180_000)
    scatter.wait_for(timeout=180_000)
    assert "import nbviz" not in page.locator("body").inner_text()  # an app: code stays on the server

    # The explorer paints its map; a method chosen in the view re-runs the cell that reads `method`.
    page.wait_for_function("(el) => (el.dataset.paintedKey || '').endsWith('|gradcam')", arg=cam.element_handle(),
                           timeout=120_000)
    page.get_by_text(re.compile(r"The map shows gradcam at layer")).wait_for(timeout=30_000)
    cam.locator("select[data-role=method]").select_option("gradcam++")
    page.get_by_text(re.compile(r"The map shows gradcam\+\+ at layer")).wait_for(timeout=60_000)
    page.wait_for_function("(el) => el.dataset.paintedKey.endsWith('|gradcam++')", arg=cam.element_handle(),
                           timeout=60_000)
    screenshot(cam, "marimo_cam_explorer.png")

    # The scatter streams; a lasso re-runs the cell that reads `selection`, with the same count the
    # widget shows.
    page.wait_for_function("(el) => el.nbviz.stats().framesDrawn >= 10", arg=scatter.element_handle(), timeout=120_000)
    page.get_by_text("0 points selected").wait_for(timeout=30_000)
    scatter.get_by_role("button", name="Pause").click()
    scatter.locator(".badge", has_text="Paused").wait_for(timeout=30_000)
    scatter.get_by_role("button", name="Lasso-select points (or shift-drag)").click()
    _lasso(page, scatter.locator(".plot canvas").first)
    shown = scatter.locator(".selection", has_text="selected")
    shown.wait_for(timeout=30_000)
    count = int(re.search(r"([\d,]+) of [\d,]+ selected", shown.inner_text()).group(1).replace(",", ""))
    assert count > 10
    page.get_by_text(re.compile(rf"^{count} points selected \(digits ")).wait_for(timeout=60_000)
    screenshot(page, "marimo_quickstart.png")
    assert not page.console_errors, page.console_errors
    page.close()
