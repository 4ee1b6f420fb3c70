"""Every notebook in notebooks/ runs top to bottom with nbclient, offline, and saves widget state.

The kernel gets NBVIZ_FAST=1 (the notebooks then use fewer iterations / smaller samples but still
show the real thing), HTTP(S) proxies pointing at a closed port so any download attempt fails, and an
empty TORCH_HOME so no cached download can hide one. Every file a notebook writes (its reports) must
land where git ignores it, so running the notebooks leaves the repository clean.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
EXPECTED = {"quickstart.ipynb", "cam_methods.ipynb", "tsne_lecture.ipynb", "text_embeddings.ipynb", "model_lens.ipynb"}


def test_the_example_notebooks_are_there():
    assert EXPECTED <= {path.name for path in NOTEBOOKS}


@pytest.fixture
def offline_kernel_env(tmp_path, monkeypatch):
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens, so connections fail at once
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("NBVIZ_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes_offline(notebook, tmp_path, offline_kernel_env):
    # Run a copy next to copies of its neighbours, so the original stays unexecuted and relative
    # paths (reports written by the notebook) land in tmp_path.
    work = tmp_path / "notebooks"
    shutil.copytree(notebook.parent, work, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    nb = nbformat.read(work / notebook.name, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(work)}},
        store_widget_state=True,
    )
    before = file_stamps(work)
    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started
    print(f"{notebook.name}: executed in {seconds:.1f} s")
    written = sorted(path for path, stamp in file_stamps(work).items() if before.get(path) != stamp)
    print(f"{notebook.name} wrote: {', '.join(written) or 'nothing'}")

    errors = [
        output for cell in nb.cells if cell.cell_type == "code"
        for output in cell.get("outputs", []) if output.get("output_type") == "error"
    ]
    assert not errors, errors
    # Widgets were displayed and their state saved, so nbconvert's HTML can show them when online.
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    names = {model.get("model_name") for model in state.values()}
    assert "AnyModel" in names, f"no anywidget state saved in {notebook.name}: {sorted(names)}"
    views = [
        output for cell in nb.cells if cell.cell_type == "code"
        for output in cell.get("outputs", []) if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    ]
    assert views, f"{notebook.name} displays no widget"
    for view in views:
        model_id = view["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
        assert model_id in state, "every displayed widget has its state saved"
    executed = tmp_path / f"executed-{notebook.name}"
    nbformat.write(nb, executed)
    json.loads(executed.read_text())  # plain JSON: nbclient stored the binary buffers as base64

    # nbconvert's HTML carries the saved state, so the widgets render there when online.
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    assert f'<script type="{WIDGET_STATE}">' in html
    for view in views:
        assert view["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] in html

    # What the notebook wrote would be written beside the original: git must ignore all of it.
    in_repo = [f"notebooks/{path}" for path in written]
    not_ignored = sorted(set(in_repo) - git_ignored(in_repo))
    assert not not_ignored, (
        f"{notebook.name} writes files git does not ignore: {not_ignored}; write them under "
        "notebooks/reports/ (git-ignored) or a temporary folder"
    )


def file_stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """(modification time, size) of every file under `folder`, by path relative to it."""
    return {
        path.relative_to(folder).as_posix(): (path.stat().st_mtime_ns, path.stat().st_size)
        for path in folder.rglob("*") if path.is_file()
    }


def git_ignored(paths: list[str]) -> set[str]:
    """The repository-relative `paths` that the checkout's .gitignore rules ignore."""
    if not paths:
        return set()
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout: cannot ask git which files it ignores")
    done = subprocess.run(["git", "-C", str(REPO), "check-ignore", *paths], capture_output=True, text=True, timeout=60)
    assert done.returncode in (0, 1), done.stderr  # 1: none of them is ignored
    return set(done.stdout.splitlines())
