"""The `nbviz` command line: `nbviz demo --html PATH` writes the quickstart as an offline report."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nbviz import __version__

DESCRIPTION = "nbviz: Jupyter widgets for looking inside deep-learning models."
DEMO_HELP = (
    "Write the quickstart as one self-contained HTML report, without a notebook: class-activation "
    "maps of the embedded EfficientNet-Lite0 on the 'chelsea' photo (current layer, top-3 classes, "
    "gradient-based methods precomputed) and a t-SNE of the 1797 scikit-learn digits run to the end, "
    "with its keyframes to replay. The file opens offline in any browser."
)

EXAMPLES = """examples:
  nbviz demo --html nbviz-demo.html             the full quickstart report (about a minute)
  nbviz demo --html quick.html --tsne-iterations 300
  python -m nbviz demo --html report.html       the same without the console script"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nbviz", description=DESCRIPTION, epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"nbviz {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="write the quickstart report as an offline HTML file",
                               description=DEMO_HELP, epilog=EXAMPLES,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_argument("--html", metavar="PATH", required=True, type=Path,
                      help="where to write the report, e.g. nbviz-demo.html (its folder must exist)")
    demo.add_argument("--title", default="nbviz quickstart", help="report title (default: %(default)s)")
    demo.add_argument("--tsne-iterations", type=int, default=750, metavar="N",
                      help="t-SNE iterations; fewer is quicker but less converged (default: %(default)s)")
    demo.add_argument("--quiet", action="store_true", help="print only the result line")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "demo":
        return run_demo(args, parser)
    parser.error(f"unknown command {args.command!r}")
    return 2


def run_demo(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    # torch and the widgets load only when a demo is built: --help and argument errors answer at once.
    from nbviz.demo import write_demo_report

    target = args.html.expanduser()
    if target.is_dir():
        parser.error(f"--html {target} is a folder; give a file name such as {target / 'nbviz-demo.html'}")
    if not target.parent.is_dir():
        parser.error(f"--html: the folder {target.parent} does not exist; create it first")
    if args.tsne_iterations < 1:
        parser.error(f"--tsne-iterations must be at least 1, got {args.tsne_iterations}")
    path = write_demo_report(
        target, title=args.title, tsne_iterations=args.tsne_iterations,
        stream=None if args.quiet else sys.stderr,
    )
    size = path.stat().st_size
    print(f"{path.resolve()} ({size / 1e6:.2f} MB, {size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
