"""ModelLens speed on the embedded EfficientNet-Lite0 (ImageNet weights), 224x224, CPU.

1. Features throughput: `nbviz.features` over N images given as one (N, 3, 224, 224) tensor, against
   a bare `model(x)` loop over the same batches under `torch.inference_mode` (issue 12: >= 0.9x).
   Both see identical batches; the difference is the hook, pooling and bookkeeping of `features`.
2. Click vs class switch, kernel side: the map the explorer computes after a click on a point (a new
   image of a lazily read folder: read and decode the file, transform, forward, backward) against
   the explorer's own class switch (same image: its forward is cached, one backward), median over
   clicks on different images (issue 12: click <= 1.5x the class switch). A click on a point the
   pointer did not rest on first pays the new image's forward pass; after resting `--dwell` seconds
   (the scatter's hover message) the map was prepared meanwhile. The browser adds the same message
   and paint time to every row.

    flock /tmp/nbviz-bench.lock .venv/bin/python benchmarks/lens.py [--images 256] [--batch 32] [--clicks 12] [--threads 1]

The images are crops of the bundled sample photos (scikit-image), shifted and scaled so no two are
alike, written as JPEG files for part 2.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import nbviz
from nbviz.data import SAMPLE_IMAGES, load_pretrained, sample_image


def crops(n: int, size: int = 224, seed: int = 0) -> list:
    """n different size x size RGB crops of the sample photos (random position and scale)."""
    rng = np.random.default_rng(seed)
    photos = [sample_image(name) for name in SAMPLE_IMAGES]
    out = []
    for i in range(n):
        photo = photos[i % len(photos)]
        side = int(min(photo.size) * rng.uniform(0.5, 1.0))
        x0 = int(rng.integers(0, photo.width - side + 1))
        y0 = int(rng.integers(0, photo.height - side + 1))
        out.append(photo.crop((x0, y0, x0 + side, y0 + side)).resize((size, size)))
    return out


def features_vs_bare(model, x: torch.Tensor, batch: int, repeats: int) -> tuple[float, float]:
    """(images/s of nbviz.features, images/s of a bare model(x) loop), best of `repeats` each."""
    def bare() -> None:
        with torch.inference_mode():
            for start in range(0, len(x), batch):
                model(x[start:start + batch])

    def ours() -> None:
        nbviz.features(model, x, batch_size=batch, progress=False)

    times: dict[str, list[float]] = {"bare": [], "ours": []}
    for _ in range(repeats):  # interleaved, so a change in machine load hits both alike
        for name, fn in (("bare", bare), ("ours", ours)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return len(x) / min(times["ours"]), len(x) / min(times["bare"])


def click_vs_class_switch(model, transform, folder: Path, clicks: int, dwell_s: float) -> tuple[float, float, float, int]:
    """Median ms of a click's map without hover (new image), of a click `dwell_s` after the pointer
    came to rest on the point (the hover prefetch ran meanwhile), and of a class switch."""
    lens = nbviz.ModelLens(model, folder, transform=transform, progress=False, autostart=False)
    explorer = lens.explorer
    try:
        cold_ms, hovered_ms, switch_ms = [], [], []
        rng = np.random.default_rng(1)
        points = rng.choice(np.arange(1, explorer.n_images), size=2 * clicks, replace=False).tolist()
        for cold, hovered in zip(points[:clicks], points[clicks:]):
            start = time.perf_counter()
            lens.scatter.focus = cold  # what a click does: the explorer moves to image `cold`
            explorer.compute()
            cold_ms.append(1e3 * (time.perf_counter() - start))
            second = explorer.top_classes(2)[1]
            start = time.perf_counter()
            explorer.target = second
            explorer.compute()
            switch_ms.append(1e3 * (time.perf_counter() - start))
            lens._on_scatter_message(lens.scatter, {"type": "hover", "index": hovered}, [])  # the view's message
            time.sleep(dwell_s)
            start = time.perf_counter()
            lens.scatter.focus = hovered
            explorer.compute()
            hovered_ms.append(1e3 * (time.perf_counter() - start))
        return statistics.median(cold_ms), statistics.median(hovered_ms), statistics.median(switch_ms), explorer.n_images
    finally:
        lens.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=256, help="images for the features throughput")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--clicks", type=int, default=12)
    parser.add_argument("--folder-images", type=int, default=200, help="JPEG files behind the lens for part 2")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--dwell", type=float, default=0.3, help="seconds between hover and click")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    model, transform, _ = load_pretrained()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; EfficientNet-Lite0, 224x224")
    pictures = crops(args.images)
    x = torch.stack([transform(p) for p in pictures])
    ours, bare = features_vs_bare(model, x, args.batch, args.repeats)
    print(f"\n| features of {args.images} images (batch {args.batch}) | images/s | vs bare |")
    print("|---|---:|---:|")
    print(f"| bare model(x) loop, inference_mode | {bare:.1f} | 1.00x |")
    print(f"| nbviz.features | {ours:.1f} | {ours / bare:.2f}x |")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i, picture in enumerate(crops(args.folder_images, seed=2)):
            picture.save(folder / f"crop_{i:05d}.jpg", quality=90)
        cold, hovered, switch, n = click_vs_class_switch(model, transform, folder, args.clicks, args.dwell)
    print(f"\n| ModelLens over a folder of {n} JPEGs, Grad-CAM at the default layer | ms (median of {args.clicks}) | ratio |")
    print("|---|---:|---:|")
    print(f"| explorer's class switch (same image) | {switch:.1f} | 1.00x |")
    print(f"| click on a point not hovered before (new image, read lazily) | {cold:.1f} | {cold / switch:.2f}x |")
    print(f"| click {1e3 * args.dwell:.0f} ms after the pointer came to rest on the point | {hovered:.1f} | {hovered / switch:.2f}x |")


if __name__ == "__main__":
    main()
