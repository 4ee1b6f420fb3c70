"""Time of the model-parameter randomisation test against one forward + backward pass of the model.

Issue 13's budget: a top-down cascade over the embedded EfficientNet-Lite0 for a gradient method
costs at most 20 forward + backward passes.  Both are timed here in one run on the same photo.

    flock /tmp/nbviz-bench.lock .venv/bin/python benchmarks/cam_sanity.py [--repeats 3] [--methods gradcam ...]

``--breakdown`` also times what a cascade costs beyond its model passes, each in passes: the deep copy,
the similarity measures (each step's map against the original, from scratch or with the original's
ranks / HOG features prepared once) and one full garbage collection.
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


def seconds(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def breakdown(model: torch.nn.Module, x: torch.Tensor, result, pass_time: float, repeats: int) -> None:
    """Print the costs of a cascade beyond its passes, in seconds and in forward + backward passes."""
    import copy
    import gc

    from nbviz.cam.similarity import SIMILARITIES

    original, maps = result.original[0], result.maps[:, 0]

    def from_scratch() -> None:
        for name in result.similarity:
            for step in range(len(maps)):
                SIMILARITIES[name](original, maps[step])

    rows = [("deep copy of the model", seconds(lambda: copy.deepcopy(model), repeats)),
            ("similarities, each pair from scratch", seconds(from_scratch, repeats)),
            ("one full gc.collect()", seconds(gc.collect, repeats))]
    try:
        from nbviz.cam.similarity import similarity_to
    except ImportError:  # an nbviz from before the original's features were prepared once
        similarity_to = None
    if similarity_to is not None:
        def prepared() -> None:
            for name in result.similarity:
                against = similarity_to(name, original)
                for step in range(len(maps)):
                    against(maps[step])

        rows.insert(2, ("similarities, the original prepared once", seconds(prepared, repeats)))
    for label, value in rows:
        print(f"{'':>18}{label:>42}: {value * 1000:7.0f} ms = {value / pass_time:5.2f} passes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--methods", nargs="+", default=["gradcam", "guided-backprop"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--breakdown", action="store_true", help="also time the costs beyond the passes")
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
        if args.breakdown:
            breakdown(model, x, result, forward_backward_seconds(model, x, 3), args.repeats)


if __name__ == "__main__":
    main()
