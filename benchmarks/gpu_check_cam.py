"""CUDA check of nbviz.cam (run by the lead on a GPU machine; prints results, exits 1 on failure).

    .venv/bin/python benchmarks/gpu_check_cam.py

Checks that every method runs with the model on CUDA, that maps stay on the GPU, that no hooks are
left, that CUDA maps equal CPU maps for the gradient methods (max abs diff <= 1e-3 with TF32 off),
and prints interactive latencies (first map, class switch, layer switch, method switch, scorecam).
"""
from __future__ import annotations

import sys
import time

import torch
import torchvision

from nbviz.cam import METHODS, Explainer, compute
from nbviz.cam.hygiene import count_hooks


def _timed(fn):
    torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return out, 1e3 * (time.perf_counter() - start)


def main() -> int:
    if not torch.cuda.is_available():
        print("CUDA is not available")
        return 1
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    cpu_model = torchvision.models.resnet50(weights=None).eval()
    model = torchvision.models.resnet50(weights=None).eval()
    model.load_state_dict(cpu_model.state_dict())
    model = model.cuda()
    x_cpu = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    x = x_cpu.cuda()
    failures = []
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    with Explainer(model) as ex:
        for method in METHODS:
            layer = "layer4" if method not in ("scorecam", "sscam", "iscam", "ablationcam") else "layer1.0.conv1"
            opts = {"n_samples": 2} if method in ("sscam", "iscam", "smoothgradcam++") else {}
            maps, ms = _timed(lambda: ex.explain(x, method, layer, [1, 2], **opts))
            ok = maps.is_cuda and maps.shape == (2, 224, 224) and bool(torch.isfinite(maps).all())
            print(f"{method:18s} {ms:9.1f} ms  on {maps.device}  {'ok' if ok else 'FAIL'}")
            if not ok:
                failures.append(method)
        for method in ("gradcam", "gradcam++", "xgradcam", "layercam", "hirescam", "cam"):
            layer = "layer4" if method == "cam" else "layer3"
            gpu = ex.explain(x, method, layer, [1, 2]).cpu()
            cpu = compute(cpu_model, x_cpu, method=method, layer=layer, target=[1, 2])
            diff = float((gpu - cpu).abs().max())
            print(f"cpu vs cuda {method:10s} max abs diff {diff:.2e}")
            if diff > 1e-3:
                failures.append(f"{method} parity")
        _, first = _timed(lambda: ex.explain(x + 1, "gradcam"))
        _, cls = _timed(lambda: ex.explain(x + 1, "gradcam", None, 7))
        _, lay = _timed(lambda: ex.explain(x + 1, "gradcam", "layer3.0", 7))
        _, meth = _timed(lambda: ex.explain(x + 1, "gradcam++", "layer3.0", 7))
        print(f"latency ms: first map {first:.1f}, class switch {cls:.1f}, layer switch {lay:.1f}, "
              f"method switch {meth:.1f}")
    hooks = count_hooks(model)
    print(f"hooks left: {hooks}")
    if hooks:
        failures.append("hooks")
    print("FAILED: " + ", ".join(failures) if failures else "all CUDA checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
