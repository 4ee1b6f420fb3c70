"""The report host in Chromium with the network blocked, driven by the test-only swatch widget."""
from __future__ import annotations

import pytest

from nbviz.report import to_html
from swatch_widget import SwatchWidget

pytestmark = pytest.mark.browser


def swatch_pixels(page, index=0):
    """RGB at the centre of the left (top-level buffer) and right (nested buffer) swatches."""
    return page.evaluate(
        """(index) => {
            const canvas = document.querySelectorAll('canvas.swatch')[index];
            const ctx = canvas.getContext('2d');
            const at = (x) => [...ctx.getImageData(x, 20, 1, 1).data.slice(0, 3)];
            return [at(20), at(60)];
        }""",
        index,
    )


def test_host_runs_widget_from_embedded_state_offline(swatch_static_dir, tmp_path, page_for_html, screenshot):
    out = to_html(
        tmp_path / "swatch.html",
        SwatchWidget(color=b"\x10\x20\x30", name="first"),
        SwatchWidget(palette={"items": [b"\xff\xff\x00", b"\x00\xff\xff", b"\x80\x00\x80"]}, name="second"),
        title="Host check",
    )
    page = page_for_html(out, wait_for="canvas.swatch")
    page.wait_for_function("() => window.nbvizReport && window.nbvizReport.widgets.length === 2")
    # Bytes travelled as base64 and arrived as DataViews, top level and nested in dict -> list.
    assert swatch_pixels(page, 0) == [[0x10, 0x20, 0x30], [0x00, 0x80, 0x00]]
    assert swatch_pixels(page, 1) == [[0xFF, 0x00, 0x00], [0xFF, 0xFF, 0x00]]
    assert sorted(page.evaluate("window.fixtureLog")) == [
        "initialize offline=true", "initialize offline=true", "render", "render",
    ]
    labels = page.locator(".label")
    assert labels.nth(1).inner_text() == "index 0 of 3, second"

    # model.set -> change:index -> the widget redraws from the next nested buffer.
    page.locator("button.next").nth(1).click()
    assert swatch_pixels(page, 1)[1] == [0x00, 0xFF, 0xFF]
    assert labels.nth(1).inner_text() == "index 1 of 3, second"
    assert swatch_pixels(page, 0)[1] == [0x00, 0x80, 0x00], "the other widget's model is separate"
    sent = page.evaluate("window.nbvizReport.widgets[1].model.sentMessages.length")
    assert sent == 1, "send() is accepted and goes nowhere"
    screenshot(page, "report_host_swatch.png")

    # Cleanups run, render's before initialize's, and listeners are gone.
    page.evaluate("window.nbvizReport.dispose()")
    page.wait_for_function("() => window.fixtureLog.length === 8")
    log = page.evaluate("window.fixtureLog")
    assert log[4:] == ["render cleanup", "initialize cleanup", "render cleanup", "initialize cleanup"]
    assert page.evaluate("window.nbvizReport.widgets.length") == 0

    assert page.console_errors == []
    assert page.blocked_requests == []
    assert page.locator("h1").inner_text() == "Host check"
    assert "nbviz" in page.locator("footer").inner_text()


def test_a_broken_widget_shows_a_message_and_the_others_still_render(
    swatch_static_dir, tmp_path, page_for_html
):
    broken = SwatchWidget(name="broken")
    broken.export_state = lambda: {**SwatchWidget.export_state(broken), "palette": {"items": []}}
    out = to_html(tmp_path / "broken.html", broken, SwatchWidget(name="fine"))
    page = page_for_html(out)
    page.wait_for_function("() => window.nbvizReport && window.nbvizReport.widgets.length === 2")
    assert "could not be shown" in page.locator(".nbviz-report-error").first.inner_text()
    assert page.locator(".label").first.inner_text() == "index 0 of 2, fine"
    assert any("w0" in e for e in page.console_errors), page.console_errors
    assert page.blocked_requests == []
