"""Both widgets in Jupyter Notebook 7 (headless Chromium): they render and each round-trips one
interaction through the kernel."""
from __future__ import annotations

import pytest

from frontend_checks import (
    BOTH_WIDGETS, SHOW_EXPLORER, SHOW_SCATTER, check_cam_explorer_round_trip, check_tsne_scatter_round_trip,
)

# Notebook 7.6's own start-up raises this (notebook_core.js, a settings schema lookup) on a page
# with no widgets at all; it is not ours.
NOTEBOOK7_OWN_ERRORS = {"Cannot read properties of undefined (reading 'schema')"}


@pytest.mark.browser
def test_both_widgets_render_and_round_trip_in_notebook7(notebook7, screenshot):
    page = notebook7.open_notebook([BOTH_WIDGETS, SHOW_EXPLORER, SHOW_SCATTER], "both_widgets_nb7.ipynb", timeout=180)
    assert "/notebooks/" in page.url  # Notebook 7's page, not JupyterLab's
    # The scatter first: it must be seen moving while the layout still changes fast.
    check_tsne_scatter_round_trip(page, notebook7.root)
    screenshot(page.locator(".nbviz-tsne").first, "notebook7_tsne_scatter.png")
    check_cam_explorer_round_trip(page, notebook7.root)
    screenshot(page.locator(".nbviz-cam").first, "notebook7_cam_explorer.png")
    assert not [e for e in page.console_errors if e not in NOTEBOOK7_OWN_ERRORS], page.console_errors
