"""A new user's first hour in a real JupyterLab at 1280 x 800 (issue 16 items 8, 10, 11): every
side-panel control of the scatter shows without scrolling, the search boxes answer Enter, the
arrow keys and Escape, and the status line says what a perplexity change did. A screenshot of each
state lands in test-artifacts/."""
from __future__ import annotations

import json

import numpy as np
import pytest

from harness import wait_for_file
from nbviz.data import digits

SETUP = '''
import json, pathlib
import nbviz
from nbviz.data import digits
X, y = digits()
texts = [f"digit {v} #{i}" for i, v in enumerate(y)]
scatter = nbviz.TSNEScatter(X, labels=y, texts=texts, random_state=0, n_iter=100_000, title="Digits")
explorer = nbviz.CAMExplorer()

def _dump(change=None):
    state = {"target": explorer.target, "focus": scatter.focus, "highlight": len(scatter.highlight),
             "search_query": scatter.search_query, "activity": scatter.activity, "perplexity": scatter.perplexity}
    pathlib.Path("first_hour.json.tmp").write_text(json.dumps(state))
    pathlib.Path("first_hour.json.tmp").replace("first_hour.json")
explorer.observe(_dump, "target")
scatter.observe(_dump, ["focus", "highlight", "search_query", "activity", "perplexity"])
_dump()
'''

# Every control of the scatter's side panel, and whether it lies inside the panel's visible box and
# inside the notebook's visible area (the scrolling ancestor), with the widget's top scrolled to its top.
SIDE_CONTROLS_VISIBLE = """(side) => {
  const widget = side.closest('.nbviz-tsne');
  widget.scrollIntoView({ block: 'start' });
  let scroller = widget.parentElement;
  while (scroller && !(scroller.scrollHeight > scroller.clientHeight && /auto|scroll/.test(getComputedStyle(scroller).overflowY)))
    scroller = scroller.parentElement;
  const panel = side.getBoundingClientRect();
  const area = scroller ? scroller.getBoundingClientRect() : { top: 0, bottom: window.innerHeight };
  const box = { top: Math.max(panel.top, area.top), bottom: Math.min(panel.bottom, area.bottom, window.innerHeight) };
  const controls = [...side.querySelectorAll('input, button, select')]
    .filter((el) => el.offsetParent !== null);  // displayed (the focus panel is hidden until a click)
  const hidden = controls
    .filter((el) => { const r = el.getBoundingClientRect(); return r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5; })
    .map((el) => el.getAttribute('aria-label') || el.title || el.textContent || el.tagName);
  return { count: controls.length, hidden, scrolls: side.scrollHeight > side.clientHeight + 1 };
}"""


def kernel_state(lab, predicate):
    text = wait_for_file(lab.root / "first_hour.json", timeout=30, predicate=lambda t: predicate(json.loads(t)))
    return json.loads(text)


@pytest.mark.browser
def test_first_hour_in_jupyterlab_at_1280x800(lab, screenshot):
    page = lab.open_notebook([SETUP, "scatter", "explorer"], "first_hour.ipynb", timeout=180)
    page.set_viewport_size({"width": 1280, "height": 800})
    scatter = page.locator(".nbviz-tsne").first
    scatter.wait_for(timeout=60_000)
    page.wait_for_function("() => document.querySelector('.nbviz-tsne').nbviz.stats().framesDrawn >= 3", timeout=60_000)

    # Item 11: the side panel shows every control (Size and Opacity included) without scrolling.
    side = scatter.locator(".side")
    layout = side.evaluate(SIDE_CONTROLS_VISIBLE)
    assert layout["count"] >= 8 and layout["hidden"] == [] and not layout["scrolls"], layout
    for label in ("Size", "Opacity", "Perplexity", "Learning rate"):
        assert side.get_by_text(label, exact=True).is_visible()
    screenshot(page, "first_hour_01_scatter_1280x800.png")

    # Item 10: a new perplexity mid-run: "recomputing affinities…", then what happens next.
    scatter.locator(".phase").evaluate(
        "(el) => { window.__phases = []; new MutationObserver(() => window.__phases.push(el.textContent))"
        ".observe(el, { childList: true, characterData: true, subtree: true }); }"
    )
    perplexity = side.locator(".slider", has_text="Perplexity").locator("input[type=range]")
    perplexity.evaluate(  # what letting go of a dragged slider does
        "(el) => { el.value = '50'; el.dispatchEvent(new Event('input', { bubbles: true }));"
        " el.dispatchEvent(new Event('change', { bubbles: true })); }"
    )
    state = kernel_state(lab, lambda s: s["activity"].startswith("perplexity 50 · continuing"))
    page.wait_for_function("() => window.__phases.some((t) => t.startsWith('perplexity 50 · continuing'))", timeout=30_000)
    phases = page.evaluate("() => window.__phases")
    assert "recomputing affinities…" in phases
    assert phases.index("recomputing affinities…") < next(i for i, t in enumerate(phases) if t.startswith("perplexity 50"))
    assert scatter.locator(".phase").inner_text() == state["activity"]
    screenshot(scatter, "first_hour_02_status_line.png")

    # Item 8, t-SNE: Enter on a single match zooms and focuses it; arrows step through the matches;
    # Escape clears the search.
    search = scatter.locator(".search input")
    search.click()
    search.fill("/#17$/")
    search.press("Enter")
    assert kernel_state(lab, lambda s: s["focus"] == 17)["focus"] == 17
    search.fill("digit 3")
    search.press("ArrowDown")
    search.press("ArrowDown")
    threes = np.flatnonzero(digits()[1] == 3)
    assert kernel_state(lab, lambda s: s["focus"] == int(threes[1]))["focus"] == int(threes[1])
    search.press("ArrowUp")
    assert kernel_state(lab, lambda s: s["focus"] == int(threes[0]))["focus"] == int(threes[0])
    assert kernel_state(lab, lambda s: s["highlight"] == len(threes))["search_query"] == "digit 3"
    screenshot(scatter, "first_hour_03_search_arrows.png")
    search.press("Escape")
    assert search.input_value() == ""
    assert kernel_state(lab, lambda s: s["highlight"] == 0 and s["search_query"] == "")["highlight"] == 0

    # Item 8, CAMExplorer: the class search.
    explorer = page.locator(".nbviz-cam").first
    explorer.scroll_into_view_if_needed()
    screenshot(page, "first_hour_04_explorer_1280x800.png")
    classes = explorer.locator("[data-role=class-search]")
    classes.click()
    classes.fill("tabby")
    assert explorer.locator("[data-role=classes] li.cam-class").count() == 1
    classes.press("Enter")
    assert kernel_state(lab, lambda s: s["target"] == 281)["target"] == 281
    assert classes.input_value() == ""
    classes.fill("cat")
    listed = [int(v) for v in explorer.locator("[data-role=classes] li.cam-class").evaluate_all(
        "(rows) => rows.map((r) => r.dataset.class)")]
    assert len(listed) > 2
    classes.press("ArrowDown")
    classes.press("ArrowDown")
    active = explorer.locator("li.cam-class.cam-active")
    assert active.count() == 1 and int(active.get_attribute("data-class")) == listed[1]
    screenshot(explorer, "first_hour_05_class_search_arrows.png")
    classes.press("Enter")
    assert kernel_state(lab, lambda s: s["target"] == listed[1])["target"] == listed[1]
    classes.fill("dog")
    classes.press("Escape")
    assert classes.input_value() == ""
    assert explorer.locator(".cam-class-control h4").first.inner_text().lower().startswith("top")  # the top-k again
    assert page.console_errors == []
