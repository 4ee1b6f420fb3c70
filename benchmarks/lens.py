"""ModelLens speed on the embedded EfficientNet-Lite0 (ImageNet weights), 224x224, CPU.

1. Features throughput: `nbviz.features` over N images (default 10,000) given as one
   (N, 3, 224, 224) tensor, against a bare `model(x)` loop over the same batches under
   `torch.inference_mode` (issue 12: >= 0.9x). Both see identical batches; the difference is the
   hook, pooling and bookkeeping of `features`.
2. Click vs class switch, kernel side: the map the explorer computes after a click on a point (a new
   image of a lazily read folder: read and decode the file, transform, forward, backward) against
   the explorer's own class switch (same image: its forward is cached, one backward), median over
   clicks on different images (issue 12: click <= 1.5x the class switch). Three kinds of click:
   on a point the pointer did not rest on first and whose map nothing prepared (prefetch="near",
   the new image's forward pass is paid), `--dwell` seconds after the pointer came to rest on it
   (the scatter's hover message; its map was prepared meanwhile), and after the idle sweep of the
   default prefetch="all" (every map prepared while the t-SNE was not running; its duration is
   printed). The browser adds the same message and paint time to every row.
3. Streaming: a ModelLens over N images (default 10,000, shrunk to --stream-side pixels so that the
   lens's own feature pass is quick) streams its t-SNE to a fake 60 Hz browser (acks 16 ms after
   each frame) at the iterations/s and frames/s of a bare TSNEScatter of the same features (issue
   12: the same rate), best of interleaved rounds.

    flock /tmp/nbviz-bench.lock .venv/bin/python benchmarks/lens.py [--images 10000] [--batch 32] [--clicks 12] [--threads 1]

The images are crops of the bundled sample photos (scikit-image), shifted and scaled so no two are
alike, written as JPEG files for part 2. 10,000 images take 6 GB as one float32 tensor.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import nbviz
from nbviz.data import SAMPLE_IMAGES, load_pretrained, sample_image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tsne_stream import FakeBrowser, time_streamed  # noqa: E402  (the benchmarks' shared fake browser)


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


def click_vs_class_switch(model, transform, folder: Path, clicks: int, dwell_s: float) -> dict[str, float]:
    """Median ms of a click's map without hover (new image), of a click `dwell_s` after the pointer
    came to rest on the point (the hover prefetch ran meanwhile), of a class switch, and of a click
    after the idle sweep; plus the sweep's seconds and the number of images."""
    lens = nbviz.ModelLens(model, folder, transform=transform, progress=False, autostart=False, prefetch="near")
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
            time.sleep(2 * dwell_s)  # the clicked point's neighbours are prepared meanwhile
            lens._on_scatter_message(lens.scatter, {"type": "hover", "index": hovered}, [])  # the view's message
            time.sleep(dwell_s)
            start = time.perf_counter()
            lens.scatter.focus = hovered
            explorer.compute()
            hovered_ms.append(1e3 * (time.perf_counter() - start))
        n_images = explorer.n_images
    finally:
        lens.close()
    lens = nbviz.ModelLens(model, folder, transform=transform, progress=False, autostart=False)  # prefetch="all"
    try:
        start = time.perf_counter()
        while not (lens._prefetch.sweep_done() and all(map(lens.explorer.has_map, range(n_images)))):
            time.sleep(0.05)
        sweep_s = time.perf_counter() - start
        swept_ms = []
        for point in points[:clicks]:
            start = time.perf_counter()
            lens.scatter.focus = point
            lens.explorer.compute()
            swept_ms.append(1e3 * (time.perf_counter() - start))
    finally:
        lens.close()
    return {"cold": statistics.median(cold_ms), "hovered": statistics.median(hovered_ms),
            "switch": statistics.median(switch_ms), "swept": statistics.median(swept_ms), "sweep_s": sweep_s,
            "n": n_images}


def lens_vs_bare_streaming(model, x: torch.Tensor, iterations: int, rounds: int) -> dict[str, float]:
    """Best iterations/s and frames/s of a ModelLens's scatter and of a bare TSNEScatter of the same
    features, each streaming to a fake 60 Hz browser, in interleaved rounds."""
    from nbviz.widgets.tsne_scatter import TSNEScatter

    lens = nbviz.ModelLens(model, x, progress=False, autostart=False, prefetch="near", random_state=0, n_iter=10**7)
    bare = TSNEScatter(lens.features.X, random_state=0, n_iter=10**7, autostart=False)
    browsers = {"lens": FakeBrowser(lens.scatter), "bare": FakeBrowser(bare)}
    widgets = {"lens": lens.scatter, "bare": bare}
    best = {name: (0.0, 0.0) for name in widgets}
    try:
        for name, widget in widgets.items():  # warm-up past compilation, both phases
            time_streamed(widget, browsers[name], 30)
        for round_index in range(rounds):
            order = ("lens", "bare") if round_index % 2 == 0 else ("bare", "lens")
            for name in order:
                rate = time_streamed(widgets[name], browsers[name], iterations)
                best[name] = max(best[name], rate)
    finally:
        for browser in browsers.values():
            browser.close()
        bare.close()
        lens.close()
    return {"lens_it": best["lens"][0], "lens_fps": best["lens"][1], "bare_it": best["bare"][0],
            "bare_fps": best["bare"][1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10_000, help="images for the features throughput and streaming")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--clicks", type=int, default=12)
    parser.add_argument("--folder-images", type=int, default=200, help="JPEG files behind the lens for part 2")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--dwell", type=float, default=0.3, help="seconds between hover and click")
    parser.add_argument("--stream-iterations", type=int, default=100, help="iterations per streaming round")
    parser.add_argument("--stream-rounds", type=int, default=4)
    parser.add_argument("--stream-side", type=int, default=64, help="image side for part 3 (the lens's feature pass)")
    parser.add_argument("--parts", default="features,click,stream", help="which parts to run")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    parts = set(args.parts.split(","))

    model, transform, _ = load_pretrained()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; EfficientNet-Lite0, 224x224", flush=True)
    x = None
    if parts & {"features", "stream"}:
        x = torch.stack([transform(p) for p in crops(args.images)])
    if "features" in parts:
        ours, bare = features_vs_bare(model, x, args.batch, args.repeats)
        print(f"\n| features of {args.images:,} images (batch {args.batch}) | images/s | vs bare |")
        print("|---|---:|---:|")
        print(f"| bare model(x) loop, inference_mode | {bare:.1f} | 1.00x |")
        print(f"| nbviz.features | {ours:.1f} | {ours / bare:.2f}x |", flush=True)
    if "click" in parts:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for i, picture in enumerate(crops(args.folder_images, seed=2)):
                picture.save(folder / f"crop_{i:05d}.jpg", quality=90)
            r = click_vs_class_switch(model, transform, folder, args.clicks, args.dwell)
        print(f"\n| ModelLens over a folder of {r['n']} JPEGs, Grad-CAM at the default layer | ms (median of {args.clicks}) | ratio |")
        print("|---|---:|---:|")
        print(f"| explorer's class switch (same image) | {r['switch']:.1f} | 1.00x |")
        print(f"| click on a point not hovered, map not prepared (new image, read lazily) | {r['cold']:.1f} | {r['cold'] / r['switch']:.2f}x |")
        print(f"| click {1e3 * args.dwell:.0f} ms after the pointer came to rest on the point | {r['hovered']:.1f} | {r['hovered'] / r['switch']:.2f}x |")
        print(f"| click after the idle sweep (prefetch='all'; the sweep took {r['sweep_s']:.1f} s for {r['n']} images) | "
              f"{r['swept']:.1f} | {r['swept'] / r['switch']:.2f}x |", flush=True)
    if "stream" in parts:
        # The t-SNE streams N points whatever the images' size: smaller images only make the
        # lens's own feature pass (before any streaming) cheaper.
        small = torch.nn.functional.interpolate(x, size=args.stream_side, mode="bilinear", antialias=True,
                                                align_corners=False)
        r = lens_vs_bare_streaming(model, small, args.stream_iterations, args.stream_rounds)
        print(f"\n| t-SNE of {args.images:,} images' features streaming to a 60 Hz fake browser | iterations/s | frames/s |")
        print("|---|---:|---:|")
        print(f"| bare TSNEScatter | {r['bare_it']:.1f} | {r['bare_fps']:.1f} |")
        print(f"| ModelLens | {r['lens_it']:.1f} ({r['lens_it'] / r['bare_it']:.2f}x) | {r['lens_fps']:.1f} ({r['lens_fps'] / r['bare_fps']:.2f}x) |")


if __name__ == "__main__":
    main()
