"""One notebook with both widgets, and the checks that they render and round-trip an interaction,
shared by the tests of the front ends other than JupyterLab (Notebook 7, and as a model for the rest).

The kernel writes the traits the test reads to `frontends_state.json` (write, then rename, so a
read never sees half a file)."""
from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image

from harness import wait_for_file

# A tiny CNN (random weights, seeded) keeps the CAM side fast; 300 digits keep the t-SNE fast.
BOTH_WIDGETS = '''
import json, pathlib
import numpy as np, torch
from torch import nn
from torchvision import transforms
from nbviz import CAMExplorer, TSNEScatter
from nbviz.data import digits

torch.manual_seed(0)
net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
photo = np.zeros((48, 64, 3), np.uint8); photo[10:30, 20:44] = (230, 200, 40)
explorer = CAMExplorer(net, photo, transform=transforms.Compose([transforms.Resize(32), transforms.ToTensor()]),
                       labels=["a", "b", "c", "d"])
X, y = digits()
scatter = TSNEScatter(X[:300], labels=y[:300], random_state=0, n_iter=100_000, autostart=False)

def _dump(change=None):
    state = {"layer": explorer.layer, "target": explorer.target, "method": explorer.method,
             "status": scatter.status}
    pathlib.Path("frontends_state.tmp").write_text(json.dumps(state))
    pathlib.Path("frontends_state.tmp").replace("frontends_state.json")

explorer.observe(_dump, names=["layer", "target", "method"])
scatter.observe(_dump, names=["status"])
_dump()
'''
SHOW_EXPLORER = "explorer"
SHOW_SCATTER = "scatter"


def open_recording_page(context, url: str, timeout_s: float):
    """Open `url` in a new page whose console and page errors collect in `page.console_errors`."""
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    page.goto(url, timeout=timeout_s * 1000)
    return page


def kernel_state(root: Path, predicate=lambda state: True, timeout: float = 30.0) -> dict:
    """The traits the kernel last wrote, once they satisfy `predicate`."""
    text = wait_for_file(root / "frontends_state.json", timeout=timeout, predicate=lambda t: predicate(json.loads(t)))
    return json.loads(text)


def plot_pixels(page) -> np.ndarray:
    """The t-SNE plot's canvas as an RGB array."""
    png = page.locator(".nbviz-tsne .plot canvas").first.screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def check_cam_explorer_round_trip(page, root: Path) -> None:
    """The explorer paints its first map; choosing Grad-CAM++ in the view reaches the kernel and
    paints that map."""
    view = page.locator(".nbviz-cam").first
    view.wait_for(timeout=60_000)
    state = kernel_state(root)
    first = f"0|{state['layer']}|{state['target']}|gradcam"
    page.wait_for_function("([el, key]) => el.dataset.paintedKey === key", arg=[view.element_handle(), first],
                           timeout=60_000)
    view.locator("select[data-role=method]").select_option("gradcam++")
    assert kernel_state(root, lambda s: s["method"] == "gradcam++")["method"] == "gradcam++"
    page.wait_for_function("([el, key]) => el.dataset.paintedKey === key",
                           arg=[view.element_handle(), first.replace("|gradcam", "|gradcam++")], timeout=60_000)


def check_tsne_scatter_round_trip(page, root: Path) -> None:
    """Play (the scatter waits with autostart=False) reaches the kernel and the plot animates away
    from the start layout; Pause reaches the kernel and freezes it."""
    view = page.locator(".nbviz-tsne").first
    view.wait_for(timeout=60_000)
    stats = "() => document.querySelector('.nbviz-tsne').nbviz.stats()"
    page.wait_for_function(f"() => ({stats})().draws >= 1", timeout=60_000)
    assert kernel_state(root)["status"] == "idle"
    start = plot_pixels(page)
    view.get_by_role("button", name="Play", exact=True).click()
    assert kernel_state(root, lambda s: s["status"] == "running")["status"] == "running"
    page.wait_for_function(f"() => ({stats})().framesDrawn >= 5", timeout=60_000)
    drawn = page.evaluate(stats)["framesDrawn"]
    changed = np.abs(start - plot_pixels(page)).sum(axis=-1) > 30
    assert changed.mean() > 0.002, f"only {changed.mean():.4%} of the plot changed after Play"
    page.wait_for_function(f"() => ({stats})().framesDrawn > {drawn}", timeout=30_000)  # and it goes on
    view.get_by_role("button", name="Pause").click()
    assert kernel_state(root, lambda s: s["status"] == "paused")["status"] == "paused"
    view.locator(".badge", has_text="Paused").wait_for(timeout=30_000)
