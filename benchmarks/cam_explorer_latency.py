"""CAMExplorer click-to-painted latency in a real JupyterLab, and the size of a saved notebook.

Opens JupyterLab in headless Chromium (the test harness) and shows one explorer on ResNet-18
(random weights, seeded: no download), then one on the embedded EfficientNet-Lite0, both on the
"chelsea" photo. In the browser: performance.now() at the click / dropdown change, and again at the
first animation frame after the new map was drawn on the canvas. Every switch asks the kernel for a
map it has not computed yet (class switches: the top-k classes in turn; method switches: the
gradient methods in turn); "cached" revisits maps the browser already holds.
Side by side: the same kind of map computed in-process by our engine alone (no browser), and by
pytorch-grad-cam (one GradCAM call per map, its only mode).

Run: flock /tmp/nbviz-bench.lock .venv/bin/python benchmarks/cam_explorer_latency.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

# Importing the tests' conftest also sets NBVIZ_BUNDLE_DIR to the test build, whose paint hook
# (root.__nbvizCam) the measurements read; the Lab server and its kernels inherit it.
from conftest import LabSession  # noqa: E402
from harness import launch_chromium, running_lab_server, write_notebook  # noqa: E402

RESNET_CELL = '''
import torch, torchvision
from torchvision import transforms
from nbviz import CAMExplorer
from nbviz.data import sample_image, imagenet_classes
torch.manual_seed(0)
resnet = torchvision.models.resnet18(weights=None).eval()
imagenet = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                               transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
explorer = CAMExplorer(resnet, sample_image("chelsea"), transform=imagenet, labels=imagenet_classes(), topk=10)
explorer
'''
LITE_CELL = '''
from nbviz import CAMExplorer
explorer = CAMExplorer(topk=10)
explorer
'''
ONE_EXPLORER = "from nbviz import CAMExplorer\nCAMExplorer()"

# Change a control, then resolve at the first animation frame after the new key was painted.
MEASURE = """async ([kind, value]) => {
  const root = document.querySelector('.nbviz-cam');
  const hook = root.__nbvizCam;
  const [image, layer, target, method] = hook.currentKey().split('|');
  const key = kind === 'class' ? [image, layer, value, method].join('|') : [image, layer, target, value].join('|');
  const t0 = performance.now();
  if (kind === 'class') {
    root.querySelector(`[data-role=classes] [data-class="${value}"]`).click();
  } else {
    const select = root.querySelector('select[data-role=method]');
    select.value = value;
    select.dispatchEvent(new Event('change'));
  }
  await hook.waitForPaint(key);
  await new Promise((resolve) => requestAnimationFrame(() => resolve()));
  return performance.now() - t0;
}"""
GRADIENT = ["gradcam++", "xgradcam", "layercam", "hirescam", "eigencam", "cam", "gradcam"]


def open_explorer(server, context, name: str, cell: str):
    write_notebook(server.root / name, [cell])
    page = context.new_page()
    page.goto(server.notebook_url(name))
    page.locator(".jp-Notebook").first.wait_for(timeout=120_000)
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=120_000)
    # On a busy machine JupyterLab sometimes asks which kernel to use: take the default.
    select = page.locator(".jp-Dialog .jp-mod-accept", has_text="Select")
    try:
        select.wait_for(timeout=3_000)
        select.click()
    except Exception:
        pass
    LabSession.run_all(page)
    try:
        LabSession.wait_until_executed(page, 1, 240)
    except Exception:
        page.screenshot(path=str(REPO / "test-artifacts" / f"bench_failed_{name}.png"))
        raise
    root = page.locator(".nbviz-cam").first
    root.wait_for(timeout=120_000)
    page.wait_for_function("(el) => el.dataset.paintedKey", arg=root.element_handle(), timeout=120_000)
    return page, root


def measure_widget(page, root, repeats: int) -> dict[str, list[float]]:
    topk = [int(c) for c in root.locator("[data-role=classes]").get_attribute("data-topk").split(",")]
    first_target = int(root.get_attribute("data-painted-key").split("|")[2])
    results = {"class": [], "method": [], "cached": []}
    for target in [c for c in topk if c != first_target][:repeats]:  # first visit: one backward pass
        results["class"].append(page.evaluate(MEASURE, ["class", target]))
    for method in GRADIENT[:repeats]:  # each method for the first time at this class
        results["method"].append(page.evaluate(MEASURE, ["method", method]))
    for method in GRADIENT[:repeats]:  # maps the browser holds already
        results["cached"].append(page.evaluate(MEASURE, ["method", method]))
    return results


def engine_and_reference(repeats: int) -> dict[str, dict[str, float]]:
    """Median in-process time of one uncached Grad-CAM class: our Explainer vs pytorch-grad-cam."""
    import torch
    import torchvision
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    from torchvision import transforms

    from nbviz.cam import Explainer
    from nbviz.data import load_pretrained, sample_image

    torch.manual_seed(0)
    resnet = torchvision.models.resnet18(weights=None).eval()
    imagenet = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                                   transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    lite, lite_transform, _ = load_pretrained()
    photo = sample_image("chelsea")
    rows = {}
    for name, model, transform, layer in (("resnet18", resnet, imagenet, "layer4"),
                                          ("efficientnet-lite0", lite, lite_transform, "head")):
        x = transform(photo)[None]
        with Explainer(model) as explainer:
            explainer.predict(x)
            ours = []
            for target in range(repeats):
                start = time.perf_counter()
                explainer.explain(x, "gradcam", layer, 100 + target, upsample=False)
                ours.append(1000 * (time.perf_counter() - start))
        module = dict(model.named_modules())[layer]
        reference = []
        with GradCAM(model=model, target_layers=[module]) as cam:
            for target in range(min(repeats, 3)):
                start = time.perf_counter()
                cam(input_tensor=x, targets=[ClassifierOutputTarget(100 + target)])
                reference.append(1000 * (time.perf_counter() - start))
        rows[name] = {"ours": statistics.median(ours), "reference": statistics.median(reference)}
    return rows


def saved_notebook_size(server, context) -> dict[str, int]:
    """Save a notebook holding one CAMExplorer() with its widget state, and measure the file."""
    name = "one_explorer.ipynb"
    page, _ = open_explorer(server, context, name, ONE_EXPLORER)
    path = server.root / name
    before = path.stat().st_mtime
    page.locator(".jp-Notebook").first.click()
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while path.stat().st_mtime == before and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    notebook = json.loads(path.read_text())
    widgets = notebook.get("metadata", {}).get("widgets", {})
    states = widgets.get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    explorer = next((s for s in states.values() if "_esm" in s.get("state", {})), None)
    parts = {"file": path.stat().st_size, "widget state": len(json.dumps(widgets))}
    if explorer:
        state = explorer["state"]
        parts["  _esm bundle"] = len(state["_esm"])
        parts["  class names"] = len(json.dumps(state.get("_class_names", [])))
        parts["  binary (base64)"] = sum(len(json.dumps(b)) for b in explorer.get("buffers", []))
    page.close()
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with running_lab_server("nbviz-bench-") as server:
        base = server.root.parent
        # Ask JupyterLab to save widget state into notebooks, so the saved size includes the explorer.
        request = urllib.request.Request(
            f"{server.url}/lab/api/settings/@jupyter-widgets/jupyterlab-manager:plugin?token={server.token}",
            data=json.dumps({"raw": json.dumps({"saveState": True})}).encode(), method="PUT",
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10)
        with sync_playwright() as playwright:
            context = launch_chromium(playwright, str(base / "profile"))
            context.set_default_timeout(60_000)
            browser = {}
            for model, cell in (("resnet18", RESNET_CELL), ("efficientnet-lite0", LITE_CELL)):
                page, root_el = open_explorer(server, context, f"latency_{model}.ipynb", cell)
                browser[model] = measure_widget(page, root_el, args.repeats)
                page.close()
            size = saved_notebook_size(server, context)
            context.close()
    in_process = engine_and_reference(args.repeats)

    print(f"CAMExplorer latency in JupyterLab, change -> painted frame, median (p90) of {args.repeats}, ms")
    print(f"{'model':<20}{'class switch':>15}{'method switch':>15}{'cached':>10}"
          f"{'engine only':>13}{'pytorch-grad-cam':>18}")
    for model, results in browser.items():
        cells = []
        for kind in ("class", "method", "cached"):
            values = sorted(results[kind])
            p90 = values[min(len(values) - 1, int(round(0.9 * (len(values) - 1))))]
            cells.append(f"{statistics.median(values):.0f} ({p90:.0f})")
        print(f"{model:<20}{cells[0]:>15}{cells[1]:>15}{cells[2]:>10}"
              f"{in_process[model]['ours']:>13.0f}{in_process[model]['reference']:>18.0f}")
    print("engine only: one uncached Grad-CAM class in-process, nbviz.cam.Explainer (forward cached);")
    print("pytorch-grad-cam: one GradCAM call for one class (forward + backward every call).")
    print()
    print("Saved notebook with one CAMExplorer() (JupyterLab, widget state saved):")
    for name, value in size.items():
        print(f"  {name:<20}{value / 1024:>9.1f} KiB")


if __name__ == "__main__":
    main()
