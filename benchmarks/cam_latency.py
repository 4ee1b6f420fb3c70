"""Interactive latency of nbviz.cam against pytorch-grad-cam on resnet50, 224x224, CPU, 2 threads.

Each row times what the CAMExplorer widget asks for after a user action, against pytorch-grad-cam's
time for one call doing the same job on the same model (its only mode: one full call per map).

    flock /tmp/nbviz-bench.lock .venv/bin/python benchmarks/cam_latency.py [--repeats 3] [--slow-layer layer4]

Targets (from issue 3): first map <= 0.7x, class switch at the last block <= 0.1x, layer switch to
any block of layer3/layer4 <= 0.3x, gradient-method switch <= 0.05x, scorecam and ablationcam <= 0.8x.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torchvision
from pytorch_grad_cam import AblationCAM, GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM, ScoreCAM, XGradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from nbviz.cam import Explainer

THEIRS = {"gradcam": GradCAM, "gradcam++": GradCAMPlusPlus, "xgradcam": XGradCAM, "layercam": LayerCAM,
          "hirescam": HiResCAM}


def _ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return 1e3 * (time.perf_counter() - start)


def _median(fn, repeats: int) -> float:
    return statistics.median(_ms(fn) for _ in range(repeats))


def theirs_call(cls, model, layer, x, target, **attrs) -> float:
    """Milliseconds for one pytorch-grad-cam call (object built outside the timing)."""
    cam = cls(model=model, target_layers=[layer])
    for key, value in attrs.items():
        setattr(cam, key, value)
    try:
        return _ms(lambda: cam(input_tensor=x, targets=[ClassifierOutputTarget(target)]))
    finally:
        cam.activations_and_grads.release()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--slow-layer", default="layer4", help="layer for scorecam/ablationcam rows")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="scorecam/ablationcam batch for both libraries (default: each library's own)")
    parser.add_argument("--skip-slow", action="store_true", help="skip the scorecam/ablationcam rows")
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = torchvision.models.resnet50(weights=None).eval()
    modules = dict(model.named_modules())
    gen = torch.Generator().manual_seed(0)
    images = [torch.randn(1, 3, 224, 224, generator=gen) for _ in range(args.repeats + 2)]
    x = images[0]
    with torch.no_grad():
        target = int(model(x).argmax())
    rows = []

    def row(name, ours, theirs, goal):
        rows.append((name, ours, theirs, ours / theirs, goal))

    ex = Explainer(model)
    ex.explain(images[-1])  # warm-up (allocator, oneDNN primitives)
    theirs_call(GradCAM, model, model.layer4, x, target)

    # first map: a new input, Grad-CAM at the default layer (layer4)
    ours = statistics.median(_ms(lambda i=i: ex.explain(images[i], "gradcam", None, target))
                             for i in range(args.repeats))
    theirs = statistics.median(theirs_call(GradCAM, model, model.layer4, images[i], target)
                               for i in range(args.repeats))
    row("first map (gradcam, layer4)", ours, theirs, 0.7)
    base = theirs

    # class switch at the last block: same input, a class not seen before
    ex.explain(x, "gradcam", "layer4", target)
    ours = statistics.median(_ms(lambda c=c: ex.explain(x, "gradcam", "layer4", c)) for c in range(10, 10 + args.repeats))
    theirs = statistics.median(theirs_call(GradCAM, model, model.layer4, x, c) for c in range(10, 10 + args.repeats))
    row("class switch (layer4)", ours, theirs, 0.1)

    # layer switch to every block of layer3 and layer4 (worst block reported)
    blocks = [n for n in modules if n.count(".") == 1 and n.split(".")[0] in ("layer3", "layer4")]
    ratios = []
    for name in blocks:
        ours = _ms(lambda: ex.explain(x, "gradcam", name, target))
        theirs = theirs_call(GradCAM, model, modules[name], x, target)
        ratios.append((ours / theirs, name, ours, theirs))
    worst = max(ratios)
    row(f"layer switch (worst: {worst[1]})", worst[2], worst[3], 0.3)

    # gradient-method switch at the same layer and class (worst method reported)
    worst = None
    for method, cls in THEIRS.items():
        if method == "gradcam":
            continue
        ours = _ms(lambda: ex.explain(x, method, "layer4", target))
        theirs = theirs_call(cls, model, model.layer4, x, target)
        if worst is None or ours / theirs > worst[0]:
            worst = (ours / theirs, method, ours, theirs)
    row(f"method switch (worst: {worst[1]})", worst[2], worst[3], 0.05)

    if not args.skip_slow:
        layer = modules[args.slow_layer]
        theirs_batch = {"batch_size": args.batch_size} if args.batch_size else {}  # theirs: 32 by default
        ours = _ms(lambda: ex.explain(x, "scorecam", args.slow_layer, target, batch_size=args.batch_size))
        theirs = theirs_call(ScoreCAM, model, layer, x, target, **theirs_batch)
        row(f"scorecam ({args.slow_layer})", ours, theirs, 0.8)
        ours = _ms(lambda: ex.explain(x, "ablationcam", args.slow_layer, target))
        theirs = theirs_call(AblationCAM, model, layer, x, target, **theirs_batch)
        row(f"ablationcam ({args.slow_layer})", ours, theirs, 0.8)
    ex.close()

    print(f"resnet50 224x224, CPU, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"pytorch-grad-cam one call of the first-map kind: {base:.0f} ms")
    print(f"{'row':38s} {'ours ms':>10s} {'theirs ms':>10s} {'ratio':>7s} {'target':>7s}  result")
    for name, ours, theirs, ratio, goal in rows:
        print(f"{name:38s} {ours:10.1f} {theirs:10.1f} {ratio:7.3f} {goal:7.2f}  {'pass' if ratio <= goal else 'FAIL'}")


if __name__ == "__main__":
    main()
