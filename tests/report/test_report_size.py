"""The size line `to_html` returns, its parts, the budget warning, and the compact map encoding."""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from nbviz.report import SIZE_BUDGET_MB, ReportFile, ReportSizeWarning, to_html
from nbviz.report.compact import UNIT_CODE_ERROR, from_unit_codes, unit_codes
from nbviz.report.size import measure
from swatch_widget import SwatchWidget


def base64_length(n_bytes: int) -> int:
    return 4 * math.ceil(n_bytes / 3)


class LabelledSwatch(SwatchWidget):
    report_part_labels = {"color": "swatches", "palette": "swatches"}


def test_the_returned_path_says_the_size_and_what_takes_it(swatch_static_dir, tmp_path):
    widget = SwatchWidget()
    widget.color = bytes(range(256)) * 2000  # 512,000 bytes: the dominant part by far
    out = to_html(tmp_path / "r.html", widget)
    assert isinstance(out, Path) and isinstance(out, ReportFile) and out == tmp_path / "r.html"
    size = out.size
    assert size.total == out.stat().st_size
    parts = dict(size.parts)
    assert sum(parts.values()) == size.total
    assert parts["color"] == base64_length(512_000)
    assert parts["palette"] == 2 * base64_length(3)
    bundle = (swatch_static_dir / "fixture_swatch_widget.js").read_text()
    host = (swatch_static_dir / "report_host.js").read_text()
    assert parts["code"] >= len(bundle) + len(host)
    assert size.parts[0][0] == "color"
    line = repr(out)
    assert line == str(size)
    assert line.startswith(f"r.html: {size.total / 1e6:.2f} MB (color {parts['color'] / size.total:.0%}, ")
    assert "palette" not in line  # 8 bytes: under 1%, counted in "other"
    assert repr(out.parent) == repr(Path(tmp_path))  # derived paths are plain paths again


def test_part_labels_name_and_merge_the_binary_data(swatch_static_dir, tmp_path):
    out = to_html(tmp_path / "r.html", LabelledSwatch(), SwatchWidget())
    parts = dict(out.size.parts)
    assert parts["swatches"] == 3 * base64_length(3)  # color + two palette items of the labelled one
    assert parts["color"] == base64_length(3) and parts["palette"] == 2 * base64_length(3)


def test_a_report_above_the_budget_warns_with_its_largest_part(swatch_static_dir, tmp_path):
    widget = SwatchWidget()
    widget.color = b"\x00" * 300_000  # 0.4 MB as base64
    with pytest.warns(ReportSizeWarning, match=r"above the 0.2 MB budget; the largest part is color \(9\d%\)"):
        to_html(tmp_path / "big.html", widget, budget_mb=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_html(tmp_path / "big.html", widget, budget_mb=None)
        to_html(tmp_path / "big.html", widget)  # the default budget
    assert SIZE_BUDGET_MB == 10.0
    for bad in (0, -1, "10", True):
        with pytest.raises(ValueError, match="budget_mb must be a positive number of megabytes or None"):
            to_html(tmp_path / "x.html", widget, budget_mb=bad)


def test_measure_refuses_parts_larger_than_the_file():
    with pytest.raises(ValueError, match="add up to 12 bytes, more than its 10"):
        measure("r.html", 10, {"maps": 8}, code=4)


def test_unit_codes_are_one_byte_per_value_within_half_a_step():
    values = np.random.default_rng(0).random((37, 53)).astype(np.float32)
    values[0, :4] = [0.0, 1.0, 0.5 / 255, 254.5 / 255]
    data = unit_codes(values)
    assert len(data) == values.size
    decoded = from_unit_codes(data, values.shape)
    assert decoded.dtype == np.float32 and decoded.shape == values.shape
    assert np.abs(decoded - values).max() <= UNIT_CODE_ERROR + 1e-7  # + the float32 rounding of q / 255
    assert list(np.frombuffer(data, np.uint8)[:2]) == [0, 255]
    # The 256 levels are exactly k / 255: every code round-trips.
    levels = np.arange(256) / 255
    np.testing.assert_array_equal(np.frombuffer(unit_codes(levels), np.uint8), np.arange(256))


def test_unit_codes_clip_out_of_range_values_and_store_nan_as_zero():
    assert list(unit_codes(np.array([-0.5, 1.5, np.nan]))) == [0, 255, 0]
    with pytest.raises(ValueError, match=r"hold 3 values, but shape \(2, 2\) needs 4"):
        from_unit_codes(b"\x00\x01\x02", (2, 2))
