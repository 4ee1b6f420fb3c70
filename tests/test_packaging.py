"""The package builds with its JS bundles inside, and its dependency ranges admit the local torch."""
import os
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from nbviz.tsne import native

REPO = Path(__file__).resolve().parent.parent
BUNDLES = ("cam_explorer.js", "tsne_scatter.js", "report_host.js")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
        check=True, capture_output=True, text=True,
    )
    (path,) = out.glob("nbviz-*.whl")
    return path


def test_wheel_contains_the_built_bundles(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for bundle in BUNDLES:
        assert f"nbviz/static/{bundle}" in names
        assert zipfile.ZipFile(wheel).getinfo(f"nbviz/static/{bundle}").file_size > 1000
    assert "nbviz/data.py" in names and "nbviz/cam/__init__.py" in names and "nbviz/tsne/__init__.py" in names
    shipped = {f"nbviz/tsne/{source.name}" for source in (*native.SOURCES, *native.HEADERS)}
    assert shipped <= names  # compiled on first use
    assert not any(name.startswith(("tests/", "js/", "benchmarks/")) for name in names)


def test_wheel_declares_runtime_dependencies_that_admit_local_torch(wheel):
    with zipfile.ZipFile(wheel) as archive:
        (meta,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(meta).decode()
    requirements = [Requirement(line.split(":", 1)[1].strip()) for line in text.splitlines()
                    if line.startswith("Requires-Dist:")]
    runtime = {r.name for r in requirements if r.marker is None}
    assert {"anywidget", "ipywidgets", "torch", "torchvision", "numpy", "matplotlib"} <= runtime
    for requirement in requirements:
        if requirement.name in ("torch", "torchvision"):
            assert requirement.specifier.contains(metadata.version(requirement.name), prereleases=True)
    assert metadata.version("torch").startswith("2.14.1")
    assert metadata.version("torchvision").startswith("0.29.1")


def test_plain_install_loads_its_bundles(tmp_path, wheel):
    """Install the wheel (not editable) into a folder and let a fresh interpreter load a widget bundle."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(wheel)], check=True)
    probe = (
        "import nbviz, nbviz.widgets.bundles as b; "
        "print(nbviz.__file__); print(len(b.read_bundle('cam_explorer'))); "
        "import nbviz.tsne.native as n; print(n.c_compiler() is not None, n.loaded_library() is not None)"
    )
    cache = tmp_path / "native-cache"
    environment = {"PYTHONPATH": str(target), "PATH": os.environ.get("PATH", os.defpath),  # gcc finds ld on PATH
                   "NBVIZ_CACHE_DIR": str(cache)}
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=environment,
                            check=True, capture_output=True, text=True)
    location, size, has_compiler, built = result.stdout.split()
    assert Path(location).is_relative_to(target)
    assert int(size) == (REPO / "nbviz" / "static" / "cam_explorer.js").stat().st_size
    assert built == has_compiler  # the installed C sources build wherever there is a compiler
    if built == "True":
        assert len(list(cache.glob("*.so"))) == 1  # kept for the next process
