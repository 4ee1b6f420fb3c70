"""GPU check for CAMExplorer: the same maps on CUDA as on the CPU, through the widget's paths.

Run on a machine with CUDA: .venv/bin/python benchmarks/gpu_check_cam_explorer.py
Prints, per method, the max abs difference CPU vs CUDA of the feature-resolution map the view gets,
and the time of one uncached map on each device.
"""
from __future__ import annotations

import copy
import time

import numpy as np
import torch
import torchvision
from torchvision import transforms

from nbviz.data import sample_image
from nbviz.widgets.cam_explorer import CAMExplorer

METHODS = ["gradcam", "gradcam++", "layercam", "eigencam", "scorecam", "guided-gradcam"]


def main() -> None:
    if not torch.cuda.is_available():
        raise SystemExit("CUDA is not available on this machine")
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    transform = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                                    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    images = [sample_image("chelsea"), sample_image("coffee")]
    explorers = {
        "cpu": CAMExplorer(model, images, transform=transform),
        "cuda": CAMExplorer(copy.deepcopy(model).cuda(), images, transform=transform),
    }
    print(f"device: {torch.cuda.get_device_name()}")
    print(f"{'method':<16}{'shape':>10}{'max |cpu - cuda|':>18}{'cpu ms':>10}{'cuda ms':>10}")
    for method in METHODS:
        maps, times = {}, {}
        for device, explorer in explorers.items():
            start = time.perf_counter()
            maps[device] = explorer.compute(layer="layer4", target=281, method=method)
            if device == "cuda":
                torch.cuda.synchronize()
            times[device] = 1000 * (time.perf_counter() - start)
        diff = float(np.abs(maps["cpu"] - maps["cuda"]).max())
        print(f"{method:<16}{str(maps['cpu'].shape):>10}{diff:>18.2e}{times['cpu']:>10.1f}{times['cuda']:>10.1f}")
    state = explorers["cuda"].export_state()
    print(f"export_state on CUDA: {len(state['_precomputed'])} maps precomputed")
    for explorer in explorers.values():
        explorer.close()


if __name__ == "__main__":
    main()
