"""Real widgets exported to HTML and PNG, opened in Chromium with every network request blocked.

One CAMExplorer (embedded EfficientNet-Lite0 on "chelsea") and one TSNEScatter (digits, a short run)
are built once for the module; the demo report is written through the `nbviz demo` entry point.
"""
from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from PIL import Image

import nbviz.__main__ as cli
import nbviz.demo as demo_module
from harness import artifact_path
from nbviz.report import to_html, to_png
from nbviz.widgets.tsne_snapshot import TABLEAU10

pytestmark = pytest.mark.browser
TSNE_ITERATIONS = 200
SIZE_LIMIT = 5_000_000


@pytest.fixture(scope="module")
def widgets():
    explorer, scatter = demo_module.build_demo_widgets(tsne_iterations=TSNE_ITERATIONS)
    yield explorer, scatter
    scatter.close()
    explorer.close()


@pytest.fixture(scope="module")
def demo_report(widgets, tmp_path_factory):
    """`nbviz demo --html PATH` with the module's widgets (built by the same build_demo_widgets)."""
    path = tmp_path_factory.mktemp("demo") / "nbviz-demo.html"
    explorer, scatter = widgets
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo_module, "build_demo_widgets", lambda **kwargs: widgets)
        patch.setattr(explorer, "close", lambda: None)
        patch.setattr(scatter, "close", lambda: None)
        out = io.StringIO()
        patch.setattr("sys.stdout", out)
        code = cli.main(["demo", "--html", str(path), "--quiet", "--tsne-iterations", str(TSNE_ITERATIONS)])
    assert code == 0
    printed = out.getvalue().strip()
    size = path.stat().st_size
    assert printed == f"{path.resolve()} ({size / 1e6:.2f} MB, {size} bytes)"
    print(f"demo report ({TSNE_ITERATIONS} t-SNE iterations): {size / 1e6:.2f} MB")
    return path


def canvas_pixels(page, selector):
    """RGBA pixels of a 2D canvas, read back in the page, as a numpy array (h, w, 4)."""
    data = page.evaluate(
        """(selector) => {
            const canvas = document.querySelector(selector);
            const { width, height } = canvas;
            const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
            return { width, height, pixels: Array.from(pixels) };
        }""",
        selector,
    )
    return np.array(data["pixels"], dtype=np.uint8).reshape(data["height"], data["width"], 4)


def wait_for_cam_drawn(page):
    page.wait_for_function(
        """() => {
            const c = document.querySelector('.nbviz-cam canvas[data-role=canvas]');
            if (!c || !c.width) return false;
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let lo = 255, hi = 0;
            for (let i = 0; i < d.length; i += 4 * 97) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); }
            return hi - lo > 40;
        }""",
        timeout=30_000,
    )


def point_positions(page, indices):
    return page.evaluate(
        "(indices) => { const r = document.querySelector('.nbviz-tsne'); "
        "return indices.map((i) => r.nbviz.screenPosition(i)); }",
        indices,
    )


def test_demo_report_cam_offline(demo_report, widgets, page_for_html):
    explorer, _ = widgets
    page = page_for_html(demo_report, wait_for=".nbviz-cam canvas[data-role=canvas]")
    wait_for_cam_drawn(page)
    before = canvas_pixels(page, ".nbviz-cam canvas[data-role=canvas]")
    assert before[..., :3].std() > 20, "the CAM canvas is not blank"
    assert page.locator(".nbviz-cam").get_attribute("data-offline") == "true"

    # Another precomputed class: the map (and so the pixels) change.
    top = explorer.top_classes(3)
    assert explorer.target == top[0]
    page.locator(f'li.cam-class[data-class="{top[1]}"]').click()
    page.wait_for_function(
        "(cls) => document.querySelector(`li.cam-class[data-class='${cls}']`).classList.contains('cam-selected')",
        arg=top[1],
    )
    page.wait_for_timeout(300)
    wait_for_cam_drawn(page)
    after = canvas_pixels(page, ".nbviz-cam canvas[data-role=canvas]")
    changed = np.abs(after[..., :3].astype(int) - before[..., :3].astype(int)).mean()
    assert changed > 2.0, f"pixels barely changed ({changed:.2f}) after choosing class {top[1]}"

    # Choices that were not precomputed are marked unavailable, not broken.
    disabled_classes = page.locator("li.cam-class.cam-disabled")
    assert disabled_classes.count() >= 1
    assert "not saved in this report" in disabled_classes.first.get_attribute("title")
    slow = page.locator('select[data-role=method] option[value="scorecam"]')
    assert slow.is_disabled(), "a method that was not precomputed cannot be chosen"
    assert not page.locator('select[data-role=method] option[value="gradcam++"]').is_disabled()
    disabled_classes.first.click(force=True)
    page.wait_for_timeout(200)
    assert page.locator("li.cam-class.cam-selected").get_attribute("data-class") == str(top[1])
    assert page.locator("[data-role=error-message]").count() == 0

    assert page.console_errors == []
    assert page.blocked_requests == []


def test_demo_report_tsne_playback_offline(demo_report, page_for_html):
    page = page_for_html(demo_report, wait_for=".nbviz-tsne")
    page.wait_for_function("() => document.querySelector('.nbviz-tsne').nbviz !== undefined")
    points = [0, 100, 500, 1000, 1700]
    start = point_positions(page, points)
    moved = 0.0
    for _ in range(30):
        page.wait_for_timeout(150)
        now = point_positions(page, points)
        moved = max(moved, max(np.hypot(a[0] - b[0], a[1] - b[1]) for a, b in zip(start, now)))
        if moved > 5:
            break
    assert moved > 5, "the recorded keyframes replay: points move on screen"

    # After the replay ends, the replay button plays it again from the start.
    page.wait_for_function("() => !document.querySelector('button[title=\"Replay the recorded keyframes\"]').disabled")
    settled = None
    for _ in range(80):
        now = point_positions(page, points)
        if settled is not None and now == settled:
            break
        settled = now
        page.wait_for_timeout(150)
    # The settled layout can be explored: hovering a point shows its tooltip.
    page.locator(".nbviz-tsne canvas").first.scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    box = page.locator(".nbviz-tsne canvas").first.evaluate(
        "(c) => { const r = c.parentElement.getBoundingClientRect(); return [r.x, r.y]; }"
    )
    x, y = point_positions(page, [500])[0]
    page.mouse.move(box[0] + x, box[1] + y)
    tooltip = page.locator(".nbviz-tsne .tooltip")
    page.wait_for_function(
        "() => { const t = document.querySelector('.nbviz-tsne .tooltip');"
        " return t.style.display === 'flex' && /point \\d+/.test(t.textContent); }"
    )
    hovered = int(re.search(r"point (\d+)", tooltip.inner_text()).group(1))
    hx, hy = point_positions(page, [hovered])[0]
    assert np.hypot(hx - x, hy - y) < 8, "the tooltip names a point under the cursor"
    page.mouse.move(0, 0)

    page.locator('button[title="Replay the recorded keyframes"]').click()
    page.wait_for_timeout(400)
    replaying = point_positions(page, points)
    assert replaying != settled, "pressing replay shows earlier keyframes again"
    body = page.locator("body")
    body.screenshot(path=str(artifact_path("report_demo.png")))
    assert page.console_errors == []
    assert page.blocked_requests == []


def test_demo_report_size_and_content(demo_report, widgets):
    text = demo_report.read_text(encoding="utf-8")
    size = len(text.encode("utf-8"))
    payload = json.loads(re.search(r'id="nbviz-report-data">(.*?)</script>', text, re.S).group(1))
    bundles = [w["bundle"] for w in payload["widgets"]]
    assert bundles == ["cam_explorer", "tsne_scatter"]
    cam_state = payload["widgets"][0]["state"]
    keys = set(cam_state["_precomputed"])
    explorer, scatter = widgets
    # Default precomputation: current layer x top-3 classes x gradient-based methods.
    from nbviz import cam

    gradient = [m for m in explorer.methods if m in cam.GRADIENT_METHODS]
    expected = {f"0|{explorer.layer}|{c}|{m}" for c in explorer.top_classes(3) for m in gradient}
    assert expected <= keys
    # The full 750-iteration demo adds (750 - 200) / 10 keyframes of N x 2 uint16, base64-encoded.
    extra = (750 - TSNE_ITERATIONS) // 10 * scatter.n_points * 2 * 2 * 4 / 3
    print(f"demo report: {size / 1e6:.2f} MB here; a 750-iteration run adds about {extra / 1e6:.2f} MB")
    assert size + extra < SIZE_LIMIT


def test_cam_report_with_chosen_precomputation(widgets, tmp_path, page_for_html, screenshot):
    explorer, _ = widgets
    top = explorer.top_classes(2)
    out = to_html(tmp_path / "cam.html", explorer, title="Chelsea: Grad-CAM vs Layer-CAM",
                  classes=top, methods=["gradcam", "layercam"], layers=[explorer.layer])
    payload = json.loads(re.search(r'id="nbviz-report-data">(.*?)</script>', out.read_text(), re.S).group(1))
    keys = set(payload["widgets"][0]["state"]["_precomputed"])
    assert keys == {f"0|{explorer.layer}|{c}|{m}" for c in top for m in ("gradcam", "layercam")}
    page = page_for_html(out, wait_for=".nbviz-cam canvas[data-role=canvas]")
    wait_for_cam_drawn(page)
    enabled = page.locator("select[data-role=method] option:not([disabled])").evaluate_all(
        "(options) => options.map((o) => o.value)"
    )
    assert sorted(enabled) == ["gradcam", "layercam"]
    before = canvas_pixels(page, ".nbviz-cam canvas[data-role=canvas]")
    page.select_option("select[data-role=method]", "layercam")
    page.wait_for_timeout(300)
    wait_for_cam_drawn(page)
    after = canvas_pixels(page, ".nbviz-cam canvas[data-role=canvas]")
    assert np.abs(after[..., :3].astype(int) - before[..., :3].astype(int)).mean() > 1.0
    screenshot(page.locator("body"), "report_cam.png")
    print(f"CAM-only report: {out.stat().st_size / 1e3:.0f} kB")
    assert page.console_errors == []
    assert page.blocked_requests == []


def test_png_snapshots(widgets, tmp_path):
    explorer, scatter = widgets
    cam_png = to_png(artifact_path("report_cam_snapshot.png"), explorer)
    tsne_png = to_png(artifact_path("report_tsne_snapshot.png"), scatter, dpi=80)
    cam_image = np.asarray(Image.open(cam_png).convert("RGB"))
    tsne_image = np.asarray(Image.open(tsne_png).convert("RGB"))
    assert cam_image.shape[0] > 400 and tsne_image.shape[1] > 400
    # The overlay is the photo blended with the map: many distinct colours, not a flat fill.
    assert len(np.unique(cam_image.reshape(-1, 3), axis=0)) > 5000
    # The scatter shows the 10 digit colours of the widget's palette.
    present = {tuple(int(h[i:i + 2], 16) for i in (1, 3, 5)) for h in TABLEAU10}
    colours = {tuple(c) for c in tsne_image.reshape(-1, 3)}
    assert len(present & colours) >= 8, "legend/markers use the widget's label colours"
    # Another class gives another picture; the live widget is left as it was.
    before = explorer.target
    explorer.target = explorer.top_classes(3)[2]
    try:
        other = np.asarray(Image.open(to_png(tmp_path / "other.png", explorer)).convert("RGB"))
    finally:
        explorer.target = before
    assert other.shape == cam_image.shape and np.abs(other.astype(int) - cam_image.astype(int)).mean() > 1.0
