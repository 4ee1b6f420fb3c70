"""The production bundles (what the wheel ships) carry no test hooks; the test build does.

js/build.mjs builds every entry twice: `nbviz/static/` with the hook code compiled out, and
`js/build/test-bundles/` with it (the browser tests load that one through NBVIZ_BUNDLE_DIR).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from nbviz.widgets import bundles

REPO = Path(__file__).resolve().parent.parent
TEST_BUNDLE_DIR = REPO / "js" / "build" / "test-bundles"
# How each hook shows in minified code: property names survive minification.
HOOKS = {
    "cam_explorer.js": re.compile(r"__nbvizCam"),
    "tsne_scatter.js": re.compile(r"\.nbviz\s*=\s*\{"),
}


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_production_bundle_has_no_test_hook(name):
    source = (bundles.PACKAGE_STATIC_DIR / name).read_text(encoding="utf-8")
    assert not HOOKS[name].search(source), f"nbviz/static/{name} contains a test hook; see js/build.mjs"
    assert "NBVIZ_TEST_HOOKS" not in source, f"nbviz/static/{name} still reads the build flag at run time"


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_test_bundle_has_the_hook(name):
    """The pattern above finds the hook where it exists, so the production check can fail."""
    source = (TEST_BUNDLE_DIR / name).read_text(encoding="utf-8")
    assert HOOKS[name].search(source), f"js/build/test-bundles/{name} lacks its test hook"


def test_the_suite_loads_the_test_build():
    assert bundles.STATIC_DIR == TEST_BUNDLE_DIR
    assert bundles.bundle_path("tsne_scatter").parent == TEST_BUNDLE_DIR
