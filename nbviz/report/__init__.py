"""Shareable reports: self-contained offline HTML (`to_html`) and static PNG images (`to_png`).

Widgets take part through a small protocol (`nbviz.report.protocol`): `front_end()` and
`export_state(**options)` for HTML, `snapshot_figure(**options)` for PNG. This package never looks at
concrete widget classes.
"""
from __future__ import annotations

from nbviz.report.children import ChildWidget
from nbviz.report.errors import StateNotSerializableError, UnsupportedWidgetError
from nbviz.report.html import to_html
from nbviz.report.png import to_png
from nbviz.report.protocol import FrontEnd, HTMLReportable, PNGReportable
from nbviz.report.size import SIZE_BUDGET_MB, ReportFile, ReportSize, ReportSizeWarning

__all__ = [
    "to_html", "to_png", "FrontEnd", "HTMLReportable", "PNGReportable",
    "UnsupportedWidgetError", "StateNotSerializableError", "ChildWidget",
    "ReportFile", "ReportSize", "ReportSizeWarning", "SIZE_BUDGET_MB",
]
