"""Real-browser test harness: headless Debian Chromium driven by Playwright, a JupyterLab server.

Used by the fixtures in conftest.py. Nothing here is skipped: a missing browser is a test failure
that says how to install it.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path(os.environ.get("NBVIZ_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # WebGL without a GPU: ANGLE on SwiftShader.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def require_chromium() -> Path:
    """Return the Chromium executable or fail with the command that installs it."""
    if not CHROMIUM.exists():
        raise RuntimeError(
            f"Chromium not found at {CHROMIUM}. The browser tests need Debian's chromium: run "
            "`apt-get install -y chromium` (as root), or `make test`, which installs it; "
            "NBVIZ_CHROMIUM=/path/to/chromium points the tests at another build."
        )
    return CHROMIUM


def launch_chromium(playwright, profile: str):
    """Headless Debian Chromium (with WebGL on SwiftShader) as a persistent context in `profile`."""
    return playwright.chromium.launch_persistent_context(
        profile,
        executable_path=str(require_chromium()),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
    )


def free_port() -> int:
    """Ask the kernel for a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def artifact_path(name: str) -> Path:
    """Where a test keeps a screenshot or other artefact for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


def read_tail(path: Path | None, chars: int = 4000) -> str:
    """The last `chars` characters of a log file ("" when there is none yet)."""
    return path.read_text()[-chars:] if path and path.exists() else ""


def await_http(process: subprocess.Popen, url: str, timeout: float, name: str, log_tail,
               any_status: bool = False) -> bool:
    """Poll `url` until it answers (with `any_status`, an HTTP error status counts as an answer);
    False after `timeout` s. A process that exits first raises RuntimeError with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited early:\n{log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            if any_status:
                return True
            time.sleep(0.3)
        except OSError:
            time.sleep(0.3)
    return False


@dataclass
class JupyterLabServer:
    """A JupyterLab server on 127.0.0.1 with a token and a temporary root directory.

    `app="notebook"` starts Jupyter Notebook 7 instead (the same server, another front end)."""

    root: Path
    app: str = "jupyterlab"
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> None:
        """Start `jupyter lab` (or `jupyter notebook`) and wait until /api/status answers."""
        self.log_path = self.root.parent / f"{self.app}.log"
        log = open(self.log_path, "w")
        env = dict(os.environ, JUPYTER_PLATFORM_DIRS="1", PYTHONUNBUFFERED="1")
        env["JUPYTERLAB_SETTINGS_DIR"] = str(self._quiet_settings())
        # The notebook's kernel must import the nbviz under test, wherever pytest runs from.
        repo = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH", "")) if p)
        command = [
            sys.executable, "-m", self.app, "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--LabApp.news_url=", "--LabServerApp.workspaces_dir=" + str(self.root.parent / "ws"),
            "--ServerApp.disable_check_xsrf=True",
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        if not await_http(self.process, f"{self.url}/api/status?token={self.token}", timeout, self.app, self.log_tail):
            self.stop()
            raise RuntimeError(f"{self.app} did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def _quiet_settings(self) -> Path:
        """User settings that stop JupyterLab asking about news and updates over the widgets."""
        settings = self.root.parent / "settings"
        notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        notification.parent.mkdir(parents=True, exist_ok=True)
        notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        return settings

    def log_tail(self, chars: int = 4000) -> str:
        return read_tail(self.log_path, chars)

    def stop(self) -> None:
        """Shut the server and its kernels down; kill them if they do not go within 10 s."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            urllib.request.urlopen(
                urllib.request.Request(f"{self.url}/api/shutdown?token={self.token}", method="POST"),
                timeout=5,
            )
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def notebook_url(self, name: str) -> str:
        if self.app == "notebook":
            return f"{self.url}/notebooks/{name}?token={self.token}"
        return f"{self.url}/lab/tree/{name}?token={self.token}&reset"


@contextlib.contextmanager
def running_lab_server(prefix: str = "nbviz-lab-", app: str = "jupyterlab") -> Iterator[JupyterLabServer]:
    """A started JupyterLab (or, with app="notebook", Notebook 7) server whose root is a fresh
    temporary folder (its parent is free for scratch files such as a browser profile); afterwards
    stopped and the folder removed."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    root = base / "root"
    root.mkdir()
    server = JupyterLabServer(root=root, app=app)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def write_notebook(path: Path, cells: list[str]) -> Path:
    """Write a notebook of code cells with the python3 kernel."""
    notebook = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}
            for source in cells
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook))
    return path


def wait_for_file(path: Path, timeout: float = 30.0, predicate=lambda text: True) -> str:
    """Poll until a file the kernel writes exists and its text satisfies the predicate.

    A read can catch the writer half-way (an empty or truncated file); a predicate that raises
    ValueError on such text (json.loads does) counts as "not yet", and polling goes on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            text = path.read_text()
            try:
                if predicate(text):
                    return text
            except ValueError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"{path.name} did not appear (or never matched) within {timeout:.0f} s")


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.01) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def temporary_profile() -> str:
    return tempfile.mkdtemp(prefix="nbviz-chromium-")


def remove_profile(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


@dataclass
class PageServer:
    """A server process that serves notebooks as pages (Voilà, `marimo run`) on 127.0.0.1.

    `command` is the argument list after `python -m`, with "{port}" where the port goes. Its
    kernels import the nbviz under test (PYTHONPATH) and inherit the environment plus `env`.
    """

    command: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> None:
        """Start the server and wait until it answers HTTP (any status: a probe path may be a 404;
        the page itself is not requested, because fetching it may run the notebook)."""
        self.log_path = self.cwd.parent / f"{self.command[0]}.log"
        log = open(self.log_path, "w")
        repo = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ, PYTHONUNBUFFERED="1", JUPYTER_PLATFORM_DIRS="1", **self.env)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH", "")) if p)
        command = [sys.executable, "-m", *(part.replace("{port}", str(self.port)) for part in self.command)]
        self.process = subprocess.Popen(command, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)
        if not await_http(self.process, f"{self.url}/nbviz-probe", timeout, self.command[0], self.log_tail,
                          any_status=True):
            self.stop()
            raise RuntimeError(f"{self.command[0]} did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        return read_tail(self.log_path, chars)

    def stop(self) -> None:
        """SIGTERM to the server's process group (kernels included); SIGKILL after 10 s."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@contextlib.contextmanager
def running_page_server(command: list[str], files: list[Path], env: dict[str, str] | None = None,
                        prefix: str = "nbviz-page-") -> Iterator[PageServer]:
    """`PageServer(command)` started in a fresh temporary folder holding copies of `files`;
    afterwards stopped and the folder removed."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    root = base / "root"
    root.mkdir()
    for path in files:
        shutil.copy(path, root / path.name)
    server = PageServer(command=command, cwd=root, env=dict(env or {}))
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
