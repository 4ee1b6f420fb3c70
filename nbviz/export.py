"""Shareable reports: self-contained offline HTML (`to_html`) and static PNG snapshots (`to_png`).

`to_html` writes one HTML file holding each widget's front-end bundle, its exported state (binary
buffers as base64) and a small anywidget-compatible host that plays the kernel's part: the widgets
render from their traits alone, and their controls switch among results computed before export.

Widget classes are imported lazily, inside the functions, so importing this module stays light.
"""
from __future__ import annotations

import inspect
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from nbviz.export_buffers import encode_buffers, separate_buffers
from nbviz.export_page import ReportSection, render_page

__all__ = ["to_html", "to_png", "UnsupportedWidgetError"]

HOST_BUNDLE = "report_host"
SUPPORTED = "nbviz widgets (nbviz.CAMExplorer, nbviz.TSNEScatter)"


class UnsupportedWidgetError(TypeError):
    """An object that nbviz cannot export was passed to `to_html` or `to_png`."""


def to_html(path: str | os.PathLike, *widgets: Any, title: str | None = None, **options: Any) -> Path:
    """Write `widgets` into one self-contained HTML report at `path` and return its path.

    The file opens offline in any modern browser and makes no network request. `options` go to each
    widget's `export_state()` that accepts them, e.g. for CAMExplorer `layers=`, `classes=`,
    `methods=` choose which maps are precomputed (the report can only show what was computed).
    """
    from nbviz import __version__
    from nbviz.widgets.bundles import read_bundle

    target = _writable_target(path, ".html")
    if not widgets:
        raise ValueError("to_html needs at least one widget: nbviz.to_html('report.html', widget, ...)")
    _require_nbviz_widgets(widgets, "to_html")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string, got {type(title).__name__}")
    per_widget_options = _route_options(widgets, options)

    bundles: dict[str, str] = {}
    entries: list[dict[str, Any]] = []
    sections: list[ReportSection] = []
    for index, (widget, widget_options) in enumerate(zip(widgets, per_widget_options)):
        bundle = type(widget)._bundle_name
        if bundle not in bundles:
            bundles[bundle] = read_bundle(bundle)
        state = widget.export_state(**widget_options)
        if not isinstance(state, dict):
            raise TypeError(
                f"{type(widget).__name__}.export_state() returned {type(state).__name__}; it must "
                "return a dict of trait values"
            )
        state = {**state, "_offline": True}
        clean, buffer_paths, buffers = separate_buffers(state)
        widget_id = f"w{index}"
        entries.append(
            {
                "id": widget_id,
                "bundle": bundle,
                "css": _widget_css(widget),
                "state": clean,
                "buffer_paths": buffer_paths,
                "buffers": encode_buffers(buffers),
            }
        )
        sections.append(ReportSection(widget_id, type(widget).__name__))

    created = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = render_page(
        title=title if title is not None else "nbviz report",
        sections=sections,
        payload={"format": "nbviz-report/1", "bundles": bundles, "widgets": entries},
        host_source=read_bundle(HOST_BUNDLE),
        version=__version__,
        created=created,
    )
    _write_atomically(target, page.encode("utf-8"))
    return target


def to_png(path: str | os.PathLike, widget: Any, **options: Any) -> Path:
    """Save a static matplotlib image of `widget`'s current view at `path` and return its path.

    For places that run no JavaScript (GitHub, nbviewer, slides). CAMExplorer: the photo with the
    current map over it, captioned with layer, class and method. TSNEScatter: the current embedding
    coloured by label, with the iteration and KL divergence in the title. `options`: `dpi` (default
    120) and `figsize` (inches).
    """
    target = _writable_target(path, ".png")
    _require_nbviz_widgets([widget], "to_png")
    from nbviz.export_png import render_png

    data = render_png(widget, **options)
    _write_atomically(target, data)
    return target


def _require_nbviz_widgets(widgets: Any, function: str) -> None:
    from nbviz.widgets.base import NbvizWidget

    for position, widget in enumerate(widgets, start=1):
        if not isinstance(widget, NbvizWidget):
            kind = f"{type(widget).__module__}.{type(widget).__qualname__}"
            raise UnsupportedWidgetError(
                f"nbviz.{function} exports {SUPPORTED}; widget {position} is a {kind}. "
                "Other Jupyter widgets can be kept in a saved notebook with their widget state "
                "(JupyterLab: Settings > Save Widget State Automatically) and exported with nbconvert."
            )


def _route_options(widgets: Any, options: dict[str, Any]) -> list[dict[str, Any]]:
    """Give each widget the options its export_state() accepts; reject options nobody takes."""
    from nbviz.widgets.base import NbvizWidget

    routed: list[dict[str, Any]] = []
    taken: set[str] = set()
    open_ended = False
    for widget in widgets:
        parameters = inspect.signature(widget.export_state).parameters.values()
        named = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters)
        # The base class swallows **options without using them; only an override counts as taking them.
        overrides = type(widget).export_state is not NbvizWidget.export_state
        open_ended |= takes_any and overrides
        taken |= named
        routed.append(dict(options) if takes_any else {k: v for k, v in options.items() if k in named})
    unknown = sorted(set(options) - taken)
    if unknown and not open_ended:
        accepted = "; ".join(
            f"{type(w).__name__}: {', '.join(_option_names(w)) or 'none'}" for w in widgets
        )
        raise TypeError(
            f"unknown export option(s) {', '.join(unknown)}: no widget in this report takes them "
            f"(options each widget takes: {accepted})"
        )
    return routed


def _option_names(widget: Any) -> list[str]:
    parameters = inspect.signature(widget.export_state).parameters.values()
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _widget_css(widget: Any) -> str:
    css = getattr(widget, "_css", None)
    return css if isinstance(css, str) else ""


def _writable_target(path: str | os.PathLike, suffix: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"the first argument is the output path (str or Path), not {type(path).__name__}")
    target = Path(path).expanduser()
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a directory; give a file name such as {target / ('report' + suffix)}")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"the folder {target.parent} does not exist; create it first")
    return target


def _write_atomically(target: Path, data: bytes) -> None:
    """Write to a temporary file beside `target`, then rename: a failure never leaves half a file."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
