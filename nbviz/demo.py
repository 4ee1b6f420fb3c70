"""The quickstart report without a notebook (`nbviz demo --html`): CAMExplorer on the embedded
EfficientNet-Lite0 and the "chelsea" photo, and TSNEScatter of the digits run to completion with its
keyframes. It composes the widgets with the report package; nothing in nbviz imports it but the CLI."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable, TextIO

from nbviz.data import digits
from nbviz.report import to_html
from nbviz.widgets.cam_explorer import CAMExplorer
from nbviz.widgets.tsne_scatter import TSNEScatter

DEMO_TITLE = "nbviz quickstart"
EARLY_EXAGGERATION_ITER = 250


def run_to_completion(scatter: TSNEScatter, timeout: float = 1800.0) -> None:
    """Start the scatter's optimisation and block until it has finished (raise on error or timeout)."""
    scatter.start()
    if scatter.wait(timeout=timeout):
        return
    if scatter.status in ("running", "paused"):
        scatter.stop()
        raise TimeoutError(f"t-SNE did not finish within {timeout:.0f} s (iteration {scatter.iteration})")
    raise RuntimeError(f"t-SNE ended without finishing ({scatter.status}): {scatter.error or 'no details'}")


def build_demo_widgets(
    *, tsne_iterations: int = 750, log: Callable[[str], None] = lambda message: None
) -> tuple[CAMExplorer, TSNEScatter]:
    """(CAMExplorer, TSNEScatter) as in notebooks/quickstart.ipynb, the t-SNE run to the end."""
    if tsne_iterations < 1:
        raise ValueError(f"tsne_iterations must be at least 1, got {tsne_iterations}")
    started = time.perf_counter()
    log("loading EfficientNet-Lite0 (embedded weights) and the 'chelsea' photo")
    explorer = CAMExplorer()
    log(f"  ready in {time.perf_counter() - started:.1f} s; top class: {explorer.class_names[explorer.target]}")

    X, y = digits()
    started = time.perf_counter()
    log(f"running t-SNE on {len(X)} digits ({tsne_iterations} iterations)")
    scatter = TSNEScatter(
        X, labels=y, title="Handwritten digits (8x8 pixels, 64 dimensions)", autostart=False,
        random_state=0, n_iter=tsne_iterations,
        early_exaggeration_iter=min(EARLY_EXAGGERATION_ITER, tsne_iterations // 3),
    )
    run_to_completion(scatter)
    log(f"  done in {time.perf_counter() - started:.1f} s; KL {scatter.kl:.3f}")
    return explorer, scatter


def write_demo_report(
    path: str | Path, *, title: str = DEMO_TITLE, tsne_iterations: int = 750, stream: TextIO | None = sys.stderr
) -> Path:
    """Build the demo widgets and write them into one offline HTML report at `path`."""
    def log(message: str) -> None:
        if stream is not None:
            print(message, file=stream, flush=True)

    explorer, scatter = build_demo_widgets(tsne_iterations=tsne_iterations, log=log)
    try:
        log("precomputing maps (current layer, top-3 classes, gradient-based methods) and writing the report")
        return to_html(path, explorer, scatter, title=title)
    finally:
        scatter.close()
        explorer.close()
