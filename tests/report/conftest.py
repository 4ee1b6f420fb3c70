"""Fixtures for the report tests: a static folder with the test-only swatch widget bundle."""
from __future__ import annotations

import pytest

from nbviz.widgets import bundles
from swatch_widget import stage_static_dir


@pytest.fixture
def swatch_static_dir(tmp_path, monkeypatch):
    """Point nbviz at a static folder holding the report host and the fixture widget's bundle."""
    folder = stage_static_dir(tmp_path / "static")
    monkeypatch.setattr(bundles, "STATIC_DIR", folder)
    return folder
