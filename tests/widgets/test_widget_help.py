"""help() answers for every public widget class nbviz exports: the constructor's own signature
and docstring (not ipywidgets' "Public constructor"), every constructor argument described, and
a `help=` text on every public trait."""
from __future__ import annotations

import inspect
import pydoc
import re

import ipywidgets
import pytest
import traitlets

import nbviz

# pydoc reads every class attribute, ipywidgets' deprecated registries included.
pytestmark = pytest.mark.filterwarnings(r"ignore:Widget\..*is deprecated:DeprecationWarning")


def exported_widget_classes() -> list[type]:
    """Every class in `nbviz.__all__` that is a Jupyter widget (new ones join automatically)."""
    found = [getattr(nbviz, name) for name in nbviz.__all__]
    return [obj for obj in found if isinstance(obj, type) and issubclass(obj, ipywidgets.Widget)]


def public_traits_without_help(cls: type) -> list[str]:
    """Names of the public traits nbviz defines on `cls` (no leading underscore; ipywidgets' own
    `layout`, `tooltip`, ... excluded) whose `help` text is empty."""
    missing = []
    for name, trait in cls.class_traits().items():
        owner = getattr(trait, "this_class", None)
        if name.startswith("_") or owner is None or not owner.__module__.startswith("nbviz"):
            continue
        if not (trait.help or "").strip():
            missing.append(name)
    return sorted(missing)


def constructor_problems(cls: type) -> list[str]:
    """What help(cls) would get wrong about constructing `cls`: an inherited or missing __init__
    docstring, a signature of bare *args/**kwargs, an argument no docstring mentions."""
    problems = []
    init = cls.__dict__.get("__init__")
    if init is None or not (init.__doc__ or "").strip():
        problems.append("__init__ has no docstring of its own")
    rendered = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    if "Public constructor" in rendered:
        problems.append('help() shows "Public constructor"')
    parameters = inspect.signature(cls).parameters
    if all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters.values()):
        problems.append(f"signature is {inspect.signature(cls)}")
    documented = (cls.__doc__ or "") + ((init.__doc__ or "") if init else "")
    for name in parameters:
        if f"`{name}`" not in documented:
            problems.append(f"argument {name!r} is described in neither docstring")
    return problems


def test_nbviz_exports_the_widget_classes():
    names = {cls.__name__ for cls in exported_widget_classes()}
    assert {"CAMExplorer", "TSNEScatter"} <= names


@pytest.mark.parametrize("cls", exported_widget_classes(), ids=lambda cls: cls.__name__)
def test_every_public_trait_has_help(cls):
    assert public_traits_without_help(cls) == []


@pytest.mark.parametrize("cls", exported_widget_classes(), ids=lambda cls: cls.__name__)
def test_help_shows_the_real_constructor(cls):
    assert constructor_problems(cls) == []
    rendered = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    init_doc = inspect.cleandoc(cls.__init__.__doc__).splitlines()[0]
    assert init_doc in rendered
    for name, trait in cls.class_traits().items():
        if trait.help and not name.startswith("_"):
            assert trait.help[:40] in re.sub(r"\s+", " ", rendered), f"help() does not show {name}'s help"


def test_the_checks_catch_a_trait_without_help_and_an_inherited_constructor_doc():
    """The two checks above would fail on a widget that has the faults they look for."""

    class Bare(ipywidgets.DOMWidget):
        shown = traitlets.Float(1.0, help="Shown.").tag(sync=True)
        silent = traitlets.Int(0).tag(sync=True)
        _private = traitlets.Int(0).tag(sync=True)

    Bare.__module__ = "nbviz.fake"  # the module of a trait's class decides what counts as ours
    assert public_traits_without_help(Bare) == ["silent"]
    problems = constructor_problems(Bare)
    assert "__init__ has no docstring of its own" in problems
    assert 'help() shows "Public constructor"' in problems
