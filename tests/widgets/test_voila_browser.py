"""`voila notebooks/tsne_lecture.ipynb` serves the lecture as a page without code; the t-SNE
animates and its controls reach the kernel (headless Chromium against a real Voilà server)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from frontend_checks import open_recording_page, plot_pixels
from harness import running_page_server

LECTURE = Path(__file__).resolve().parents[2] / "notebooks" / "tsne_lecture.ipynb"
# Voilà's own page asks a CDN for Font Awesome (blocked offline here) and its module federation
# complains about a JupyterLab package it does not share; neither comes from nbviz.
VOILA_OWN_ERRORS = ("Failed to load resource", "The getter for the shared module is not a function")


@pytest.fixture(scope="module")
def voila_lecture():
    command = ["voila", LECTURE.name, "--no-browser", "--port={port}", "--Voila.ip=127.0.0.1"]
    # NBVIZ_FAST: the lecture's fewer points and iterations (as in the notebook execution test).
    with running_page_server(command, [LECTURE], env={"NBVIZ_FAST": "1"}, prefix="nbviz-voila-") as server:
        yield server


@pytest.mark.browser
def test_voila_serves_the_lecture_without_code_and_the_tsne_runs(voila_lecture, browser_context, screenshot):
    page = open_recording_page(browser_context, voila_lecture.url, timeout_s=300)  # Voilà runs every cell first
    view = page.locator(".nbviz-tsne").first
    view.wait_for(timeout=120_000)

    # A page, not a notebook: the lecture's prose and figures, none of its code.
    text = page.locator("body").inner_text()
    assert "t-SNE, live: a lecture notebook" in text and "The effect of perplexity" in text
    for code in ("import numpy as np", "nbviz.TSNEScatter(", "scatter.wait(", "plt.subplots("):
        assert code not in text, f"code is shown: {code!r}"
    assert page.locator(".jp-OutputArea-output img").count() >= 3  # the matplotlib figures
    view.locator(".badge", has_text="Finished").wait_for(timeout=60_000)

    # Restart: the run starts again from the PCA layout and the plot animates. Pause follows at
    # once: the lecture's short run (300 iterations of 1,797 points) ends within about a second,
    # and the button says Pause only while it runs.
    frames = "() => document.querySelector('.nbviz-tsne').nbviz.stats().framesDrawn"
    drawn = page.evaluate(frames)
    before = plot_pixels(page)
    view.get_by_role("button", name="Restart from the initial layout").click()
    view.locator(".badge", has_text="Running").wait_for(timeout=30_000)
    page.wait_for_function(f"() => ({frames})() >= {drawn + 5}", timeout=60_000)

    # Pause: the kernel's status comes back as the badge, and no more frames are drawn.
    view.get_by_role("button", name="Pause").click()
    view.locator(".badge", has_text="Paused").wait_for(timeout=30_000)
    changed = np.abs(before - plot_pixels(page)).sum(axis=-1) > 30
    assert changed.mean() > 0.002, f"only {changed.mean():.4%} of the plot changed after Restart"
    screenshot(view, "voila_tsne_restarted.png")
    time.sleep(0.5)
    paused_at = page.evaluate(frames)
    time.sleep(1.0)
    assert page.evaluate(frames) <= paused_at + 1
    screenshot(page, "voila_lecture.png")
    errors = page.console_errors
    assert not [e for e in errors if not any(known in e for known in VOILA_OWN_ERRORS)], errors
    page.close()
