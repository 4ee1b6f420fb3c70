"""CAMExplorer in a real JupyterLab (headless Chromium), issue 16 items 4 and 6: a map estimated
above the threshold shows its estimate and waits for a click (method menu and compare grid) while
cheap ones start at once; compare-card titles fit; a blank map says why. Screenshots of each."""
from __future__ import annotations

import json

import pytest

from harness import wait_for_file

SETUP = '''
import json, pathlib
import torch
from torchvision import transforms
from nbviz import CAMExplorer
from nbviz.data import sample_image
explorer = CAMExplorer(None, sample_image("chelsea"), topk=5)
pathlib.Path("cam_cost.json").write_text(json.dumps({"layer": explorer.layer, **explorer._cost}))

class ZeroHead(torch.nn.Module):
    """A conv layer, pooling and a zero-initialised linear head: the score ignores the image."""
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.head = torch.nn.Linear(8, 4)
        torch.nn.init.zeros_(self.head.weight)
        torch.nn.init.zeros_(self.head.bias)
    def forward(self, x):
        return self.head(torch.relu(self.conv(x)).mean(dim=(2, 3)))

blank_explorer = CAMExplorer(ZeroHead(), sample_image("coffee"), labels=["a", "b", "c", "d"],
                             transform=transforms.Compose([transforms.Resize(64), transforms.CenterCrop(64),
                                                           transforms.ToTensor()]))
'''


def _round(seconds: float) -> str:
    """The front end's roundSeconds (js/src/cam/cost.js), for the labels the test expects."""
    if seconds < 10:
        return f"{max(1, round(seconds))} s"
    if seconds < 100:
        return f"{round(seconds / 5) * 5} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{round(seconds / 360) / 10} h"


@pytest.mark.browser
def test_costly_maps_wait_for_a_click_and_blank_maps_say_why(lab, screenshot):
    page = lab.open_notebook([SETUP, "explorer", "blank_explorer"], "cam_cost_lab.ipynb", timeout=240)
    cost = json.loads(wait_for_file(lab.root / "cam_cost.json", timeout=60))
    seconds = cost["seconds"][cost["layer"]]
    costly = {m for m, s in seconds.items() if s > cost["confirm_above_s"]}
    assert {"scorecam", "sscam", "iscam"} <= costly and "gradcam" not in costly  # >= 1280 passes vs one
    root = page.locator(".nbviz-cam").first
    root.wait_for(timeout=60_000)
    page.wait_for_function("(el) => Boolean(el.dataset.paintedKey)", arg=root.element_handle(), timeout=120_000)

    # The method menu shows the estimate of every costly method, and only theirs.
    labels = root.locator("select[data-role=method] option").evaluate_all(
        "(options) => Object.fromEntries(options.map((o) => [o.value, o.textContent]))")
    for method, label in labels.items():
        assert label.endswith(f" (~{_round(seconds[method])})") == (method in costly), (method, label)

    # Choosing SS-CAM starts nothing: the overlay shows the estimate and a Compute button.
    root.locator("select[data-role=method]").select_option("sscam")
    page.wait_for_function("(el) => el.dataset.status === 'confirm'", arg=root.element_handle(), timeout=30_000)
    assert root.locator("[data-role=estimate]").inner_text() == f"about {_round(seconds['sscam'])}"
    page.wait_for_timeout(1500)
    assert root.get_attribute("data-status") == "confirm" and root.locator("[data-role=progress]").count() == 0
    screenshot(root, "cam_cost_01_confirm.png")
    root.locator("[data-role=confirm-compute]").click()  # one click starts it, with progress and Cancel
    root.locator("[data-role=progress]").wait_for(timeout=60_000)
    screenshot(root, "cam_cost_02_started.png")
    root.locator("[data-role=cancel]").click()
    page.wait_for_function("(el) => el.dataset.status === 'cancelled'", arg=root.element_handle(), timeout=60_000)

    # Compare: cheap methods fill in at once (Ablation-CAM too, when cheap here); costly ones show
    # their estimate and a Compute button; every card's title is shown whole.
    root.locator("select[data-role=method]").select_option("gradcam")
    root.locator("[data-role=compare-toggle]").click()
    grid = root.locator("[data-role=compare]")
    cheap = len(seconds) - len(costly)
    page.wait_for_function(
        "([el, n]) => [...el.querySelectorAll('.cam-tile')].filter((t) => t.dataset.state === 'ready' || t.dataset.state === 'error').length === n",
        arg=[grid.element_handle(), cheap], timeout=180_000)
    offered = grid.locator(".cam-tile").evaluate_all(
        "(tiles) => tiles.filter((t) => t.querySelector('[data-role=compute-tile]')).map((t) => t.dataset.method)")
    assert set(offered) == costly
    estimates = grid.locator("[data-role=tile-estimate]").evaluate_all(
        "(spans) => spans.map((s) => [s.closest('.cam-tile').dataset.method, s.textContent])")
    assert dict(estimates) == {m: f"~{_round(seconds[m])}" for m in costly}
    # every card shows its whole status line: the estimate and its Compute button are not cut off
    cut = grid.locator(".cam-tile-status").evaluate_all(
        "(lines) => lines.filter((l) => l.scrollWidth > l.clientWidth + 1).map((l) => l.closest('.cam-tile').dataset.method)")
    assert cut == []
    clipped = grid.locator(".cam-tile-label").evaluate_all(
        "(labels) => labels.filter((l) => l.scrollWidth > l.clientWidth + 1 || l.scrollHeight > l.clientHeight + 1)"
        ".map((l) => l.textContent)")
    assert clipped == []
    titles = grid.locator(".cam-tile-label").all_inner_texts()
    assert "Smooth Grad-CAM++" in [t.replace("\n", " ") for t in titles] and "Ablation-CAM" in titles
    screenshot(root, "cam_cost_03_compare.png")

    # A blank map says why, in the overlay over the photo.
    blank_root = page.locator(".nbviz-cam").nth(1)
    blank_root.scroll_into_view_if_needed()
    page.wait_for_function("(el) => el.dataset.status === 'blank'", arg=blank_root.element_handle(), timeout=120_000)
    reason = blank_root.locator("[data-role=blank-reason]").inner_text()
    assert reason.startswith("the gradient of the target is zero everywhere at this layer")
    screenshot(blank_root, "cam_cost_04_blank.png")
    assert page.console_errors == []
