"""The HTML of an offline report: header, one section per widget, footer, embedded data and host.

Everything the page needs is inside it. A Content-Security-Policy forbids network connections and
outside resources, so a widget that tried to fetch something would fail loudly instead of leaking.
"""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any

# No server is ever contacted: scripts only inline or from blob:/data: URLs made by the host itself;
# 'unsafe-eval' because WebGL libraries (regl) compile their draw commands with Function().
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval' blob: data:; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; media-src data: blob:; "
    "connect-src data: blob:; worker-src blob: data:"
)

STYLE = """
:root { color-scheme: light; --ink: #1d232b; --muted: #5d6673; --rule: #e2e6ec; --paper: #f6f7f9;
  --accent: #2f6fdd; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--paper); color: var(--ink);
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.report-header, main, .report-footer { max-width: 1120px; margin: 0 auto; padding: 0 28px; }
.report-header { padding-top: 36px; padding-bottom: 18px; }
.report-eyebrow { margin: 0 0 6px; color: var(--accent); font-size: 12px; font-weight: 600;
  letter-spacing: .08em; text-transform: uppercase; }
.report-header h1 { margin: 0; font-size: 30px; line-height: 1.2; font-weight: 650; letter-spacing: -.01em; }
.report-meta { margin: 8px 0 0; color: var(--muted); font-size: 13px; }
.report-cell { background: #fff; border: 1px solid var(--rule); border-radius: 10px;
  margin: 18px 0; padding: 18px 20px 20px; box-shadow: 0 1px 2px rgba(20, 30, 50, .04); }
.report-cell-title { margin: 0 0 12px; font-size: 13px; font-weight: 600; color: var(--muted);
  letter-spacing: .02em; }
.nbviz-report-loading { color: var(--muted); font-style: italic; }
.nbviz-report-error { border-left: 3px solid #c43d3d; background: #fff4f4; color: #7a1f1f;
  padding: 10px 14px; border-radius: 4px; }
.report-footer { color: var(--muted); font-size: 12.5px; padding-top: 8px; padding-bottom: 36px;
  margin-top: 28px; }
.report-footer::before { content: ""; display: block; border-top: 1px solid var(--rule); }
.report-footer p { margin: 8px 0 0; }
"""


@dataclass(frozen=True)
class ReportSection:
    """One widget on the page: the element id the host mounts into and a short caption."""

    widget_id: str
    caption: str


def script_safe(source: str) -> str:
    """JavaScript made safe to sit inside <script>...</script>: no `</script` or `<!--` sequences.

    `<\\/` and `<\\!` mean the same as `</` and `<!` inside JS strings, templates and regexes, where
    these sequences can occur in a minified bundle.
    """
    safe = re.sub(r"</(script)", r"<\\/\1", source, flags=re.IGNORECASE)
    safe = safe.replace("<!--", "<\\!--")
    if re.search(r"</script", safe, flags=re.IGNORECASE):
        raise ValueError("could not make the report host script safe to inline")
    return safe


def json_for_script(data: Any) -> str:
    """JSON text that can sit inside <script type="application/json">: `<`, `>` and `&` escaped."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(
    *,
    title: str,
    sections: list[ReportSection],
    payload: dict[str, Any],
    host_source: str,
    version: str,
    created: str,
) -> str:
    """The complete HTML document."""
    esc = html.escape
    count = f"{len(sections)} widget" + ("s" if len(sections) != 1 else "")
    cells = "\n".join(
        f'<section class="report-cell"><h2 class="report-cell-title">{esc(section.caption)}</h2>'
        f'<div class="nbviz-widget" data-nbviz-widget="{esc(section.widget_id)}">'
        '<p class="nbviz-report-loading">Loading the interactive view…</p>'
        "<noscript><p class=\"nbviz-report-error\">This report needs JavaScript to show its widgets."
        "</p></noscript></div></section>"
        for section in sections
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{esc(CONTENT_SECURITY_POLICY)}">
<meta name="generator" content="nbviz {esc(version)}">
<title>{esc(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<header class="report-header">
<p class="report-eyebrow">nbviz report</p>
<h1>{esc(title)}</h1>
<p class="report-meta">{count} · created {esc(created)}</p>
</header>
<main>
{cells}
</main>
<footer class="report-footer">
<p>Made with nbviz {esc(version)} on {esc(created)}.</p>
<p>This file is self-contained: data and code are stored inside it, and it makes no network
requests. The controls switch between results computed before export; choices marked unavailable
were not precomputed.</p>
</footer>
<script type="application/json" id="nbviz-report-data">{json_for_script(payload)}</script>
<script type="module">{script_safe(host_source)}</script>
</body>
</html>
"""
