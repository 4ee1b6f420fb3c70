"""TSNEScatter soak: resident memory over a long live stream with pause/resume and perplexity changes.

The process plays a Jupyter kernel: an asyncio loop on the main thread stands in for ipykernel's
(the widget hands its trait updates to it, as in a notebook), builds the widget, receives the
browser's acks (a stand-in browser draws each frame in 20 ms) and, every `--action-every-s`,
does the next user action of a cycle: perplexity 20, pause, resume, perplexity 40, pause, resume,
perplexity 30, ... The t-SNE of the digits (1,797 points) never finishes (n_iter is huge).

Resident set size (RSS) is sampled every second. After the warm-up (the first `--warmup-fraction`
of the run, long enough for the keyframe recording to reach its `--keyframe-budget-mb` and start
thinning, and for the allocator to reach its working set), every sample must stay within
+-`--limit-percent` of the RSS at the end of the warm-up. Prints a row every `--report-every-s`,
then a summary; exits 1 when the limit was broken. `--json` adds the summary as one JSON line.

Run:  .venv/bin/python benchmarks/tsne_stream_soak.py --minutes 10
      (one torch thread by default: it keeps one core free; with `python -X tracemalloc` a column
      shows the memory Python itself has allocated, to tell its growth from the allocator's)
"""
from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import statistics
import sys
import threading
import time
import tracemalloc

import psutil

ACTIONS = ("perplexity", "pause", "resume")
PERPLEXITIES = (20.0, 40.0, 30.0)
FRAME_DRAW_S = 0.02


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, default=10.0, help="length of the run (default 10)")
    length.add_argument("--seconds", type=float, help="length of the run in seconds (for a short check)")
    parser.add_argument("--warmup-fraction", type=float, default=0.3, help="share of the run before measuring")
    parser.add_argument("--limit-percent", type=float, default=5.0, help="allowed RSS change after warm-up")
    parser.add_argument("--action-every-s", type=float, default=1.0, help="seconds between user actions")
    parser.add_argument("--report-every-s", type=float, default=30.0, help="seconds between printed rows")
    parser.add_argument("--keyframe-budget-mb", type=float, default=4.0, help="TSNEScatter keyframe budget")
    parser.add_argument("--torch-threads", type=int, default=1, help="torch threads for the optimizer")
    parser.add_argument("--malloc-trim", action="store_true",
                        help="before each sample, have glibc return the memory it keeps free (malloc_trim)")
    parser.add_argument("--json", action="store_true", help="also print the summary as one JSON line")
    args = parser.parse_args(argv)
    args.duration_s = args.seconds if args.seconds is not None else args.minutes * 60
    if not args.duration_s > 0 or not 0 < args.warmup_fraction < 1:
        parser.error("the run needs a positive length and a warm-up fraction between 0 and 1")
    return args


def rss_mb() -> float:
    """This process's resident set size in MiB."""
    return psutil.Process().memory_info().rss / 2**20


def malloc_trim() -> bool:
    """Ask glibc to hand the free memory it holds, in every thread's arena, back to the system
    (so RSS counts memory in use, not the allocator's high-water mark); False where there is none."""
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


async def soak(args: argparse.Namespace) -> dict:
    """Run the stream on this loop (the kernel's) for args.duration_s; returns the summary."""
    import torch

    from nbviz.data import digits
    from nbviz.widgets import kernel_thread
    from nbviz.widgets.tsne_scatter import TSNEScatter

    torch.set_num_threads(args.torch_threads)
    loop = asyncio.get_running_loop()
    kernel_thread.find_kernel_loop = lambda: (loop, threading.get_ident())  # this loop is the kernel's
    X, y = digits()
    widget = TSNEScatter(X, labels=y, random_state=0, n_iter=10**9, autostart=False,
                         keyframe_budget_mb=args.keyframe_budget_mb)
    frames = 0

    def browser(content: dict, buffers=None) -> None:
        """Called on the worker: the frame travels to the page, which acks it once drawn."""
        nonlocal frames
        if content.get("type") == "frame":
            frames += 1
            message = {"type": "ack", "seq": content["seq"]}
            loop.call_soon_threadsafe(loop.call_later, FRAME_DRAW_S, widget._handle_message, widget, message, [])

    widget.send = browser
    widget.start()
    started = time.monotonic()
    warmup_end = started + args.warmup_fraction * args.duration_s
    samples: list[tuple[float, float]] = []
    most_pending = 0  # trait updates queued for the kernel thread: coalesced, so never a backlog
    baseline = None
    next_action, next_report, action = started, started, 0
    python_heap = tracemalloc.is_tracing()  # `python -X tracemalloc ...`: also Python's own allocations
    print(f"{'time s':>7} {'iteration':>10} {'frames':>8} {'RSS MiB':>9} {'vs warm-up':>11}"
          + (f" {'traced MiB':>10}" if python_heap else "") + "  last action")
    last_action = "start"
    while (now := time.monotonic()) - started < args.duration_s:
        if now >= next_action:
            last_action = do_action(widget, action)
            action += 1
            next_action += args.action_every_s
        if args.malloc_trim:
            malloc_trim()
        rss = rss_mb()
        most_pending = max(most_pending, widget._kernel.pending)
        if baseline is None and now >= warmup_end:
            baseline = rss
        if baseline is not None:
            samples.append((now - started, rss))
        if now >= next_report:
            change = "warm-up" if baseline is None else f"{100 * (rss / baseline - 1):+.2f}%"
            traced = f" {tracemalloc.get_traced_memory()[0] / 2**20:10.1f}" if python_heap else ""
            print(f"{now - started:7.0f} {widget.iteration:10d} {frames:8d} {rss:9.1f} {change:>11}{traced}  {last_action}",
                  flush=True)
            next_report += args.report_every_s
        await asyncio.sleep(min(1.0, args.action_every_s))
    iterations = widget.iteration
    widget.close()
    values = [rss for _, rss in samples]
    deviation = max(abs(v / baseline - 1) for v in values) * 100 if values else float("nan")
    return {
        "seconds": round(time.monotonic() - started, 1),
        "iterations": iterations,
        "frames": frames,
        "actions": action,
        "kl_points": len(widget.kl_history),
        "most_pending_updates": most_pending,
        "keyframes": len(widget.keyframe_iterations),
        "baseline_mb": round(baseline, 1) if baseline is not None else None,
        "min_mb": round(min(values), 1) if values else None,
        "max_mb": round(max(values), 1) if values else None,
        "end_mb": round(values[-1], 1) if values else None,
        "median_mb": round(statistics.median(values), 1) if values else None,
        "max_deviation_percent": round(deviation, 2),
        "limit_percent": args.limit_percent,
        "flat": bool(values) and deviation <= args.limit_percent,
    }


def do_action(widget, index: int) -> str:
    """The `index`-th user action of the cycle; returns what it did."""
    kind = ACTIONS[index % len(ACTIONS)]
    if kind == "perplexity":
        widget.perplexity = PERPLEXITIES[(index // len(ACTIONS)) % len(PERPLEXITIES)]
        return f"perplexity {widget.perplexity:g}"
    getattr(widget, kind)()
    return kind


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"TSNEScatter soak: digits (1,797 points), {args.duration_s:.0f} s, warm-up {args.warmup_fraction:.0%}, "
          f"an action every {args.action_every_s:g} s, keyframe budget {args.keyframe_budget_mb:g} MB, "
          f"{args.torch_threads} torch thread(s)" + (", malloc_trim before each sample" if args.malloc_trim else ""))
    summary = asyncio.run(soak(args))
    print(f"after warm-up: RSS {summary['baseline_mb']} MiB at the start, min {summary['min_mb']}, "
          f"max {summary['max_mb']}, end {summary['end_mb']}: at most {summary['max_deviation_percent']}% "
          f"away (limit {args.limit_percent}%); {summary['iterations']} iterations, {summary['frames']} frames, "
          f"{summary['actions']} actions, {summary['keyframes']} keyframes, {summary['kl_points']} KL points kept, "
          f"at most {summary['most_pending_updates']} trait updates queued for the kernel thread")
    if args.json:
        print(json.dumps(summary))
    return 0 if summary["flat"] else 1


if __name__ == "__main__":
    sys.exit(main())
