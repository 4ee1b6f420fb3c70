"""ModelLens in a real JupyterLab (headless Chromium), and its report offline with the network blocked.

Clicking a point (a digit the model gets wrong) shows that digit in the explorer with its map and
the kernel sees `focus`; a lasso fills the group panel with the group's mean map and a grid of maps;
in the exported file a click on a saved point paints its map, a point beyond `max_images` says its
map is not saved, and a lasso averages the saved maps. A screenshot of each state.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from harness import wait_for_file

N_POINTS = 200
MAX_IMAGES = 60
SETUP = f'''
import json, pathlib, threading, time
import nbviz
from nbviz.data import digits_example
ex = digits_example()
lens = nbviz.ModelLens(ex.model, list(ex.images[:{N_POINTS}]), labels=ex.labels[:{N_POINTS}], classes=ex.classes,
                       progress=False, random_state=0, n_iter=400, early_exaggeration_iter=100)
lens.scatter.wait(300)

def _dump(change=None):
    s, e = lens.scatter, lens.explorer
    state = dict(focus=s.focus, selection=list(s.selection), image_index=e.image_index, target=e.target,
                 layer=e.layer, method=e.method, group_status=lens.group_status,
                 group_indices=list(lens.group_indices), misclassified=lens.misclassified,
                 predicted=lens.features.predicted.tolist())
    pathlib.Path("lens_state.json.tmp").write_text(json.dumps(state))
    pathlib.Path("lens_state.json.tmp").replace("lens_state.json")
lens.scatter.observe(_dump, names=["focus", "selection"])
lens.explorer.observe(_dump, names=["image_index", "target"])
lens.observe(_dump, names=["group_status", "group_indices"])
_dump()

def _remote_control():
    """The test asks for a report by writing lens_command.json (as a user would run a cell)."""
    path = pathlib.Path("lens_command.json")
    while True:
        if path.exists():
            command = json.loads(path.read_text())
            path.unlink()
            out = nbviz.to_html(command["export"], lens, max_images=command["max_images"])
            pathlib.Path("lens_exported.txt").write_text(str(out))
        time.sleep(0.05)
threading.Thread(target=_remote_control, daemon=True).start()
'''
SHOW = "lens"
SCATTER_HOOK = "document.querySelector('.nbviz-lens .nbviz-tsne').nbviz"

PIXELS = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let sum = 0; for (let i = 0; i < data.length; i += 4) sum += data[i] + 3 * data[i + 1] + 7 * data[i + 2];
  return sum;
}"""


def _state(root, predicate, timeout=60):
    return json.loads(wait_for_file(root / "lens_state.json", timeout=timeout, predicate=lambda t: predicate(json.loads(t))))


def _positions(page):
    return np.array(page.evaluate(f"""() => {{ const h = {SCATTER_HOOK}; const out = [];
        for (let i = 0; i < {N_POINTS}; i += 1) out.push(h.screenPosition(i)); return out; }}"""))


def _isolated(points, candidates, rect):
    """The candidate point farthest from its nearest neighbour, away from the plot's edges."""
    d = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    ok = [i for i in candidates if 40 < points[i, 0] < rect["width"] - 40 and 40 < points[i, 1] < rect["height"] - 40]
    return max(ok, key=lambda i: d[i].min())


def _click_point(page, plot, points, i):
    rect = plot.bounding_box()
    page.mouse.click(rect["x"] + points[i, 0], rect["y"] + points[i, 1])


def _lasso(page, widget, plot, polygon):
    rect = plot.bounding_box()
    widget.get_by_role("button", name="Lasso-select points (or shift-drag)").click()
    page.mouse.move(rect["x"] + polygon[0][0], rect["y"] + polygon[0][1])
    page.mouse.down()
    for a, b in zip(polygon, polygon[1:] + polygon[:1]):
        for t in np.linspace(0, 1, 6)[1:]:
            page.mouse.move(rect["x"] + a[0] + (b[0] - a[0]) * t, rect["y"] + a[1] + (b[1] - a[1]) * t)
    page.mouse.up()


def _report_focus(page, previous):
    """The focus of the report's scatter model (an embedded child) once it differs from `previous`."""
    return page.wait_for_function("""async (previous) => {
        const scatter = await window.nbvizReport.children.model("w0.scatter");
        const focus = scatter.get("focus");
        return focus !== previous ? focus : false;
    }""", arg=previous, timeout=30_000).json_value()


def _painted(cam, key, timeout=60_000):
    cam.page.wait_for_function("([el, key]) => el.dataset.paintedKey === key", arg=[cam.element_handle(), key], timeout=timeout)


@pytest.mark.browser
def test_model_lens_in_jupyterlab_and_its_offline_report(lab, page_for_html, screenshot, tmp_path):
    page = lab.open_notebook([SETUP, SHOW], "model_lens_lab.ipynb", timeout=300)
    lens = page.locator(".nbviz-lens").first
    lens.locator(".nbviz-cam").wait_for(timeout=120_000)
    lens.locator(".nbviz-tsne").wait_for(timeout=120_000)
    scatter_widget = lens.locator(".nbviz-tsne").first
    plot = scatter_widget.locator(".plot").first
    cam = lens.locator(".nbviz-cam").first
    state = _state(lab.root, lambda s: True)
    assert len(state["misclassified"]) > 0
    page.wait_for_function(f"() => {SCATTER_HOOK}.layoutIsStatic()", timeout=60_000)
    screenshot(lens, "lens_1_start.png")

    # 1. Click a misclassified digit: the kernel sees focus, the explorer shows that image with the
    #    predicted class, and the painted map changes the canvas.
    points = _positions(page)
    target = _isolated(points, state["misclassified"], plot.bounding_box())
    canvas = cam.locator("canvas.cam-main")
    before = canvas.evaluate(PIXELS)
    _click_point(page, plot, points, target)
    state = _state(lab.root, lambda s: s["focus"] == target and s["image_index"] == target)
    assert state["target"] == state["predicted"][target]
    _painted(cam, f"{target}|{state['layer']}|{state['target']}|{state['method']}")
    assert canvas.evaluate(PIXELS) != before
    screenshot(lens, "lens_2_clicked_mistake.png")

    # 2. Lasso the middle of the plot: the kernel computes the group; the panel shows its mean map
    #    and one cell per image.
    rect = plot.bounding_box()
    w, h = rect["width"], rect["height"]
    polygon = [(w * 0.3, h * 0.3), (w * 0.7, h * 0.3), (w * 0.7, h * 0.7), (w * 0.3, h * 0.7)]
    _lasso(page, scatter_widget, plot, polygon)
    state = _state(lab.root, lambda s: s["group_status"] == "done" and s["selection"]
                   and s["group_indices"] == s["selection"][:200], timeout=120)
    panel = lens.locator(".lens-panel")
    page.wait_for_function("(el) => el.dataset.groupStatus === 'done'", arg=panel.element_handle(), timeout=30_000)
    cells = panel.locator("[data-role=group-grid] button")
    assert cells.count() == min(48, len(state["group_indices"]))
    assert int(cells.first.get_attribute("data-point")) == state["group_indices"][0]
    assert panel.locator("[data-role=group-mean]").evaluate(PIXELS) > 0
    panel.scroll_into_view_if_needed()
    screenshot(panel, "lens_3_lasso_group_panel.png")
    screenshot(lens, "lens_3_lasso_group.png")

    # 3. Export with maps for MAX_IMAGES points, open it offline, click a saved point and one beyond.
    report = tmp_path / "lens_report.html"
    (lab.root / "lens_command.json").write_text(json.dumps({"export": str(report), "max_images": MAX_IMAGES}))
    wait_for_file(lab.root / "lens_exported.txt", timeout=120)
    offline = page_for_html(report, wait_for=".nbviz-lens .nbviz-cam")
    o_lens = offline.locator(".nbviz-lens").first
    o_scatter = o_lens.locator(".nbviz-tsne").first
    # The report replays the recorded run first; wait for its end (the settled layout).
    offline.wait_for_function(f"""() => {{
        const h = {SCATTER_HOOK};
        if (!h) return false;
        window.sawReplay = window.sawReplay || h.stats().mode === "replay";
        return window.sawReplay && h.stats().mode === "live" && h.layoutIsStatic();
    }}""", timeout=120_000)
    o_plot = o_scatter.locator(".plot").first
    o_cam = o_lens.locator(".nbviz-cam").first
    o_points = _positions(offline)
    saved = [target] + sorted(set(state["selection"]) - {target})
    saved += [i for i in state["misclassified"] if i not in saved]
    saved += [i for i in range(N_POINTS) if i not in saved]
    saved = saved[:MAX_IMAGES]
    pick = _isolated(o_points, [i for i in saved if i != target], o_plot.bounding_box())
    _click_point(offline, o_plot, o_points, pick)
    assert _report_focus(offline, -1) == pick
    _painted(o_cam, f"{pick}|{state['layer']}|{state['predicted'][pick]}|{state['method']}")
    screenshot(o_lens, "lens_4_report_saved_point.png")
    beyond = _isolated(o_points, [i for i in range(N_POINTS) if i not in saved], o_plot.bounding_box())
    _click_point(offline, o_plot, o_points, beyond)
    assert _report_focus(offline, pick) == beyond
    o_cam.locator("[data-role=status]", has_text="not saved in this report").first.wait_for(timeout=30_000)
    screenshot(o_lens, "lens_5_report_not_saved.png")

    # The report opens on the selection it was saved with, its group averaged from the saved maps.
    o_panel = o_lens.locator(".lens-panel")
    o_status = o_panel.locator("[data-role=group-status]")
    assert o_panel.get_attribute("data-group-status") == "done"
    assert f"among {len(state['selection'])} selected" in o_status.inner_text()
    # A lasso in the report around a saved point averages the saved maps of what it selects; a
    # lasso holding no saved point says so and hides the previous group.
    x, y = o_points[pick]
    _lasso(offline, o_scatter, o_plot, [(x - 12, y - 12), (x + 12, y - 12), (x + 12, y + 12), (x - 12, y + 12)])
    offline.wait_for_function("(el) => el.dataset.groupStatus === 'done'", arg=o_panel.element_handle(), timeout=30_000)
    assert "saved map" in o_status.inner_text()
    assert pick in [int(v) for v in o_panel.locator("[data-role=group-grid] button").evaluate_all(
        "(cells) => cells.map((c) => c.dataset.point)")]
    screenshot(offline, "lens_6_report_lasso.png")
    x, y = o_points[beyond]
    _lasso(offline, o_scatter, o_plot, [(x - 3, y - 3), (x + 3, y - 3), (x + 3, y + 3), (x - 3, y + 3)])
    offline.wait_for_function("(el) => el.dataset.groupStatus === 'error'", arg=o_panel.element_handle(), timeout=30_000)
    assert "none of the selected points" in o_status.inner_text()
    assert not o_panel.locator("[data-role=group-grid]").is_visible()
    assert offline.blocked_requests == []
    assert offline.console_errors == []
