"""nbviz.tsne against openTSNE (n_jobs=2) and scikit-learn's TSNE, on real data first.

Data sets:
  minilm   the all-MiniLM-L6-v2 word-embedding matrix (30,522 x 384, real text-model weights)
  digits   scikit-learn's handwritten digits (1,797 x 64)
  cnn      EfficientNet-Lite0 features (1,280-d, input of the classifier) of the digits, each
           8x8 image upscaled to 96x96 grey-as-RGB: real CNN features of real images
  warped:<N>  N random affine warps (with pixel noise) of the 1,797 real handwritten digits,
           upsampled to 16x16, as 50 principal components: the infinite-MNIST / MNIST-8M
           construction that million-point t-SNE runs use, built offline (cached on disk)
  <N>      a Gaussian mixture of N points in 50-D: 20 unit Gaussians, each intrinsically
           50-dimensional (synthetic; the hardest case for approximate search)

Every fit runs in a fresh Python process. "cold" starts with empty cache directories (torch.compile's,
and nbviz's built C library: it is compiled inside the run); "warm" is a fresh process that finds
the caches the cold run left on disk. Only the fit is timed (imports and data loading are not).
Within an nbviz fit: "kNN s" and "kNN %" are its neighbour search and that search's share of the
fit; "C build" is the one-off compile of nbviz's C kernels (cold) or their load from the cache
(warm), a step of its own before the search, timed apart from it and included in "seconds".

Quality, computed once per data set in this process, the same way for every library's layout:
  KL common   KL(P || Q) against one P: exact kNN (k = 90), perplexity 30, symmetrised; Z summed
              exactly (N <= 50,000) or by the FFT scheme on a fine grid (~0.2%) above.
  10-NN kept  mean share of each point's 10 exact nearest neighbours in the data that are
              among its 10 nearest in the layout: over all points up to --quality-max, above
              it over a seeded sample of 100,000 points.
  kept-openTSNE  the mean per-point difference of 10-NN kept from openTSNE's layout; on a
              sample, with its paired standard error (+-0.0004 or so at 1M): a gap inside
              two of those is the sample's noise, not the libraries'.

    python benchmarks/tsne_speed.py                               # minilm, digits, cnn
    python benchmarks/tsne_speed.py --data digits,20000 --libs nbviz,opentsne
    python benchmarks/tsne_speed.py --data warped:1000000 --libs nbviz,opentsne --nbviz-runs cold
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(tempfile.gettempdir()) / "nbviz-bench-data"
#: Points whose 10 nearest neighbours are compared when the data set is too large for exact P.
QUALITY_SAMPLE = 100_000


def mixture(n: int, dim: int = 50, n_centres: int = 20, seed: int = 0):
    """n points from n_centres unit Gaussians in `dim` dimensions, centres ~ N(0, 1.5^2 I).

    Drawn in chunks of rows (the same numbers as one draw) so that a million points never
    need the float64 matrix: the worker's peak memory then measures the fit, not the data.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.0, size=(n_centres, dim)) * 1.5
    labels = rng.integers(0, n_centres, size=n)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 65536):
        stop = min(n, start + 65536)
        out[start:stop] = centres[labels[start:stop]] + rng.normal(size=(stop - start, dim))
    return out


def warped_digits(n: int, seed: int = 0, dim: int = 50):
    """n random affine warps of scikit-learn's digits as `dim` principal components, cached on disk.

    Point i warps digit i mod 1,797 (upsampled to 16x16): rotation U(-15, 15) degrees, scale
    U(0.85, 1.15), shear U(-0.2, 0.2), shift U(-1.5, 1.5) pixels, bilinear resampling, then
    N(0, 0.5^2) pixel noise (pixels 0..16). The 256 pixels are projected on the top `dim`
    principal axes of the first 65,536 warps. Built by chunks: a million points never need
    more than the float32 result.
    """
    import numpy as np

    path = CACHE / f"warped_{n}_{seed}_{dim}.npy"
    if path.exists():
        return np.load(path)
    import math

    import torch
    import torch.nn.functional as F

    from nbviz.data import digits

    pixels, _ = digits()
    base = F.interpolate(torch.from_numpy(pixels).float().reshape(-1, 1, 8, 8), size=16, mode="bilinear",
                         align_corners=False)
    generator = torch.Generator().manual_seed(seed)
    out = np.empty((n, dim), dtype=np.float32)
    mean = axes = None
    for start in range(0, n, 65536):
        stop = min(n, start + 65536)
        m = stop - start
        angle = (torch.rand(m, generator=generator) * 30 - 15) * math.pi / 180
        scale = 0.85 + 0.3 * torch.rand(m, generator=generator)
        shear = 0.4 * torch.rand(m, generator=generator) - 0.2
        shift = (3 * torch.rand(m, 2, generator=generator) - 1.5) / 8  # pixels -> grid units (16 px = 2)
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        theta = torch.stack([torch.stack([cos, -sin + shear, shift[:, 0]], 1),
                             torch.stack([sin, cos, shift[:, 1]], 1)], 1)
        source = base[torch.arange(start, stop) % len(base)]
        grid = F.affine_grid(theta, (m, 1, 16, 16), align_corners=False)
        warped = F.grid_sample(source, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        flat = warped.reshape(m, 256) + 0.5 * torch.randn(m, 256, generator=generator)
        if axes is None:
            mean = flat.double().mean(0)
            centred = flat.double() - mean
            _, vectors = torch.linalg.eigh(centred.T @ centred)
            axes = vectors[:, -dim:].flip(1).float()
            mean = mean.float()
        out[start:stop] = ((flat - mean) @ axes).numpy()
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


def cnn_features():
    """EfficientNet-Lite0 pooled features of the digits (upscaled to 96x96), cached on disk."""
    import numpy as np

    path = CACHE / "cnn_digits.npy"
    if path.exists():
        return np.load(path)
    import torch
    import torch.nn.functional as F

    from nbviz.data import digits, load_pretrained

    model, _, _ = load_pretrained()
    pixels, _ = digits()
    images = torch.from_numpy(pixels / 16.0).float().reshape(-1, 1, 8, 8)
    images = F.interpolate(images, size=96, mode="bilinear", align_corners=False).repeat(1, 3, 1, 1)
    images = (images - 127 / 255) / (128 / 255)
    captured = []
    handle = model.classifier.register_forward_hook(lambda m, inputs, out: captured.append(inputs[0].detach()))
    try:
        with torch.inference_mode():
            for batch in images.split(128):
                model(batch)
    finally:
        handle.remove()
    features = torch.cat(captured).flatten(1).numpy().astype(np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, features)
    return features


def load(dataset: str):
    """The N x D float32 matrix of a data set name (see the module docstring)."""
    if dataset == "digits":
        from nbviz.data import digits

        return digits()[0]
    if dataset == "minilm":
        from nbviz.data import text_embeddings

        return text_embeddings()[0]
    if dataset == "cnn":
        return cnn_features()
    if dataset.startswith("warped:"):
        return warped_digits(int(dataset.split(":", 1)[1]))
    return mixture(int(dataset))


def worker(spec: dict) -> dict:
    """Fit one library on one data set (inside a fresh process); save the layout, return times."""
    import numpy as np
    import torch

    torch.set_num_threads(spec["threads"])
    X = load(spec["dataset"])
    lib = spec["lib"]
    start = time.perf_counter()
    extra = {}
    if lib == "nbviz":
        from nbviz.tsne import TSNE
        from nbviz.tsne import optimizer as optimizer_module

        search = optimizer_module.nearest_neighbors

        def timed_search(*args, **kwargs):  # the fit's own neighbour search, timed where it runs
            started = time.perf_counter()
            found = search(*args, **kwargs)
            extra["knn_seconds"] = extra.get("knn_seconds", 0.0) + time.perf_counter() - started
            extra["knn_method"] = found.method
            return found

        optimizer_module.nearest_neighbors = timed_search
        prepare = optimizer_module.native_library

        def timed_build():  # the C kernels' one-off build (a cold run) or cache load (warm)
            started = time.perf_counter()
            built = prepare()
            extra["build_seconds"] = extra.get("build_seconds", 0.0) + time.perf_counter() - started
            return built

        optimizer_module.native_library = timed_build
        model = TSNE(random_state=0, n_iter=spec["n_iter"], device=spec.get("device"))
        if spec.get("stream"):
            run = model.optimizer(X)
            layout = None
            for frame in run:
                layout = frame.embedding.detach().cpu().numpy().copy()  # what a widget does per frame
        else:
            layout = model.fit_transform(X)
            run = None
    elif lib == "opentsne":
        import openTSNE

        layout = np.asarray(openTSNE.TSNE(
            n_jobs=2, random_state=0, n_iter=spec["n_iter"] - 250, early_exaggeration_iter=250,
            initial_momentum=0.5, final_momentum=0.8,
        ).fit(X.astype(np.float64)))
    elif lib == "sklearn":
        from sklearn.manifold import TSNE as SkTSNE

        layout = SkTSNE(perplexity=30, max_iter=spec["n_iter"], init="pca", learning_rate="auto",
                        random_state=0, n_jobs=2).fit_transform(X)
    else:
        raise SystemExit(f"unknown library {lib}")
    seconds = time.perf_counter() - start
    np.save(spec["out"], np.asarray(layout, dtype=np.float64))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
    return {"n": len(X), "seconds": seconds, "peak_bytes": peak, **extra}


def quality(X, layouts: dict[str, "object"], exact_max: int) -> dict[str, tuple[float | None, "object"]]:
    """{name: (KL common, per-point 10-NN kept)} for each layout, against one exact-kNN P of X.

    10-NN kept of point i is the share of its 10 exact nearest neighbours in the data that are
    among its 10 nearest in the layout (nbviz.tsne.point_neighbors, exact). Above
    `exact_max` points the exact P is not built (its search costs N^2 D): KL common is None and
    the share is measured for a seeded sample of QUALITY_SAMPLE points (their exact neighbours
    among all points, in the data and in each layout), so its mean carries a sampling error.
    """
    import numpy as np
    import torch

    from nbviz.tsne import TSNE
    from nbviz.tsne.fft_repulsion import fft_repulsion
    from nbviz.tsne.gradients import exact_repulsion, kl_divergence
    from nbviz.tsne.neighbors import exact_search
    from nbviz.tsne.point_neighbors import kept_share, layout_neighbors

    def kept(layout, data_nn, rows):  # layout neighbours in the layout's own float64 numbers
        return kept_share(data_nn, layout_neighbors(torch.as_tensor(np.ascontiguousarray(layout), dtype=torch.float64), rows, 10))

    n = len(X)
    if n > exact_max:
        sample = torch.randperm(n, generator=torch.Generator().manual_seed(0))[:QUALITY_SAMPLE]
        data_nn = exact_search(torch.from_numpy(X), 10, sample)
        return {name: (None, kept(layout, data_nn, sample)) for name, layout in layouts.items()}
    run = TSNE(random_state=0, device="cpu", neighbors="exact").optimizer(X)
    P = run.affinities.to(torch.device("cpu"), torch.float64)
    data_nn = run.neighbors[:, :10]
    result = {}
    for name, layout in layouts.items():
        y = torch.as_tensor(np.ascontiguousarray(layout), dtype=torch.float64)
        _, z = exact_repulsion(y) if len(y) <= 50_000 else fft_repulsion(y, box_width=0.25)
        result[name] = (kl_divergence(y, P, float(z)), kept(y, data_nn, torch.arange(n)))
    return result


def kept_against(kept, reference, sampled: bool) -> str:
    """Mean of the per-point difference kept - reference; for sampled shares (the same points
    in both layouts) also its standard error, std / sqrt(m), which says whether the gap is real."""
    difference = kept - reference
    text = f"{float(difference.mean()):+.4f}"
    if sampled:
        text += f"±{float(difference.std()) / len(difference) ** 0.5:.4f}"
    return text


def measure(spec: dict, cache_dir: str) -> dict:
    env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache_dir, NBVIZ_CACHE_DIR=os.path.join(cache_dir, "nbviz-native"),
               PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(spec)], env=env, capture_output=True, text=True,
        timeout=7200,
    )
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="minilm,digits,cnn", help="comma-separated data sets (see above)")
    parser.add_argument("--libs", default="nbviz,opentsne,sklearn")
    parser.add_argument("--sklearn-max", type=int, default=20000, help="largest N given to sklearn (slow)")
    parser.add_argument("--n-iter", type=int, default=750)
    parser.add_argument("--threads", type=int, default=2, help="torch threads for nbviz")
    parser.add_argument("--stream-size", type=int, default=0, help="N of a mixture for the streaming-overhead row (0: skip)")
    parser.add_argument("--device", default="cpu", help="nbviz device (cpu, cuda)")
    parser.add_argument("--nbviz-runs", default="cold,warm", help="which nbviz fits to time (cold, warm or both)")
    parser.add_argument("--quality-max", type=int, default=300_000,
                        help="largest N for which KL common is computed (an exact-kNN P); above it 10-NN kept is sampled")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return

    import numpy as np
    import torch

    libs = args.libs.split(",")
    out_dir = Path(tempfile.mkdtemp(prefix="nbviz-bench-"))
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, nbviz threads {args.threads}, device {args.device}, "
          f"{args.n_iter} iterations, perplexity 30")
    header = (f"{'data':>14} {'N':>7} {'D':>4} | {'library':<11} {'seconds':>8} {'kNN s':>6} {'kNN %':>5} {'C build':>7} {'peak GB':>7}"
              f" {'KL common':>9} {'10-NN kept':>10}"
              f" | {'time/openTSNE':>13} {'KL/openTSNE':>11} {'kept-openTSNE':>15}")
    print(header)
    print("-" * len(header))
    for dataset in [d for d in args.data.split(",") if d]:
        X = load(dataset)
        n, dim = X.shape
        plan = []
        if "nbviz" in libs:
            cache = tempfile.mkdtemp(prefix="nbviz-inductor-")
            plan += [(f"nbviz {kind}", {"lib": "nbviz"}, cache) for kind in args.nbviz_runs.split(",")]
        if "opentsne" in libs:
            plan.append(("openTSNE", {"lib": "opentsne"}, tempfile.mkdtemp()))
        if "sklearn" in libs and n <= args.sklearn_max:
            plan.append(("sklearn", {"lib": "sklearn"}, tempfile.mkdtemp()))
        runs, layouts = {}, {}
        for name, spec, cache in plan:
            target = out_dir / f"{dataset}-{name.replace(' ', '_')}.npy"
            spec = dict(spec, dataset=dataset, n_iter=args.n_iter, threads=args.threads if spec["lib"] == "nbviz" else 2,
                        device=args.device, out=str(target))
            runs[name] = measure(spec, cache)
            print(f"  ({dataset} {name}: {runs[name]})", file=sys.stderr, flush=True)
            if "error" not in runs[name]:
                layouts[name] = np.load(target)
        scores = quality(X, layouts, args.quality_max)
        reference = runs.get("openTSNE")
        for name, r in runs.items():
            if "error" in r:
                print(f"{dataset:>14} {n:>7} {dim:>4} | {name:<11} {r['error']}")
                continue
            kl, kept = scores[name]
            ratio_t = ratio_kl = kept_gap = ""
            if reference and "error" not in reference:
                ratio_t = f"{r['seconds'] / reference['seconds']:.2f}x"
                if kl is not None:
                    ratio_kl = f"{kl / scores['openTSNE'][0]:.3f}x"
                if name != "openTSNE":
                    kept_gap = kept_against(kept, scores["openTSNE"][1], sampled=n > args.quality_max)
            knn = f"{r['knn_seconds']:.1f}" if "knn_seconds" in r else ""
            share = f"{100 * r['knn_seconds'] / r['seconds']:.1f}" if "knn_seconds" in r else ""
            build = f"{r['build_seconds']:.2f}" if "build_seconds" in r else ""
            kl_text = f"{kl:.4f}" if kl is not None else "n/a"
            print(f"{dataset:>14} {n:>7} {dim:>4} | {name:<11} {r['seconds']:>8.2f} {knn:>6} {share:>5} {build:>7} {r['peak_bytes'] / 1e9:>7.2f}"
                  f" {kl_text:>9} {float(kept.mean()):>10.4f} | {ratio_t:>13} {ratio_kl:>11} {kept_gap:>15}", flush=True)
        if "sklearn" in libs and n > args.sklearn_max:
            print(f"{dataset:>14} {n:>7} {dim:>4} | {'sklearn':<11} skipped (N > --sklearn-max {args.sklearn_max})")
    if args.stream_size and "nbviz" in libs:
        stream_overhead(args, out_dir)


def stream_overhead(args, out_dir: Path) -> None:
    """Warm fit against the same fit with every frame copied to numpy (what the widget does)."""
    cache = tempfile.mkdtemp(prefix="nbviz-inductor-")
    base = {"lib": "nbviz", "dataset": str(args.stream_size), "n_iter": args.n_iter, "threads": args.threads,
            "device": args.device, "out": str(out_dir / "stream.npy")}
    measure(base, cache)  # fill the compile cache
    # This machine's speed drifts by tens of percent over minutes: alternate the two kinds of
    # run and keep the best of each, so drift does not land on one side.
    runs = [(stream, measure(dict(base, stream=stream), cache)) for stream in (False, True, True, False)]
    failed = next((r for _, r in runs if "error" in r), None)
    if failed is not None:
        print(f"streaming overhead: failed ({failed['error']})")
        return
    plain = min((r for stream, r in runs if not stream), key=lambda r: r["seconds"])
    streamed = min((r for stream, r in runs if stream), key=lambda r: r["seconds"])
    print(f"streaming overhead at N={args.stream_size} (warm, best of 2 alternating runs; every frame copied to numpy): "
          f"fit {plain['seconds']:.2f} s, streamed {streamed['seconds']:.2f} s, "
          f"overhead {100 * (streamed['seconds'] / plain['seconds'] - 1):+.1f}%")


if __name__ == "__main__":
    main()
