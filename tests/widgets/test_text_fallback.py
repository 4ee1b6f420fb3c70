"""Where no widget runtime runs (a terminal, nbconvert without widget state), a widget shows one
line saying what it is and how to view it (to_html), never a traceback or an object address."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from nbviz import TSNEScatter

REPO = Path(__file__).resolve().parents[2]


def _check_fallback(text: str, name: str, summary: str) -> None:
    assert "\n" not in text and "Traceback" not in text and "object at 0x" not in text
    assert text.startswith(f"{name} ({summary}): ")
    assert f".to_html('{name.lower()}.html')" in text


def test_both_widgets_repr_and_text_plain_say_what_they_are(cam_make_explorer):
    scatter = TSNEScatter(np.random.default_rng(0).normal(size=(30, 4)), autostart=False)
    explorer = cam_make_explorer()
    try:
        for widget, summary in ((scatter, "live t-SNE scatter plot"), (explorer, "class-activation map explorer")):
            bundle, _ = widget._repr_mimebundle_()
            assert bundle["text/plain"] == repr(widget)
            _check_fallback(bundle["text/plain"], type(widget).__name__, summary)
    finally:
        scatter.close()


def test_terminal_ipython_prints_the_one_line_fallback(tmp_path):
    code = "import numpy as np; from nbviz import TSNEScatter; TSNEScatter(np.ones((12, 3)), autostart=False)"
    result = subprocess.run(
        [sys.executable, "-m", "IPython", "--no-banner", "--colors=NoColor", "--HistoryManager.enabled=False",
         "-c", code],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**__import__("os").environ, "PYTHONPATH": str(REPO), "IPYTHONDIR": str(tmp_path / "ipython")},
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("Out[")
    _check_fallback(line.split(": ", 1)[1], "TSNEScatter", "live t-SNE scatter plot")


def test_nbconvert_html_without_widget_state_shows_the_text(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import numpy as np\nfrom nbviz import TSNEScatter\nTSNEScatter(np.ones((12, 3)), autostart=False)"
    )])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(notebook, timeout=120, kernel_name="python3", store_widget_state=False,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert "widgets" not in notebook.metadata
    html, _ = HTMLExporter().from_notebook_node(notebook)
    assert "Traceback" not in html
    assert "TSNEScatter (live t-SNE scatter plot): shown only where the Jupyter widget runtime runs" in html
