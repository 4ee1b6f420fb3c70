"""TSNEScatter in a real JupyterLab (headless Chromium, SwiftShader WebGL) and as an offline report."""
from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest
from PIL import Image

from harness import wait_for_file

N_POINTS = 600

SETUP = f"""
import json, pathlib
from nbviz.data import digits
from nbviz import TSNEScatter
X, y = digits()
X, y = X[:{N_POINTS}], y[:{N_POINTS}]
texts = [f"digit {{v}} (sample {{i}})" for i, v in enumerate(y)]
w = TSNEScatter(X, labels=y, texts=texts, images=X.reshape(-1, 8, 8), random_state=0,
                n_iter=100_000, title="Digits")
def _dump_selection(change):
    pathlib.Path("tsne_selection.tmp").write_text(json.dumps(change["new"]))
    pathlib.Path("tsne_selection.tmp").replace("tsne_selection.json")
w.observe(_dump_selection, "selection")
w
"""

# Page-side helpers: where each point is drawn (CSS px in the page) and the tooltip's text.
POSITIONS_JS = """() => {
  const root = document.querySelector('.nbviz-tsne');
  const rect = root.querySelector('.plot').getBoundingClientRect();
  const out = [];
  for (let i = 0; i < %d; i += 1) {
    const [x, y] = root.nbviz.screenPosition(i);
    out.push([rect.left + x, rect.top + y]);
  }
  return {points: out, rect: [rect.left, rect.top, rect.width, rect.height]};
}""" % N_POINTS


def plot_pixels(page) -> np.ndarray:
    """The plot area as an RGB array (a screenshot of the canvas element)."""
    png = page.locator(".nbviz-tsne .plot canvas").first.screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def stats(page) -> dict:
    return page.evaluate("() => document.querySelector('.nbviz-tsne').nbviz.stats()")


def isolated_point(points: np.ndarray, rect, min_gap: float = 8.0) -> int:
    """A point well inside the plot whose nearest neighbour on screen is at least min_gap px away."""
    left, top, width, height = rect
    distances = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
    np.fill_diagonal(distances, np.inf)
    margin = 60
    inside = (
        (points[:, 0] > left + margin) & (points[:, 0] < left + width - margin)
        & (points[:, 1] > top + margin) & (points[:, 1] < top + height - margin)
    )
    gaps = np.where(inside, distances.min(axis=1), 0)
    best = int(np.argmax(gaps))
    assert gaps[best] >= min_gap, "no isolated point to hover"
    return best


def point_in_polygon(x: float, y: float, polygon: list[tuple[float, float]]) -> bool:
    inside = False
    j = len(polygon) - 1
    for i in range(len(polygon)):
        xi, yi = polygon[i]
        xj, yj = polygon[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


@pytest.mark.browser
def test_tsne_scatter_streams_pauses_hovers_and_lassos_in_jupyterlab(lab, screenshot):
    page = lab.open_notebook([SETUP, "w.exaggeration = -1.0  # bad input, shown in the widget"],
                             "tsne_scatter_live.ipynb")
    widget = page.locator(".nbviz-tsne").first
    widget.wait_for(timeout=60_000)

    # 0. A bad setting is reported inside the widget, which carries on; the banner can be dismissed.
    banner = widget.locator(".banner.error")
    banner.wait_for(state="visible", timeout=30_000)
    assert "exaggeration -1 was not applied" in banner.inner_text()
    assert "positive" in banner.inner_text()
    screenshot(widget, "tsne_scatter_error.png")
    banner.get_by_role("button", name="Dismiss").click()
    banner.wait_for(state="hidden", timeout=10_000)
    page.wait_for_function(
        "() => document.querySelector('.nbviz-tsne').nbviz.stats().framesDrawn >= 5", timeout=60_000
    )

    # 1. It animates: the drawn points change between two samples, and frames keep arriving. By now
    #    a fast machine has nearly converged 600 points (measured: no point moving 1 px in 1.5 s),
    #    so the run restarts first and is sampled while its layout still unfolds.
    frames = stats(page)["framesDrawn"]
    widget.get_by_role("button", name="Restart from the initial layout").click()
    page.wait_for_function(
        f"() => document.querySelector('.nbviz-tsne').nbviz.stats().framesDrawn >= {frames + 3}", timeout=60_000
    )
    first = plot_pixels(page)
    first_positions = np.array(page.evaluate(POSITIONS_JS)["points"])
    drawn_before = stats(page)["framesDrawn"]
    # The chrome re-syncs on every KL update; the Pause button's icon must stay the same node, or a
    # click pressed on the old icon and released on the new one would be lost.
    pause_icon = widget.get_by_role("button", name="Pause").locator("svg")
    pause_icon.evaluate("(svg) => { svg.dataset.marked = 'yes'; }")
    kl_points = page.evaluate("() => document.querySelector('.nbviz-tsne').nbviz.stats().klPoints")
    time.sleep(1.5)
    second = plot_pixels(page)
    second_positions = np.array(page.evaluate(POSITIONS_JS)["points"])
    assert stats(page)["framesDrawn"] > drawn_before
    assert page.evaluate("() => document.querySelector('.nbviz-tsne').nbviz.stats().klPoints") > kl_points
    assert pause_icon.get_attribute("data-marked") == "yes"
    moved = np.linalg.norm(second_positions - first_positions, axis=1)
    assert moved.max() > 1.0, f"no point moved more than {moved.max():.2f} px while streaming"
    changed = np.abs(first - second).sum(axis=-1) > 30
    assert changed.mean() > 0.002, f"only {changed.mean():.4%} of the plot changed while streaming"
    screenshot(widget, "tsne_scatter_running.png")

    # 2. Pause freezes it: status badge says so and no pixel changes any more.
    widget.get_by_role("button", name="Pause").click()
    widget.locator(".badge", has_text="Paused").wait_for(timeout=30_000)
    time.sleep(0.5)  # let the settled layout land
    frozen = plot_pixels(page)
    frozen_frames = stats(page)["framesDrawn"]
    time.sleep(1.5)
    assert np.array_equal(frozen, plot_pixels(page)), "the plot changed while paused"
    assert stats(page)["framesDrawn"] <= frozen_frames + 1
    screenshot(widget, "tsne_scatter_paused.png")

    # 3. Hover shows the right text (and the thumbnail) for an isolated point.
    layout = page.evaluate(POSITIONS_JS)
    points = np.array(layout["points"])
    target = isolated_point(points, layout["rect"])
    page.mouse.move(*points[target])
    tooltip = widget.locator(".tooltip")
    tooltip.wait_for(state="visible", timeout=10_000)
    assert tooltip.get_attribute("data-index") == str(target)
    text = tooltip.locator(".text").inner_text()
    label = tooltip.locator(".meta").inner_text()
    assert text.endswith(f"(sample {target})")
    assert text.split()[1] == label.split()[0]  # "digit 3 ..." and the label row "3 · point ..."
    assert tooltip.locator("canvas").is_visible()
    screenshot(widget, "tsne_scatter_hover.png")

    # 4. Lasso: drag a polygon; exactly the points inside arrive in the kernel's `selection`.
    left, top, width, height = layout["rect"]
    polygon = [
        (left + width * 0.15, top + height * 0.2), (left + width * 0.55, top + height * 0.15),
        (left + width * 0.6, top + height * 0.6), (left + width * 0.3, top + height * 0.75),
        (left + width * 0.12, top + height * 0.5),
    ]
    widget.get_by_role("button", name="Lasso-select points (or shift-drag)").click()
    page.mouse.move(*polygon[0])
    page.mouse.down()
    for a, b in zip(polygon, polygon[1:] + polygon[:1]):
        for t in np.linspace(0, 1, 6)[1:]:
            page.mouse.move(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
    page.mouse.up()
    expected = sorted(i for i, (x, y) in enumerate(points) if point_in_polygon(x, y, polygon))
    assert len(expected) > 10
    received = json.loads(
        wait_for_file(lab.root / "tsne_selection.json", timeout=30, predicate=lambda t: t.strip() not in ("", "[]"))
    )
    # Points within a pixel of the lasso edge may fall either way (mouse positions are whole pixels).
    assert len(set(received) ^ set(expected)) <= max(2, len(expected) // 50), (len(received), len(expected))
    widget.locator(".selection", has_text="selected").wait_for(timeout=10_000)
    screenshot(widget, "tsne_scatter_lasso.png")

    # 5. PCA <-> t-SNE toggle animates to the PCA start and back.
    widget.get_by_role("button", name="Show the PCA start layout").click()
    page.wait_for_function("() => document.querySelector('.nbviz-tsne').nbviz.stats().morph === 1", timeout=10_000)
    pca_pixels = plot_pixels(page)
    assert not np.array_equal(pca_pixels, frozen)
    screenshot(widget, "tsne_scatter_pca.png")
    widget.get_by_role("button", name="Show the t-SNE layout").click()
    page.wait_for_function("() => document.querySelector('.nbviz-tsne').nbviz.stats().morph === 0", timeout=10_000)

    # 6. The timeline replays keyframes: scrubbing to the start shows an early layout.
    widget.get_by_role("button", name="Clear the selection").click()
    timeline = widget.get_by_label("Timeline of recorded keyframes")
    timeline.fill("1")
    widget.locator(".badge", has_text="Replay").wait_for(timeout=10_000)
    assert not np.array_equal(plot_pixels(page), frozen)
    screenshot(widget, "tsne_scatter_replay.png")
    widget.get_by_role("button", name="Back to the current layout").click()
    assert not page.console_errors, page.console_errors


@pytest.mark.browser
def test_tsne_scatter_report_replays_and_explores_offline(tmp_path, page_for_html, screenshot):
    from nbviz import TSNEScatter, to_html
    from nbviz.data import digits

    X, y = digits()
    X, y = X[:300], y[:300]
    widget = TSNEScatter(X, labels=y, texts=[f"digit {v} #{i}" for i, v in enumerate(y)],
                         random_state=0, n_iter=120, early_exaggeration_iter=40, autostart=False)
    widget.start()
    deadline = time.monotonic() + 60
    while widget.status != "finished" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert widget.keyframe_iterations == list(range(0, 121, 10))
    path = to_html(tmp_path / "tsne_report.html", widget, title="t-SNE report")
    widget.close()

    page = page_for_html(path, wait_for=".nbviz-tsne")
    root = page.locator(".nbviz-tsne").first
    root.locator(".badge", has_text="Saved report").wait_for(timeout=20_000)
    # Kernel-only controls are disabled and say why; the keyframe replay needs no kernel.
    assert root.get_by_role("button", name="Needs a running Python kernel (this is a saved report)").first.is_disabled()
    # The report opens by replaying the recorded run, then rests on the final layout.
    page.wait_for_function(
        "() => document.querySelector('.nbviz-tsne').nbviz.stats().mode === 'replay'", timeout=30_000
    )
    screenshot(root, "tsne_scatter_report_replaying.png")
    page.wait_for_function(
        "() => document.querySelector('.nbviz-tsne').nbviz.stats().mode === 'live'", timeout=30_000
    )
    assert page.blocked_requests == []
    layout = page.evaluate(POSITIONS_JS.replace(str(N_POINTS), "300"))
    points = np.array(layout["points"])
    target = isolated_point(points, layout["rect"])
    page.mouse.move(*points[target])
    tooltip = root.locator(".tooltip")
    tooltip.wait_for(state="visible", timeout=10_000)
    assert tooltip.locator(".text").inner_text() == f"digit {y[target]} #{target}"
    screenshot(root, "tsne_scatter_report.png")
    assert not page.console_errors, page.console_errors
