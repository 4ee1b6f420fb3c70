"""Errors raised while writing a report: a widget that cannot be exported, a state JSON cannot carry."""
from __future__ import annotations


class UnsupportedWidgetError(TypeError):
    """An object that does not implement the report protocol was passed to `to_html` or `to_png`."""


class StateNotSerializableError(TypeError):
    """A widget's exported state holds a value that JSON cannot carry."""
