"""TSNEScatter.add_points in a real JupyterLab: the view grows from 1,500 to 1,797 points, the new
points stream in while the fitted ones stay exactly where they were, and the legend counts them."""
from __future__ import annotations

import json

import numpy as np
import pytest

from harness import wait_for_file, wait_until

HOOK = "() => document.querySelector('.nbviz-tsne').nbviz"

FIT = """
import json, pathlib
import numpy as np
from nbviz import TSNEScatter
from nbviz.data import digits
X, y = digits()
w = TSNEScatter(X[:1500], labels=y[:1500], texts=[f"digit {v}" for v in y[:1500]], n_iter=400, random_state=0)
w
"""

ADD = """
w.wait()
pathlib.Path("fitted.json").write_text(json.dumps(w.embedding.tolist()))
added = w.add_points(X[1500:], labels=y[1500:], texts=[f"new {v}" for v in y[1500:]])
"""


@pytest.mark.browser
def test_added_points_stream_into_the_plot_in_jupyterlab(lab, screenshot):
    page = lab.open_notebook([FIT, ADD], "tsne_add_points.ipynb")
    widget = page.locator(".nbviz-tsne").first
    widget.wait_for(timeout=60_000)
    fitted = np.array(json.loads(wait_for_file(lab.root / "fitted.json", timeout=180)), dtype=np.float32)
    page.wait_for_function(f"() => ({HOOK})().pointCount() === 1797", timeout=60_000)
    widget.locator(".badge", has_text="Finished").wait_for(timeout=120_000)
    widget.get_by_text("added 297 points").wait_for(timeout=60_000)

    def shown() -> np.ndarray:
        return np.array(page.evaluate(f"() => ({HOOK})().layout()"), dtype=np.float32).reshape(-1, 2)

    # Streamed frames may be uint16-quantised; the settled float32 layout follows them.
    assert wait_until(lambda: shown().shape == (1797, 2) and np.array_equal(shown()[:1500], fitted), timeout=30)
    shown = shown()
    assert np.isfinite(shown[1500:]).all()
    # The legend counts every point, old and new: y[:1797] has 178 zeros.
    assert "178" in widget.locator(".legend").inner_text()
    assert "1,797 points" in widget.inner_text()
    stats = page.evaluate(f"() => ({HOOK})().stats()")
    assert stats["framesDrawn"] >= 2
    screenshot(widget, "tsne_add_points.png")
    assert not page.console_errors, page.console_errors
