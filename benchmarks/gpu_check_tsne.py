"""GPU check for nbviz.tsne (the lead runs this where a CUDA device is lent; ~3 minutes).

Prints: gradient agreement on the GPU (exact vs FFT, GPU vs CPU), digits quality on the GPU
against the CPU run, and warm wall times for 750 iterations on Gaussian mixtures.
    python benchmarks/gpu_check_tsne.py [--sizes 20000,70000,200000]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nbviz.data import digits  # noqa: E402
from nbviz.tsne import TSNE  # noqa: E402
from nbviz.tsne.gradients import gradient  # noqa: E402


def mixture(n: int, dim: int = 50, n_centres: int = 20, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.0, size=(n_centres, dim)) * 1.5
    labels = rng.integers(0, n_centres, size=n)
    return (centres[labels] + rng.normal(size=(n, dim))).astype(np.float32), labels


def ten_nn_accuracy(layout: np.ndarray, labels: np.ndarray) -> float:
    y = torch.as_tensor(layout, dtype=torch.float64)
    d = torch.cdist(y, y)
    d.fill_diagonal_(float("inf"))
    votes = torch.as_tensor(labels)[d.topk(10, largest=False).indices]
    predicted = torch.mode(votes, dim=1).values.numpy()
    return float((predicted == labels).mean())


def timed_fit(X, device: str) -> tuple[float, float, np.ndarray]:
    model = TSNE(random_state=0, device=device)
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    layout = model.fit_transform(X)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, model.kl_divergence_, layout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20000,70000,200000")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this check needs a GPU")
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")

    X, _ = mixture(2000)
    P_gpu = TSNE(random_state=0, device="cuda").optimizer(X).affinities
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(10, 2, generator=g) * 20
    y_cpu = centres[torch.randint(0, 10, (2000,), generator=g)] + torch.randn(2000, 2, generator=g) * 2
    y = y_cpu.cuda()
    exact, _ = gradient(y, P_gpu, 1.0, "exact")
    fft, _ = gradient(y, P_gpu, 1.0, "fft")
    P_cpu = TSNE(random_state=0, device="cpu").optimizer(X).affinities
    cpu_exact, _ = gradient(y_cpu, P_cpu, 1.0, "exact")
    print(f"N=2000 gradient: |fft-exact|/|exact| on GPU = {float((fft - exact).norm() / exact.norm()):.2e} (must be < 1e-2); "
          f"|gpu-cpu|/|cpu| exact = {float((exact.cpu() - cpu_exact).norm() / cpu_exact.norm()):.2e}")

    Xd, labels = digits()
    t_gpu, kl_gpu, lay_gpu = timed_fit(Xd, "cuda")
    t_cpu, kl_cpu, lay_cpu = timed_fit(Xd, "cpu")
    print(f"digits: GPU {t_gpu:.2f} s KL {kl_gpu:.4f} 10-NN {ten_nn_accuracy(lay_gpu, labels):.4f} | "
          f"CPU {t_cpu:.2f} s KL {kl_cpu:.4f} 10-NN {ten_nn_accuracy(lay_cpu, labels):.4f}")

    timed_fit(mixture(5000)[0], "cuda")  # warm-up: CUDA context, FFT plans
    print(f"{'N':>8} {'GPU s (750 it)':>15} {'KL':>8} {'stream s':>9} {'overhead':>9}")
    for n in (int(s) for s in args.sizes.split(",") if s):
        Xn, _ = mixture(n)
        seconds, kl, _ = timed_fit(Xn, "cuda")
        torch.cuda.synchronize()
        start = time.perf_counter()
        run = TSNE(random_state=0, device="cuda").optimizer(Xn)
        for frame in run:
            frame.embedding.cpu().numpy().copy()
        streamed = time.perf_counter() - start
        print(f"{n:>8} {seconds:>15.2f} {kl:>8.4f} {streamed:>9.2f} {100 * (streamed / seconds - 1):>+8.1f}%", flush=True)


if __name__ == "__main__":
    main()
