"""What an offline report weighs: CAMExplorer on an early and a late layer, and the demo report.

    .venv/bin/python benchmarks/report_size.py [--no-demo]

Rows: resnet18 (random weights: the size does not depend on them) on the "chelsea" photo at
`conv1` (112 x 112 maps) and `layer4` (7 x 7), with `to_html`'s defaults (top-3 classes, the
gradient-based methods), and `nbviz demo --html` (EfficientNet-Lite0 plus the digits' t-SNE).
Each row prints the line `to_html` returns: the size and the share of each part.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
import torchvision

import nbviz
from nbviz import data
from nbviz.demo import write_demo_report


def explorer_report(folder: Path, layer: str) -> nbviz.report.ReportFile:
    """The report of a CAMExplorer of resnet18(weights=None) on the cat photo at `layer`."""
    torch.manual_seed(0)
    _, transform, classes = data.load_pretrained()
    model = torchvision.models.resnet18(weights=None).eval()
    explorer = nbviz.CAMExplorer(model, data.sample_image("chelsea"), transform=transform, labels=classes, layer=layer)
    try:
        return nbviz.to_html(folder / f"resnet18_{layer}.html", explorer)
    finally:
        explorer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-demo", action="store_true", help="skip the demo report (its t-SNE takes ~10 s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for layer in ("conv1", "layer4"):
            print(repr(explorer_report(Path(folder), layer)))
        if not args.no_demo:
            print(repr(write_demo_report(Path(folder) / "nbviz-demo.html", stream=None)))


if __name__ == "__main__":
    main()
