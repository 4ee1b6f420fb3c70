"""Where the built front-end bundles live, and a clear error when they were never built."""
from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


class BundleMissingError(FileNotFoundError):
    """The ESM bundle for a widget has not been built."""


def bundle_path(name: str) -> Path:
    """Path of `nbviz/static/<name>.js`, the single-file ES module built from `js/src/<name>.js`."""
    path = STATIC_DIR / f"{name}.js"
    if not path.is_file():
        raise BundleMissingError(
            f"The front-end bundle {path} is missing. It is built from js/ by the package build: "
            "reinstall nbviz (`pip install .`), or in a source checkout run `make js` "
            "(npm ci && npm run build in js/)."
        )
    return path


def read_bundle(name: str) -> str:
    """The bundle's source text, for embedding into a self-contained HTML report."""
    return bundle_path(name).read_text(encoding="utf-8")
