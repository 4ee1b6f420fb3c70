"""Shared fixtures: a real JupyterLab server, headless Chromium, and offline HTML pages."""
from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path

import pytest

# Widgets in this test run (and the Jupyter kernels it starts, which inherit the environment) load
# the test build of the front end, which carries the inspection hooks the browser tests read. Set
# before anything imports nbviz: nbviz.widgets.bundles reads it once.
TEST_BUNDLE_DIR = Path(__file__).resolve().parent.parent / "js" / "build" / "test-bundles"
os.environ.setdefault("NBVIZ_BUNDLE_DIR", str(TEST_BUNDLE_DIR))

from harness import (  # noqa: E402
    JupyterLabServer,
    artifact_path,
    launch_chromium,
    remove_profile,
    running_lab_server,
    temporary_profile,
    wait_until,
    write_notebook,
)


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser_context(playwright_instance):
    """One headless Chromium for the session, with a fresh user-data-dir."""
    profile = temporary_profile()
    context = launch_chromium(playwright_instance, profile)
    context.set_default_timeout(30_000)
    yield context
    context.close()
    remove_profile(profile)


@pytest.fixture(scope="session")
def jupyterlab_server():
    """A JupyterLab server on 127.0.0.1 (free port, token, temporary root), stopped at the end."""
    with running_lab_server("nbviz-lab-") as server:
        yield server


class LabSession:
    """Opens notebooks in JupyterLab, runs all their cells, and hands back the page."""

    def __init__(self, server: JupyterLabServer, context):
        self.server = server
        self.context = context
        self.root = server.root
        self.pages = []

    def open_notebook(self, cells: list[str], name: str, timeout: float = 120.0):
        """Write `cells` as notebook `name`, open it, run all cells, wait until they finish.

        Returns the Playwright page. The page records console errors in `page.console_errors`.
        """
        write_notebook(self.root / name, cells)
        page = self.context.new_page()
        self.pages.append(page)
        page.console_errors = []
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))
        page.goto(self.server.notebook_url(name))
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=timeout * 1000)
        self.wait_for_kernel(page, timeout)
        self.run_all(page)
        self.wait_until_executed(page, len(cells), timeout)
        return page

    @staticmethod
    def wait_for_kernel(page, timeout: float) -> None:
        """Wait until the notebook's kernel is idle, accepting a "Select Kernel" dialog if one appears.

        The execution indicator says "idle" before any kernel exists, so the status bar's kernel
        name and "Idle" are what count. Under load JupyterLab sometimes asks which kernel to start.
        """
        state = page.wait_for_function(
            """() => {
                if (document.querySelector('.jp-Dialog .jp-mod-accept')) return 'dialog';
                const bar = document.querySelector('.jp-StatusBar-Widget')?.parentElement?.textContent || '';
                return /Python 3.*\\| Idle/.test(bar) ? 'idle' : false;
            }""",
            timeout=timeout * 1000,
        ).json_value()
        if state == "dialog":
            page.locator(".jp-Dialog .jp-mod-accept").first.click()
            LabSession.wait_for_kernel(page, timeout)

    @staticmethod
    def run_all(page) -> None:
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

    @staticmethod
    def wait_until_executed(page, n_cells: int, timeout: float) -> None:
        """Every code cell shows an execution count and none is running ([*])."""
        page.wait_for_function(
            """(n) => {
                const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                    .map((el) => el.textContent.trim());
                return prompts.length >= n && prompts.every((t) => /^\\[\\d+\\]:$/.test(t));
            }""",
            arg=n_cells,
            timeout=timeout * 1000,
        )
        tracebacks = page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
        if tracebacks.count():
            raise AssertionError("a notebook cell raised:\n" + tracebacks.first.inner_text()[-3000:])

    def close(self) -> None:
        for page in self.pages:
            page.close()


@pytest.fixture
def lab(jupyterlab_server, browser_context):
    """JupyterLab in headless Chromium: `lab.open_notebook(cells, name)` returns the page."""
    session = LabSession(jupyterlab_server, browser_context)
    yield session
    session.close()


class Notebook7Session(LabSession):
    """LabSession on Jupyter Notebook 7's page. Notebook 7 has no status bar, so the kernel counts
    as ready once the server's sessions API reports it idle."""

    def wait_for_kernel(self, page, timeout: float) -> None:
        def idle() -> bool:
            if page.locator(".jp-Dialog .jp-mod-accept").count():
                page.locator(".jp-Dialog .jp-mod-accept").first.click()
            url = f"{self.server.url}/api/sessions?token={self.server.token}"
            with urllib.request.urlopen(url, timeout=5) as response:
                return any(s["kernel"]["execution_state"] == "idle" for s in json.load(response))

        if not wait_until(idle, timeout=timeout, interval=0.3):
            raise AssertionError(f"the notebook's kernel was not idle within {timeout:.0f} s")


@pytest.fixture(scope="module")
def notebook7(browser_context):
    """Jupyter Notebook 7 (its own server, 127.0.0.1, free port) in headless Chromium:
    `notebook7.open_notebook(cells, name)` returns the page."""
    with running_lab_server("nbviz-nb7-", app="notebook") as server:
        session = Notebook7Session(server, browser_context)
        yield session
        session.close()


@pytest.fixture
def page_for_html(browser_context):
    """Open a local HTML file with every network request blocked; returns the page.

    `page.console_errors` collects console errors and page errors, `page.blocked_requests` the
    requests that tried to leave the file.
    """
    pages = []

    def open_file(path: os.PathLike, wait_for: str | None = None):
        target = Path(path).resolve().as_uri()
        page = browser_context.new_page()
        pages.append(page)
        page.console_errors = []
        page.blocked_requests = []
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))

        def route(request_route):
            if request_route.request.url == target or request_route.request.url.startswith("data:"):
                request_route.continue_()
            else:
                page.blocked_requests.append(request_route.request.url)
                request_route.abort()

        page.route("**/*", route)
        page.goto(target)
        if wait_for:
            page.locator(wait_for).first.wait_for()
        return page

    yield open_file
    for page in pages:
        page.close()


@pytest.fixture
def screenshot():
    """Save a screenshot of a page or locator under test-artifacts/ and return its path."""

    def take(target, name: str) -> Path:
        path = artifact_path(name)
        target.screenshot(path=str(path))
        return path

    return take
