"""Sphinx configuration for the nbviz documentation (`make docs` builds it into docs/_build/html).

The API reference comes from the docstrings (autodoc, numpydoc); the example notebooks are copied
from ../notebooks into docs/_generated/ and rendered by myst-nb with their saved outputs, without
running them (running all three takes minutes; `NBVIZ_DOCS_EXECUTE=1 make docs` runs them).
The build is nitpicky and warnings are errors: a broken reference fails it.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO))

import nbviz  # noqa: E402

project = "nbviz"
author = "nbviz developers"
release = version = nbviz.__version__

extensions = ["sphinx.ext.autodoc", "numpydoc", "myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "alabaster"
html_static_path: list[str] = []
html_title = f"nbviz {release}"

# Docstrings use `name` for code, as in Markdown: show it as code rather than guess a cross-reference.
default_role = "literal"
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
numpydoc_validation_checks: set[str] = set()

# Every reference must resolve, except to the libraries nbviz builds on (no intersphinx: the docs
# build offline) and to private helpers that appear in signatures.
nitpicky = True
EXTERNAL = r"(torch|np|numpy|PIL|matplotlib|traitlets|anywidget|ipywidgets|os|pathlib|collections|typing|concurrent|threading|dataclasses|tqdm|sklearn|Image)"
nitpick_ignore_regex = [
    (r"py:.*", EXTERNAL + r"(\..*)?"),
    (r"py:.*", r"(t\..*|Figure|Any|Callable|Iterable|Iterator|Sequence|Mapping|ClassVar|Literal|Path|PathLike|TypeVar|Protocol)"),
    (r"py:.*", r"(optional|default|array-like|callable)"),
    # type aliases and generic annotations that autodoc prints but cannot link
    (r"py:.*", r"(MethodFn|(tuple|Mapping|dict|list)\[.*)"),
]

# Notebooks: markdown pages and notebooks through myst-nb, outputs as saved.
myst_enable_extensions = ["dollarmath", "amsmath"]
nb_execution_mode = "cache" if os.environ.get("NBVIZ_DOCS_EXECUTE") else "off"
nb_execution_timeout = 900
suppress_warnings = ["mystnb.unknown_mime_type"]


def _copy_notebooks() -> None:
    """Copy ../notebooks/*.ipynb into docs/_generated/notebooks (Sphinx reads only its source folder)."""
    target = DOCS / "_generated" / "notebooks"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for notebook in sorted((REPO / "notebooks").glob("*.ipynb")):
        shutil.copy(notebook, target / notebook.name)


_copy_notebooks()
