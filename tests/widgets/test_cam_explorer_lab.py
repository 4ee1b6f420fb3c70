"""CAMExplorer in a real JupyterLab (headless Chromium): it renders, its controls change the overlay
pixels, the kernel sees every selection, slow methods show progress and can be cancelled, engine
errors are readable, and the view keeps working. One notebook, many states; a screenshot of each."""
from __future__ import annotations

import json
import re

import pytest

from harness import wait_for_file

SETUP = '''
import json, pathlib
from nbviz import CAMExplorer
from nbviz.data import sample_image
explorer = CAMExplorer(None, [sample_image("chelsea"), sample_image("coffee")], topk=5)
def _dump(change=None):
    state = {name: getattr(explorer, name) for name in ("layer", "target", "method", "image_index", "opacity", "colormap")}
    # Write then rename, so the test never reads a half-written file.
    pathlib.Path("cam_state.json.tmp").write_text(json.dumps(state))
    pathlib.Path("cam_state.json.tmp").replace("cam_state.json")
explorer.observe(_dump, names=["layer", "target", "method", "image_index", "opacity", "colormap"])
_dump()
pathlib.Path("cam_cost.json").write_text(json.dumps(explorer._cost))

import threading, time
def _remote_control():
    """The test sets traits from Python by writing cam_command.json (as a user would in a cell)."""
    path = pathlib.Path("cam_command.json")
    while True:
        if path.exists():
            command = json.loads(path.read_text())
            path.unlink()
            for name, value in command.items():
                setattr(explorer, name, value)
        time.sleep(0.05)
threading.Thread(target=_remote_control, daemon=True).start()
'''
SHOW = "explorer"

# Sum of the canvas's RGB values in a grid of cells: changes whenever the overlay changes.
PIXELS = """(canvas) => {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  const data = ctx.getImageData(0, 0, width, height).data;
  const cells = [];
  for (let gy = 0; gy < 8; gy += 1) for (let gx = 0; gx < 8; gx += 1) {
    let sum = 0;
    for (let y = Math.floor(gy * height / 8); y < Math.floor((gy + 1) * height / 8); y += 4)
      for (let x = Math.floor(gx * width / 8); x < Math.floor((gx + 1) * width / 8); x += 4) {
        const i = (y * width + x) * 4; sum += data[i] + data[i + 1] + data[i + 2];
      }
    cells.push(sum);
  }
  return cells;
}"""


def _differs(a: list[int], b: list[int]) -> float:
    """Mean relative change of the per-cell sums."""
    return sum(abs(x - y) for x, y in zip(a, b)) / max(1, sum(a))


def _painted(root, key: str, timeout: float = 60_000):
    root.page.wait_for_function(
        "([el, key]) => el.dataset.paintedKey === key", arg=[root.element_handle(), key], timeout=timeout
    )


def _state(lab, predicate):
    return json.loads(wait_for_file(lab.root / "cam_state.json", timeout=30, predicate=lambda t: predicate(json.loads(t))))


@pytest.mark.browser
def test_cam_explorer_in_jupyterlab(lab, screenshot, tmp_path):
    page = lab.open_notebook([SETUP, SHOW], "cam_explorer_lab.ipynb", timeout=180)
    root = page.locator(".nbviz-cam").first
    root.wait_for(timeout=60_000)
    canvas = root.locator("canvas.cam-main")
    state = _state(lab, lambda s: True)
    key = f"0|{state['layer']}|{state['target']}|gradcam"
    _painted(root, key)
    # The test build's paint hook (what benchmarks/cam_explorer_latency.py reads) saw that paint.
    hook = root.evaluate(
        "async (el) => ({ key: el.__nbvizCam.currentKey(), at: await el.__nbvizCam.waitForPaint(el.dataset.paintedKey),"
        " painted: el.__nbvizCam.paints.map((p) => p.key) })"
    )
    assert hook["key"] == key and key in hook["painted"] and hook["at"] > 0
    assert root.locator("[data-role=classes] .cam-class").count() == 5
    assert "cat" in root.locator(".cam-class.cam-selected").inner_text()
    screenshot(root, "cam_01_initial.png")
    initial = canvas.evaluate(PIXELS)

    # Another class from the top-k list: new overlay, and the kernel sees the new target.
    second = root.locator("[data-role=classes] .cam-class").nth(1)
    new_target = int(second.get_attribute("data-class"))
    second.click()
    _painted(root, f"0|{state['layer']}|{new_target}|gradcam")
    assert _state(lab, lambda s: s["target"] == new_target)["target"] == new_target
    after_class = canvas.evaluate(PIXELS)
    assert _differs(initial, after_class) > 0.01
    screenshot(root, "cam_02_class_changed.png")

    # Another method from the dropdown.
    root.locator("select[data-role=method]").select_option("gradcam++")
    _painted(root, f"0|{state['layer']}|{new_target}|gradcam++")
    assert _state(lab, lambda s: s["method"] == "gradcam++")["method"] == "gradcam++"
    after_method = canvas.evaluate(PIXELS)
    assert _differs(after_class, after_method) > 0.001
    screenshot(root, "cam_03_method_changed.png")

    # Hover readout: the map value under the cursor.
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    value = float(root.locator("[data-role=readout-value]").inner_text())
    assert 0.0 <= value <= 1.0

    # A slow method: progress bar with a cancel button; cancelling stops the kernel's work. Score-CAM
    # at the last layer makes 1,280 passes, estimated above the threshold: it starts on a click.
    cost = json.loads(wait_for_file(lab.root / "cam_cost.json", timeout=30))
    costly = {m for m, s in cost["seconds"][state["layer"]].items() if s > cost["confirm_above_s"]}
    assert "scorecam" in costly
    root.locator("select[data-role=method]").select_option("scorecam")
    root.locator("[data-role=confirm-compute]").click()
    progress = root.locator("[data-role=progress]")
    progress.wait_for(timeout=30_000)
    page.wait_for_function(
        "(el) => /\\d+ \\/ \\d+/.test(el.textContent)", arg=root.locator("[data-role=status]").element_handle(),
        timeout=60_000,
    )
    screenshot(root, "cam_04_scorecam_progress.png")
    # Progress updates change the panel in place: the Cancel button a user aims at is the same
    # node after the next update (a replaced button between mouse down and up loses the click).
    cancel = root.locator("[data-role=cancel]")
    cancel.evaluate("(button) => { button.dataset.marked = 'yes'; }")
    status = root.locator("[data-role=status]")
    before = status.evaluate("(el) => el.textContent")
    page.wait_for_function("([el, text]) => el.textContent !== text", arg=[status.element_handle(), before], timeout=60_000)
    assert cancel.get_attribute("data-marked") == "yes"
    cancel.click()
    page.wait_for_function("(el) => el.dataset.status === 'cancelled'", arg=root.element_handle(), timeout=60_000)
    screenshot(root, "cam_05_scorecam_cancelled.png")

    # The widget stays usable: a fast method paints again right after.
    root.locator("select[data-role=method]").select_option("layercam")
    _painted(root, f"0|{state['layer']}|{new_target}|layercam")

    # Search over all classes by name, then pick a match.
    root.locator("[data-role=class-search]").fill("tiger")
    rows = root.locator("[data-role=classes] .cam-class")
    names = [rows.nth(i).locator(".cam-name").inner_text() for i in range(rows.count())]
    assert names and all("tiger" in n.lower() for n in names)
    screenshot(root, "cam_06_search.png")
    pick = rows.filter(has=page.locator(".cam-name", has_text=re.compile("^tiger$")))
    picked = int(pick.get_attribute("data-class"))
    assert picked not in [int(c) for c in root.locator("[data-role=classes]").get_attribute("data-topk").split(",")]
    pick.click()
    _painted(root, f"0|{state['layer']}|{picked}|layercam")
    assert _state(lab, lambda s: s["target"] == picked)["target"] == picked

    # Compare: every method estimated below the threshold side by side at once.
    root.locator("[data-role=compare-toggle]").click()
    tiles = root.locator("[data-role=compare] .cam-tile")
    # The costly tiles' "Compute" buttons survive the grid's redraws as the cheap maps arrive.
    compute_button = root.locator("[data-role=compare] [data-role=compute-tile]").first
    compute_button.evaluate("(button) => { button.dataset.marked = 'yes'; }")
    page.wait_for_function(
        "([el, n]) => [...el.querySelectorAll('.cam-tile')].filter((t) => t.dataset.state === 'ready').length === n",
        arg=[root.locator("[data-role=compare]").element_handle(), 14 - len(costly)], timeout=90_000,
    )
    assert tiles.count() == 14
    assert root.locator("[data-role=compare] [data-role=compute-tile]").count() == len(costly)  # on request
    assert compute_button.get_attribute("data-marked") == "yes"
    screenshot(root, "cam_07_compare.png")
    root.locator("[data-role=compare] .cam-tile[data-method=gradcam]").click()
    _painted(root, f"0|{state['layer']}|{picked}|gradcam")

    # Python sets the traits (as a notebook cell would): the view follows.
    (lab.root / "cam_command.tmp").write_text(json.dumps({"method": "xgradcam", "target": new_target}))
    (lab.root / "cam_command.tmp").replace(lab.root / "cam_command.json")
    _painted(root, f"0|{state['layer']}|{new_target}|xgradcam")
    assert root.locator("select[data-role=method]").input_value() == "xgradcam"
    assert root.locator(f".cam-class.cam-selected[data-class='{new_target}']").count() == 1

    # Download the current view as a PNG.
    with page.expect_download() as download:
        root.locator("[data-role=download]").click()
    path = tmp_path / "view.png"
    download.value.save_as(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Deletion / insertion scores on request.
    root.locator("[data-role=scores]").click()
    root.locator("[data-role=scores-text]", has_text="Insertion AUC").wait_for(timeout=120_000)
    screenshot(root, "cam_08_scores.png")

    # An engine error is a readable message; the widget stays usable.
    root.locator("select[data-role=layer]").select_option("stem.conv")
    root.locator("select[data-role=method]").select_option("cam")
    page.wait_for_function("(el) => el.dataset.status === 'error'", arg=root.element_handle(), timeout=60_000)
    message = root.locator("[data-role=error-message]").inner_text()
    assert len(message) > 20 and "Traceback" not in message
    screenshot(root, "cam_09_error.png")
    root.locator("select[data-role=method]").select_option("gradcam")
    _painted(root, f"0|stem.conv|{new_target}|gradcam")

    # Second image from the thumbnail strip: its top class is selected.
    root.locator("[data-role=thumbnails] [data-image='1']").click()
    coffee = _state(lab, lambda s: s["image_index"] == 1)
    _painted(root, f"1|stem.conv|{coffee['target']}|gradcam")
    root.locator("select[data-role=colormap]").select_option("viridis")
    _state(lab, lambda s: s["colormap"] == "viridis")
    screenshot(root, "cam_10_second_image.png")
    assert page.console_errors == []
