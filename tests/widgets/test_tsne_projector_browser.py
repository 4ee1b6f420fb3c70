"""TSNEScatter as an embedding projector in a real JupyterLab: search highlights exactly what
`scatter.search` returns, an invalid regex shows inline, clicking a point focuses it in the kernel
and draws lines to its true neighbours with the kept count, and a legend eye hides its points."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from harness import wait_for_file

N_POINTS = 1500
QUERIES = ["ing", "/^[0-9]+$/", "THE"]

SETUP = f"""
import json, pathlib
import numpy as np
from nbviz import TSNEScatter
from nbviz.data import text_embeddings
X, tokens = text_embeddings(special=False)
rows = np.random.default_rng(0).choice(len(tokens), {N_POINTS}, replace=False)
X, tokens = X[rows], [tokens[i] for i in rows]
kind = np.array(["subword" if t.startswith("##") else "word" for t in tokens])
w = TSNEScatter(X, texts=tokens, labels=kind, random_state=0, n_iter=250, early_exaggeration_iter=80)
expected = {{q: w.search(q) for q in {QUERIES!r}}}
w.search("")
pathlib.Path("projector_expected.json").write_text(json.dumps(expected))
def dump(name):
    def write(change):
        pathlib.Path(name + ".tmp").write_text(json.dumps({{"value": change["new"], "neighbors": w.focus_neighbors}}))
        pathlib.Path(name + ".tmp").replace(name + ".json")
    return write
w.observe(dump("projector_highlight"), "highlight")
w.observe(dump("projector_focus"), "focus_neighbors")
w
"""

HOOK = "() => document.querySelector('.nbviz-tsne').nbviz"
KEPT_RGB = (26, 127, 55)
LOST_RGB = (180, 35, 24)


def plot_pixels(widget) -> np.ndarray:
    png = widget.locator(".plot").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def wait_for_frames_drawn(page, widget, count: int, timeout_ms: int) -> None:
    """Wait until the view has drawn `count` streamed frames; on a timeout, fail with what the
    view and the page say (frames received and drawn, the badge, visibility, console errors)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(f"() => ({HOOK})().stats().framesDrawn >= {count}", timeout=timeout_ms)
    except PlaywrightTimeout:
        stats = page.evaluate(f"() => ({HOOK})().stats()")
        seen = {key: stats.get(key) for key in ("framesReceived", "framesDrawn", "draws", "lastIteration", "dropped", "mode")}
        raise AssertionError(
            f"fewer than {count} frames drawn in {timeout_ms / 1000:.0f} s: {seen}, badge "
            f"{widget.locator('.badge').first.inner_text()!r}, page {page.evaluate('document.visibilityState')}, "
            f"console errors {page.console_errors[-5:]}"
        ) from None


def near_colour(pixels: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 30) -> int:
    return int((np.abs(pixels - np.array(rgb)).max(axis=-1) <= tolerance).sum())


@pytest.mark.browser
def test_search_focus_and_legend_in_jupyterlab(lab, screenshot):
    page = lab.open_notebook([SETUP], "tsne_projector.ipynb")
    widget = page.locator(".nbviz-tsne").first
    widget.wait_for(timeout=60_000)
    widget.locator(".badge", has_text="Finished").wait_for(timeout=180_000)
    expected = json.loads(wait_for_file(lab.root / "projector_expected.json", timeout=30))
    box = widget.get_by_label("Search points")

    # 1. Typing a query highlights exactly the points scatter.search returned, in the page and,
    #    once typing pauses, in the kernel's `highlight`.
    for query in QUERIES:
        box.fill(query)
        page.wait_for_function(f"() => ({HOOK})().highlighted().length === {len(expected[query])}", timeout=10_000)
        assert page.evaluate(f"() => ({HOOK})().highlighted()") == expected[query], query
        widget.locator(".search .status", has_text=f"{len(expected[query]):,} match").wait_for(timeout=5_000)
    assert len(expected["ing"]) > 5
    kernel = json.loads(wait_for_file(lab.root / "projector_highlight.json", timeout=30,
                                      predicate=lambda t: json.loads(t)["value"] == expected[QUERIES[-1]]))
    assert kernel["value"] == expected[QUERIES[-1]]
    box.fill("ing")
    box.press("Enter")  # zooms to the matches
    page.wait_for_timeout(400)
    screenshot(widget, "tsne_projector_search.png")

    # 2. An invalid or empty regex: an inline message, nothing highlighted, no console error.
    for bad in ("/(/", "//"):
        box.fill(bad)
        widget.locator(".search .status.error").wait_for(timeout=5_000)
        assert page.evaluate(f"() => ({HOOK})().highlighted()") == []
    assert "Invalid regular expression" in widget.locator(".search .status").inner_text() or "empty" in \
        widget.locator(".search .status").inner_text()
    screenshot(widget, "tsne_projector_bad_regex.png")
    box.fill("")
    widget.get_by_role("button", name="Reset the view (double-click)").click()

    # 3. Clicking a point sets `focus` in the kernel, which answers with its 10 true neighbours;
    #    the view lists them, draws lines to them, and counts how many the layout keeps.
    rect = widget.locator(".plot").bounding_box()
    points = np.array(page.evaluate(f"""() => {{
        const h = ({HOOK})(); const out = [];
        for (let i = 0; i < {N_POINTS}; i += 1) out.push(h.screenPosition(i));
        return out; }}"""))
    d = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    inside = (points[:, 0] > 80) & (points[:, 0] < rect["width"] - 80) & (points[:, 1] > 60) & (points[:, 1] < rect["height"] - 60)
    target = int(np.argmax(np.where(inside, d.min(axis=1), 0)))
    before = plot_pixels(widget)
    page.mouse.click(rect["x"] + points[target, 0], rect["y"] + points[target, 1])
    focus = json.loads(wait_for_file(lab.root / "projector_focus.json", timeout=30,
                                     predicate=lambda t: len(json.loads(t)["value"]) == 10))
    neighbors = focus["value"]
    rows = widget.locator("ol.neighbors li")
    rows.nth(9).wait_for(timeout=10_000)
    assert [int(rows.nth(r).get_attribute("data-index")) for r in range(10)] == neighbors
    in_layout = set(np.argsort(d[target], kind="stable")[:10].tolist())
    kept = len(in_layout & set(neighbors))
    widget.locator(".focus .kept", has_text=f"{kept} of 10 kept in the layout").wait_for(timeout=10_000)
    assert set(page.evaluate(f"() => ({HOOK})().layoutNeighbors()")) == in_layout
    page.wait_for_timeout(300)
    after = plot_pixels(widget)
    lines = near_colour(after, KEPT_RGB) + near_colour(after, LOST_RGB) - near_colour(before, KEPT_RGB) - near_colour(before, LOST_RGB)
    assert lines > 50, f"no neighbour lines drawn ({lines} line-coloured pixels)"
    assert widget.locator(".kept-readout").inner_text().startswith("Layout keeps ")
    screenshot(widget, "tsne_projector_focus.png")

    # 4. The legend's eye hides a label's points (`hidden_labels`), and shows them again.
    widget.get_by_role("button", name="Hide the points of subword").click()
    widget.get_by_role("button", name="Show the points of subword").wait_for(timeout=5_000)
    page.wait_for_timeout(300)
    hidden = plot_pixels(widget)
    screenshot(widget, "tsne_projector_hidden_label.png")
    widget.get_by_role("button", name="Show the points of subword").click()
    page.wait_for_timeout(300)
    assert np.abs(hidden - plot_pixels(widget)).sum(axis=-1).astype(bool).mean() > 0.001
    assert not page.console_errors, page.console_errors


SETUP_3D = """
from nbviz import TSNEScatter
from nbviz.data import digits
X, y = digits()
w3 = TSNEScatter(X[:600], labels=y[:600], texts=[f"digit {v} #{i}" for i, v in enumerate(y[:600])],
                 n_components=3, random_state=0, n_iter=3000, autostart=False)
w3
"""
# 3,000 iterations: the 600 points' 1,000 took under 5 s on a quiet 2-core machine, and a browser
# slowed by a full test run may draw a frame only every few seconds (frames that arrive between
# two draws are skipped), so a short run could end before 5 frames were drawn.


@pytest.mark.browser
def test_3d_cloud_streams_orbits_on_drag_and_hovers_in_jupyterlab(lab, screenshot):
    page = lab.open_notebook([SETUP_3D], "tsne_projector_3d.ipynb")
    widget = page.locator(".nbviz-tsne").first
    widget.wait_for(timeout=60_000)
    # It streams like the 2-D plot: frames arrive and are drawn while the run goes on (started
    # from the view, so a run on a fast machine cannot end before the view is there to draw it).
    widget.get_by_role("button", name="Play", exact=True).click()
    wait_for_frames_drawn(page, widget, 5, timeout_ms=60_000)
    assert "drag: orbit" in widget.locator(".hint").inner_text()
    widget.locator(".badge", has_text="Finished").wait_for(timeout=180_000)
    page.wait_for_timeout(300)
    before = plot_pixels(widget)
    where = f"() => ({HOOK})().screenPosition(7)"
    start = page.evaluate(where)
    screenshot(widget, "tsne_projector_3d_before.png")

    # Drag across the plot: the cloud turns (pixels and the projected position of a point move).
    rect = widget.locator(".plot").bounding_box()
    x0, y0 = rect["x"] + rect["width"] * 0.3, rect["y"] + rect["height"] * 0.5
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x0 + 18 * step, y0 + 4 * step)
    page.mouse.up()
    page.wait_for_timeout(400)
    after = plot_pixels(widget)
    moved = np.hypot(*(np.array(page.evaluate(where)) - np.array(start)))
    assert moved > 5, f"point 7 moved only {moved:.1f} px on screen"
    assert (np.abs(before - after).sum(axis=-1) > 30).mean() > 0.005
    screenshot(widget, "tsne_projector_3d_rotated.png")

    # Hover still finds the point under the cursor in the turned view.
    positions = np.array(page.evaluate(f"""() => {{ const h = ({HOOK})(); const out = [];
        for (let i = 0; i < 600; i += 1) out.push(h.screenPosition(i)); return out; }}"""))
    d = np.linalg.norm(positions[:, None] - positions[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    inside = (positions[:, 0] > 60) & (positions[:, 0] < rect["width"] - 60) & (positions[:, 1] > 60) & (positions[:, 1] < rect["height"] - 60)
    target = int(np.argmax(np.where(inside, d.min(axis=1), 0)))
    page.mouse.move(rect["x"] + positions[target, 0], rect["y"] + positions[target, 1])
    tooltip = widget.locator(".tooltip")
    tooltip.wait_for(state="visible", timeout=10_000)
    assert tooltip.get_attribute("data-index") == str(target)
    screenshot(widget, "tsne_projector_3d_hover.png")

    # The PCA toggle morphs to the 3-D PCA start, seen through the same turned camera.
    page.mouse.move(rect["x"] + 5, rect["y"] + rect["height"] - 5)
    tsne_pixels = plot_pixels(widget)
    widget.get_by_role("button", name="Show the PCA start layout").click()
    page.wait_for_function(f"() => ({HOOK})().stats().morph === 1", timeout=10_000)
    page.wait_for_timeout(200)
    assert (np.abs(plot_pixels(widget) - tsne_pixels).sum(axis=-1) > 30).mean() > 0.005
    screenshot(widget, "tsne_projector_3d_pca.png")
    assert not page.console_errors, page.console_errors
