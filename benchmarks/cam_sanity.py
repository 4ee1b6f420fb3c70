"""Time of the model-parameter randomisation test against one forward + backward pass of the model.

Issue 13's budget: a top-down cascade over the embedded EfficientNet-Lite0 for a gradient method
costs at most 20 forward + backward passes.  Both are timed here in one run on the same photo.

    flock /tmp/nbviz-bench.lock .venv/bin/python benchmarks/cam_sanity.py [--repeats 3] [--methods gradcam ...]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from nbviz.cam import sanity_check
from nbviz.data import load_pretrained, sample_image


def forward_backward_seconds(model: torch.nn.Module, x: torch.Tensor, repeats: int) -> float:
    """Median time of ``model(x)[0, c].backward()`` for the predicted class c (after one warm-up pass)."""
    x = x.clone().requires_grad_(True)
    cls = int(model(x).argmax())
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        model(x)[0, cls].backward()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--methods", nargs="+", default=["gradcam", "guided-backprop"])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, transform, _ = load_pretrained()
    x = transform(sample_image("chelsea"))[None]
    # the machine's load drifts: each repeat times passes and cascade back to back, and the ratio is per repeat
    for method in args.methods:
        ratios, seconds = [], []
        for _ in range(args.repeats):
            pass_time = forward_backward_seconds(model, x, 3)
            result = sanity_check(model, x, method=method)
            ratios.append(result.seconds / pass_time)
            seconds.append(result.seconds)
        print(f"{method:>16}: {len(result.blocks)} steps in {statistics.median(seconds):.2f} s = "
              f"{statistics.median(ratios):.1f} forward + backward passes (median of {args.repeats}; "
              f"one pass {pass_time * 1000:.0f} ms), verdict {result.verdict}")


if __name__ == "__main__":
    main()
