"""`to_html`: widgets saved into one self-contained HTML page that opens offline.

The page holds each widget's front-end bundle, its exported state (binary buffers as base64) and a
small anywidget-compatible host that plays the kernel's part: the widgets render from their state
alone, and their controls switch among results computed before export.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from nbviz import __version__
from nbviz.report.buffers import encode_buffers, separate_buffers
from nbviz.report.children import lift_children
from nbviz.report.errors import UnsupportedWidgetError
from nbviz.report.files import writable_target, write_atomically
from nbviz.report.options import route_options
from nbviz.report.page import ReportSection, json_for_script, render_page
from nbviz.report.protocol import FrontEnd, HTMLReportable
from nbviz.report.size import SIZE_BUDGET_MB, ReportFile, measure, warn_if_over_budget
from nbviz.widgets.bundles import read_bundle

HOST_BUNDLE = "report_host"
REPORT_FORMAT = "nbviz-report/1"
SUPPORTED = "nbviz widgets (nbviz.CAMExplorer, nbviz.TSNEScatter)"


def to_html(
    path: str | os.PathLike, *widgets: Any, title: str | None = None, budget_mb: float | None = SIZE_BUDGET_MB,
    **options: Any,
) -> ReportFile:
    """Write `widgets` into one self-contained HTML report at `path` and return its path.

    The file opens offline in any modern browser and makes no network request. `options` go to each
    widget's `export_state()` that accepts them, e.g. for CAMExplorer `layers=`, `classes=`,
    `methods=` choose which maps are precomputed (the report can only show what was computed).
    The returned path (a `nbviz.report.ReportFile`, a `pathlib.Path`) shows as one line with the
    size and what takes it, e.g. ``report.html: 0.42 MB (maps 61%, photos 30%, code 9%)``; its
    `size` holds the numbers. A report above `budget_mb` megabytes (default
    `nbviz.report.SIZE_BUDGET_MB`, 10; None: no limit) raises a `ReportSizeWarning` naming its
    largest part.
    """
    target = writable_target(path, ".html")
    if not widgets:
        raise ValueError("to_html needs at least one widget: nbviz.to_html('report.html', widget, ...)")
    for position, widget in enumerate(widgets, start=1):
        if not isinstance(widget, HTMLReportable):
            raise UnsupportedWidgetError(
                f"nbviz.to_html exports {SUPPORTED}; widget {position} is a {_qualified_type(widget)}. "
                "Other Jupyter widgets can be kept in a saved notebook with their widget state "
                "(JupyterLab: Settings > Save Widget State Automatically) and exported with nbconvert."
            )
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string, got {type(title).__name__}")
    if budget_mb is not None and (isinstance(budget_mb, bool) or not isinstance(budget_mb, (int, float)) or budget_mb <= 0):
        raise ValueError(f"budget_mb must be a positive number of megabytes or None (no limit), got {budget_mb!r}")
    per_widget_options = route_options(widgets, options, "export_state", own=["title", "budget_mb"])

    bundles: dict[str, str] = {}
    entries: list[dict[str, Any]] = []
    sections: list[ReportSection] = []
    data_parts: dict[str, int] = {}
    for index, (widget, widget_options) in enumerate(zip(widgets, per_widget_options)):
        front_end = _front_end(widget)
        bundles.setdefault(front_end.name, front_end.esm)
        widget_id = f"w{index}"
        state, children = lift_children(widget_id, _exported_state(widget, widget_options))
        embedded = _embedded_state(state)
        entries.append({"id": widget_id, "bundle": front_end.name, "css": front_end.css, **embedded})
        parts = [(getattr(widget, "report_part_labels", None) or {}, embedded)]
        for child_id, child in children:
            bundles.setdefault(child.front_end.name, child.front_end.esm)
            child_embedded = _embedded_state(child.state)
            entries.append({"id": child_id, "bundle": child.front_end.name, "css": child.front_end.css,
                            "embedded": True, **child_embedded})
            parts.append((child.part_labels, child_embedded))
        sections.append(ReportSection(widget_id, type(widget).__name__))
        for labels, embedded_part in parts:
            for part, size in _buffer_sizes(labels, embedded_part).items():
                data_parts[part] = data_parts.get(part, 0) + size

    host_source = read_bundle(HOST_BUNDLE)
    page = render_page(
        title=title if title is not None else "nbviz report",
        sections=sections,
        payload={"format": REPORT_FORMAT, "bundles": bundles, "widgets": entries},
        host_source=host_source,
        version=__version__,
        created=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )
    encoded = page.encode("utf-8")
    write_atomically(target, encoded)
    code = len(host_source.encode("utf-8")) + sum(len(json_for_script(esm).encode("utf-8")) for esm in bundles.values())
    size = measure(target.name, len(encoded), data_parts, code)
    warn_if_over_budget(size, budget_mb)
    return ReportFile.written(target, size)


def _buffer_sizes(labels: dict[str, str], embedded: dict[str, Any]) -> dict[str, int]:
    """Bytes of a widget's embedded binary data, per part: the top-level state key each buffer
    sits under, named by `labels` (the widget's optional `report_part_labels`, {state key: name})
    or by the key without its leading underscores."""
    sizes: dict[str, int] = {}
    for path, text in zip(embedded["buffer_paths"], embedded["buffers"]):
        key = str(path[0])
        part = labels.get(key, key.lstrip("_"))
        sizes[part] = sizes.get(part, 0) + len(text)
    return sizes


def _front_end(widget: HTMLReportable) -> FrontEnd:
    front_end = widget.front_end()
    if not isinstance(front_end, FrontEnd) or not isinstance(front_end.esm, str):
        raise TypeError(
            f"{type(widget).__name__}.front_end() must return nbviz.report.FrontEnd(name, esm source text, css), "
            f"got {front_end!r:.80}"
        )
    return front_end


def _exported_state(widget: HTMLReportable, options: dict[str, Any]) -> dict[str, Any]:
    state = widget.export_state(**options)
    if not isinstance(state, dict):
        raise TypeError(
            f"{type(widget).__name__}.export_state() returned {type(state).__name__}; it must "
            "return a dict of trait values"
        )
    return state


def _embedded_state(state: dict[str, Any]) -> dict[str, Any]:
    """An exported state, `_offline` set, with binary values lifted out as base64 buffers."""
    clean, buffer_paths, buffers = separate_buffers({**state, "_offline": True})
    return {"state": clean, "buffer_paths": buffer_paths, "buffers": encode_buffers(buffers)}


def _qualified_type(value: Any) -> str:
    return f"{type(value).__module__}.{type(value).__qualname__}"
