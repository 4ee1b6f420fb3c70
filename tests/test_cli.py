"""`nbviz` command line: help, argument errors (the full demo run is in tests/report/test_report_widgets_browser)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from nbviz.__main__ import build_parser, main


def test_help_explains_the_demo(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["demo", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert "--html PATH" in text and "offline" in text and "EfficientNet-Lite0" in text
    assert "nbviz demo --html nbviz-demo.html" in text


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo"], "the following arguments are required: --html"),
        (["demo", "--html", "/no/such/folder/x.html"], "does not exist"),
        (["demo", "--html", "x.html", "--tsne-iterations", "0"], "at least 1"),
        (["demo", "--html", "x.html", "--tsne-iterations", "many"], "invalid int value"),
    ],
)
def test_bad_arguments_say_what_is_wrong(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


def test_a_folder_is_not_a_report_path(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--html", str(tmp_path)])
    assert "is a folder" in capsys.readouterr().err


def test_module_entry_point_runs():
    done = subprocess.run([sys.executable, "-m", "nbviz", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("nbviz ")
    assert build_parser().prog == "nbviz"
