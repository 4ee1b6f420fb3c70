"""The browser harness works end to end: JupyterLab renders an anywidget and the kernel hears it."""
import pytest

from harness import wait_for_file

PROBE_CELL = '''
import pathlib
import anywidget, traitlets
import nbviz

class Probe(anywidget.AnyWidget):
    _esm = """
    export default {
      render({ model, el }) {
        const input = document.createElement("input");
        input.type = "range"; input.min = "0"; input.max = "100";
        input.className = "nbviz-probe";
        input.value = String(model.get("value"));
        const label = document.createElement("span");
        label.className = "nbviz-probe-label";
        label.textContent = "nbviz " + model.get("version");
        const onInput = () => { model.set("value", Number(input.value)); model.save_changes(); };
        input.addEventListener("input", onInput);
        el.append(input, label);
        return () => { input.removeEventListener("input", onInput); el.replaceChildren(); };
      },
    };
    """
    value = traitlets.Int(10).tag(sync=True)
    version = traitlets.Unicode(nbviz.__version__).tag(sync=True)

probe = Probe()
probe.observe(lambda change: pathlib.Path("probe_value.txt").write_text(str(change["new"])), "value")
probe
'''


@pytest.mark.browser
def test_value_changed_in_browser_arrives_in_kernel(lab, screenshot):
    page = lab.open_notebook([PROBE_CELL], "harness_probe.ipynb")
    slider = page.locator(".nbviz-probe")
    slider.wait_for()
    assert slider.input_value() == "10"
    assert page.locator(".nbviz-probe-label").inner_text().startswith("nbviz 0.")
    slider.fill("73")
    assert wait_for_file(lab.root / "probe_value.txt", predicate=lambda text: text == "73") == "73"
    screenshot(page, "harness_probe.png")
    assert page.console_errors == []
