"""The documentation builds without a warning (nitpicky: every reference resolves), with the API
reference and the example notebooks in it; a broken reference fails the build."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _build(source: Path, out: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p))
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-n", "-q", "-b", "html", str(source), str(out)],
        capture_output=True, text=True, timeout=600, env=env,
    )


def test_docs_build_cleanly_with_api_and_notebooks(tmp_path):
    result = _build(REPO / "docs", tmp_path / "html")
    assert result.returncode == 0, result.stderr[-4000:]
    html = tmp_path / "html"
    for page in ("quickstart", "cam_methods", "tsne_lecture"):
        assert (html / "_generated" / "notebooks" / f"{page}.html").is_file()
    lecture = (html / "_generated" / "notebooks" / "tsne_lecture.html").read_text()
    assert "The effect of perplexity" in lecture and "TSNEScatter" in lecture
    tsne_api = (html / "api" / "tsne.html").read_text()
    assert 'id="nbviz.tsne.TSNE"' in tsne_api and "get_params" in tsne_api
    assert 'id="nbviz.CAMExplorer"' in (html / "api" / "widgets.html").read_text()
    assert "mo.ui.anywidget" in (html / "marimo.html").read_text()


def test_a_broken_reference_fails_the_build(tmp_path):
    shutil.copytree(REPO / "docs", tmp_path / "docs", ignore=shutil.ignore_patterns("_build", "_generated"))
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns("reports", ".ipynb*"))
    (tmp_path / "docs" / "broken.md").write_text("---\norphan: true\n---\n# Broken\n\n{func}`nbviz.no_such_function`\n")
    result = _build(tmp_path / "docs", tmp_path / "html")
    assert result.returncode != 0
    assert "nbviz.no_such_function" in result.stderr
