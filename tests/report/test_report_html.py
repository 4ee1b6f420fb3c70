"""to_html without a browser: payload layout, option routing, the widget protocol, errors, atomic writes."""
from __future__ import annotations

import base64
import json
import re

import ipywidgets
import pytest

import nbviz
from nbviz.report import FrontEnd, StateNotSerializableError, UnsupportedWidgetError, to_html
from swatch_widget import SwatchWidget


def read_payload(path):
    text = path.read_text(encoding="utf-8")
    match = re.search(r'<script type="application/json" id="nbviz-report-data">(.*?)</script>', text, re.S)
    assert match, "report data element missing"
    return text, json.loads(match.group(1))


def test_report_embeds_bundle_state_and_buffers(swatch_static_dir, tmp_path):
    widget = SwatchWidget(index=1)
    out = to_html(tmp_path / "r.html", widget, title="Colours & <things>")
    assert out == tmp_path / "r.html"
    text, payload = read_payload(out)
    assert "<title>Colours &amp; &lt;things&gt;</title>" in text
    assert f"nbviz {nbviz.__version__}" in text
    assert re.search(r"created \d{4}-\d\d-\d\d \d\d:\d\d UTC", text)
    assert payload["format"] == "nbviz-report/1"
    assert payload["bundles"]["fixture_swatch_widget"] == (swatch_static_dir / "fixture_swatch_widget.js").read_text()
    (entry,) = payload["widgets"]
    assert entry["state"]["index"] == 1 and entry["state"]["_offline"] is True
    assert "_esm" not in entry["state"]
    assert entry["state"]["color"] is None
    decoded = {tuple(p): base64.b64decode(b) for p, b in zip(entry["buffer_paths"], entry["buffers"])}
    assert decoded == {
        ("color",): b"\xff\x00\x00",
        ("palette", "items", 0): b"\x00\x80\x00",
        ("palette", "items", 1): b"\x00\x00\xff",
    }
    assert widget._offline is False, "exporting does not switch the live widget offline"
    # Nothing in the page points outside it.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)


def test_same_bundle_is_stored_once_and_options_are_routed(swatch_static_dir, tmp_path):
    out = to_html(tmp_path / "two.html", SwatchWidget(), SwatchWidget(name="b"), highlight=True)
    _, payload = read_payload(out)
    assert list(payload["bundles"]) == ["fixture_swatch_widget"]
    assert [w["state"]["name"] for w in payload["widgets"]] == ["highlighted", "highlighted"]
    assert [w["id"] for w in payload["widgets"]] == ["w0", "w1"]


def test_unknown_option_is_rejected_with_the_accepted_ones(swatch_static_dir, tmp_path):
    with pytest.raises(TypeError, match=r"highlihgt.*SwatchWidget: highlight"):
        to_html(tmp_path / "x.html", SwatchWidget(), highlihgt=True)
    assert not (tmp_path / "x.html").exists()


def test_non_nbviz_widgets_are_refused_saying_what_is_supported(swatch_static_dir, tmp_path):
    with pytest.raises(UnsupportedWidgetError, match=r"CAMExplorer.*TSNEScatter.*widget 2 is a .*IntSlider"):
        to_html(tmp_path / "x.html", SwatchWidget(), ipywidgets.IntSlider())
    with pytest.raises(UnsupportedWidgetError, match=r"widget 1 is a builtins.str"):
        to_html(tmp_path / "x.html", "not a widget")


def test_bad_paths_and_empty_calls_are_clear(swatch_static_dir, tmp_path):
    with pytest.raises(ValueError, match="at least one widget"):
        to_html(tmp_path / "x.html")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        to_html(tmp_path / "missing" / "x.html", SwatchWidget())
    with pytest.raises(IsADirectoryError):
        to_html(tmp_path, SwatchWidget())
    with pytest.raises(TypeError, match="output path"):
        to_html(SwatchWidget(), SwatchWidget())


def test_failed_export_leaves_the_previous_file_intact(swatch_static_dir, tmp_path):
    out = tmp_path / "keep.html"
    out.write_text("previous")
    widget = SwatchWidget()
    widget.export_state = lambda: {"x": float("inf")}
    with pytest.raises(StateNotSerializableError):
        to_html(out, widget)
    assert out.read_text() == "previous"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "keep.html"]
    assert not [name for name in leftovers if name.endswith(".tmp")], leftovers


def test_widget_to_html_delegates(swatch_static_dir, tmp_path):
    out = SwatchWidget(name="solo").to_html(tmp_path / "solo.html", title="Solo")
    text, payload = read_payload(out)
    assert "<h1>Solo</h1>" in text
    assert payload["widgets"][0]["state"]["name"] == "solo"


def test_public_names_are_the_report_functions():
    assert nbviz.to_html is nbviz.report.to_html and nbviz.to_png is nbviz.report.to_png


class PlainReportable:
    """Not an ipywidget and not an nbviz class: only the protocol's two methods."""

    def front_end(self):
        return FrontEnd("plain", "export default { render() {} };", ".plain { color: teal; }")

    def export_state(self, **options):
        return {"options": options, "raw": b"\x01\x02"}


def test_any_object_implementing_the_protocol_is_exported(tmp_path):
    out = to_html(tmp_path / "plain.html", PlainReportable(), PlainReportable(), zoom=2, caption="c")
    _, payload = read_payload(out)
    assert payload["bundles"] == {"plain": "export default { render() {} };"}
    for entry in payload["widgets"]:
        assert entry["bundle"] == "plain" and entry["css"] == ".plain { color: teal; }"
        assert entry["state"] == {"options": {"zoom": 2, "caption": "c"}, "raw": None, "_offline": True}
        assert entry["buffer_paths"] == [["raw"]] and entry["buffers"] == ["AQI="]


def test_protocol_results_of_the_wrong_type_are_named(tmp_path):
    class TupleFrontEnd(PlainReportable):
        def front_end(self):
            return ("plain", "source")

    class ListState(PlainReportable):
        def export_state(self):
            return [1, 2]

    with pytest.raises(TypeError, match=r"TupleFrontEnd.front_end\(\) must return nbviz.report.FrontEnd"):
        to_html(tmp_path / "x.html", TupleFrontEnd())
    with pytest.raises(TypeError, match=r"ListState.export_state\(\) returned list"):
        to_html(tmp_path / "x.html", ListState())
    assert not (tmp_path / "x.html").exists()
