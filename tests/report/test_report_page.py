"""The page's inline script and JSON cannot end their <script> element early."""
from __future__ import annotations

import json

from nbviz.report.page import json_for_script, script_safe


def test_script_text_cannot_close_its_script_element():
    assert "</script" not in script_safe('let s = "</script><script>alert(1)</SCRIPT>"').lower()
    assert "<!--" not in script_safe("const c = '<!-- x';")
    text = json_for_script({"t": "</script><b>&"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"t": "</script><b>&"}
