"""Widgets shown inside another widget's view (anywidget composition), carried into a report.

A composite widget's `export_state` puts a `ChildWidget` where its live state holds a reference to
another widget. The report stores each child as an entry of its own (not given a section of the
page) and puts the reference "anywidget:<entry id>" in its place, which the page's host resolves
the way anywidget does in a notebook: `host.getWidget(ref)` renders the child, `host.getModel(ref)`
and `model.widget_manager.get_model(id)` give its model.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nbviz.report.protocol import FrontEnd

#: Prefix of a widget reference in synced state (anywidget's WidgetTrait uses the same).
WIDGET_REF_PREFIX = "anywidget:"


@dataclass(frozen=True)
class ChildWidget:
    """A child widget in an exported state: its front end, its own exported state, and the names of
    its state keys in the report's size summary (the widget's `report_part_labels`)."""

    front_end: FrontEnd
    state: dict[str, Any]
    part_labels: dict[str, str] = field(default_factory=dict)


def lift_children(parent_id: str, state: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, ChildWidget]]]:
    """`state` with each top-level ChildWidget replaced by a reference, and the children found,
    as (entry id, child) pairs; a child's own children are lifted too (ids "<parent>.<trait>")."""
    lifted = dict(state)
    found: list[tuple[str, ChildWidget]] = []
    for name, value in state.items():
        if isinstance(value, ChildWidget):
            child_id = f"{parent_id}.{name}"
            child_state, grandchildren = lift_children(child_id, value.state)
            found.append((child_id, ChildWidget(value.front_end, child_state, value.part_labels)))
            found.extend(grandchildren)
            lifted[name] = WIDGET_REF_PREFIX + child_id
    return lifted, found
