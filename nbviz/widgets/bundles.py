"""Where the built front-end bundles live, and a clear error when they were never built.

The package ships its production bundles in `nbviz/static/`. Setting the environment variable
`NBVIZ_BUNDLE_DIR` (read once, at import) makes nbviz load them from another folder instead: the
test suite points it at `js/build/test-bundles/`, the test build that carries the inspection hooks
the browser tests read (see js/build.mjs).
"""
from __future__ import annotations

import os
from pathlib import Path

BUNDLE_DIR_ENV = "NBVIZ_BUNDLE_DIR"
PACKAGE_STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STATIC_DIR = Path(os.environ[BUNDLE_DIR_ENV]) if os.environ.get(BUNDLE_DIR_ENV) else PACKAGE_STATIC_DIR


class BundleMissingError(FileNotFoundError):
    """The ESM bundle for a widget has not been built."""


def bundle_path(name: str) -> Path:
    """Path of `<STATIC_DIR>/<name>.js`, the single-file ES module built from `js/src/<name>.js`."""
    path = STATIC_DIR / f"{name}.js"
    if not path.is_file():
        overridden = f" ({BUNDLE_DIR_ENV} is set to {os.environ[BUNDLE_DIR_ENV]})" if os.environ.get(BUNDLE_DIR_ENV) else ""
        raise BundleMissingError(
            f"The front-end bundle {path} is missing{overridden}. It is built from js/ by the "
            "package build: reinstall nbviz (`pip install .`), or in a source checkout run `make js` "
            "(npm ci && npm run build in js/, which writes nbviz/static/ and js/build/test-bundles/)."
        )
    return path


def read_bundle(name: str) -> str:
    """The bundle's source text, for embedding into a self-contained HTML report."""
    return bundle_path(name).read_text(encoding="utf-8")
