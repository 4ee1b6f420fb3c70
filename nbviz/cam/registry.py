"""The method registry: every CAM method is declared once, with ``@register_method`` on its function.

Everything else that knows about methods (``METHODS`` and the other name groups, aliases, the
widget's menu and labels, report labels, the explainer's special cases) reads the declarations here.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import torch

from .cost import Passes
from .errors import MethodError
from .options import Option, declare_options, resolve_options

if TYPE_CHECKING:
    from .context import MethodContext

MethodFn = Callable[["MethodContext"], torch.Tensor]

#: Method families, in menu order, and what a method of each family computes its map from.
FAMILIES: dict[str, str] = {
    "activation": "the layer's activations only (no gradients)",
    "gradient": "the layer's activations and the gradient of the score at the layer",
    "smooth": "gradients averaged over noisy copies of the input (extra passes)",
    "score": "the score of the input masked by each channel (extra forward passes)",
    "ablation": "the drop of the score when each channel is zeroed (extra forward passes)",
    "guided": "the guided-backpropagation gradient at the input",
    "other": "anything else the method's function computes from the context",
}


@dataclass(frozen=True, eq=False)
class MethodSpec:
    """A registered method: its declaration and the function ``ctx -> raw (B, h, w) map``.

    ``needs_layer``: the map is computed at a layer (False: ``ctx.layer`` is None).
    ``needs_gradients``: the function calls ``ctx.gradient()`` or ``ctx.guided_gradient()``, so the
    target score must be differentiable.  ``needs_head``: the method reads the model's linear head,
    so the target must be class indices (not a callable).  ``slow``: the method makes extra batched
    model passes; it reports progress and honours ``cancel``.  ``input_resolution``: the raw map is
    already at the input's resolution (``upsample=False`` does not apply).  ``passes``: the model
    passes one map makes (:class:`~nbviz.cam.cost.Passes`) as a function of the options and the
    layer's channel count, which with measured pass times gives the estimate the explorer shows
    before starting a long computation (:mod:`nbviz.cam.cost`); the channel count is 0 for methods
    without a layer.  None: one backward pass for a method that needs gradients, none otherwise.  ``sanity``: the verdict of
    :func:`~nbviz.cam.sanity_check` measured on the embedded pretrained EfficientNet-Lite0 and
    the "chelsea" photo (``"pass"``, ``"fail"``; None: not measured); the test suite re-measures the
    committed verdicts (tests/cam/test_sanity.py) and the explorer's method menu shows them.
    """

    name: str
    label: str
    family: str
    function: MethodFn
    aliases: tuple[str, ...] = ()
    options: Mapping[str, Option] = field(default_factory=dict)
    needs_layer: bool = True
    needs_gradients: bool = False
    needs_head: bool = False
    slow: bool = False
    input_resolution: bool = False
    sanity: str | None = None
    passes: Callable[[Mapping[str, Any], int], Passes] | None = None

    def passes_for(self, options: Mapping[str, Any], channels: int) -> Passes:
        """The model passes of one map with these (resolved) ``options`` at a layer of ``channels`` channels."""
        if self.passes is not None:
            return self.passes(options, channels)
        return Passes(backward=1.0) if self.needs_gradients else Passes()

    @property
    def defaults(self) -> dict[str, Any]:
        """Option name -> default value."""
        return {name: option.default for name, option in self.options.items()}

    def resolve_options(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The defaults updated with ``given``; unknown options or invalid values raise MethodError."""
        return resolve_options(self.name, self.options, given)


_lock = threading.RLock()
_specs: dict[str, MethodSpec] = {}  # canonical name -> spec, in registration order
_aliases: dict[str, str] = {}  # squashed name or alias -> canonical name


def squash(name: str) -> str:
    """Lower-case a name and drop separators: ``"Grad-CAM++"`` -> ``"gradcam++"``."""
    return "".join(ch for ch in name.lower() if ch not in " -_.")


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name or name != name.lower() or any(c.isspace() or c == "|" for c in name):
        raise MethodError(f"a method name must be a non-empty lower-case string without spaces or '|' "
                          f"(it is part of map keys such as 'image|layer|class|method'), got {name!r}")


def _check_flags(name: str, flags: Mapping[str, Any]) -> None:
    for flag, value in flags.items():
        if not isinstance(value, bool):
            raise MethodError(f"{flag} of method {name!r} must be True or False, got {value!r}")


SANITY_VERDICTS = (None, "pass", "fail")


def _make_spec(name: str, function: Any, label: Any, family: Any, aliases: Any, options: Any,
               flags: Mapping[str, bool], sanity: Any = None, passes: Any = None) -> MethodSpec:
    _check_name(name)
    if not callable(function):
        raise MethodError(f"register_method({name!r}) decorates a function ctx -> (B, h, w) map, "
                          f"got {type(function).__name__}")
    if not isinstance(label, str) or not label.strip():
        raise MethodError(f"method {name!r} needs a non-empty label (the name shown in menus), got {label!r}")
    if family not in FAMILIES:
        raise MethodError(f"unknown family {family!r} for method {name!r}; use one of {', '.join(FAMILIES)}")
    aliases = (aliases,) if isinstance(aliases, str) else tuple(aliases)
    if not all(isinstance(alias, str) and squash(alias) for alias in aliases):
        raise MethodError(f"aliases of method {name!r} must be non-empty strings, got {aliases!r}")
    _check_flags(name, flags)
    if sanity not in SANITY_VERDICTS:
        raise MethodError(f"sanity of method {name!r} must be 'pass', 'fail' or None (not measured), got {sanity!r}")
    if passes is not None and not callable(passes):
        raise MethodError(f"passes of method {name!r} must be a function (options, channels) -> Passes, "
                          f"got {type(passes).__name__}")
    return MethodSpec(name=name, label=label, family=family, function=function, aliases=aliases,
                      options=MappingProxyType(declare_options(name, options)), sanity=sanity, passes=passes,
                      **flags)


def _add(spec: MethodSpec) -> None:
    keys = [squash(spec.name)] + [squash(alias) for alias in spec.aliases]
    with _lock:
        for given, key in zip((spec.name, *spec.aliases), keys):
            owner = _aliases.get(key)
            if owner is not None:
                what = "the name" if key == squash(owner) else "an alias"
                raise MethodError(f"cannot register method {spec.name!r}: {given!r} is already {what} of method "
                                  f"{owner!r}; choose another name or alias, or unregister_method({owner!r}) first")
        if len(set(keys)) != len(keys):
            raise MethodError(f"the name and aliases of method {spec.name!r} repeat themselves "
                              f"(case, spaces, '-', '_' and '.' are ignored): {[spec.name, *spec.aliases]}")
        labels = {other.label: other.name for other in _specs.values()}
        if spec.label in labels:
            raise MethodError(f"cannot register method {spec.name!r}: the label {spec.label!r} is already used by "
                              f"method {labels[spec.label]!r}; menus would show two entries alike")
        _specs[spec.name] = spec
        _aliases.update(dict.fromkeys(keys, spec.name))


def register_method(name: str, *, label: str, family: str, aliases: Sequence[str] = (),
                    options: Mapping[str, Option | Any] | None = None, needs_layer: bool = True,
                    needs_gradients: bool = False, needs_head: bool = False, slow: bool = False,
                    input_resolution: bool = False, sanity: str | None = None,
                    passes: Callable[[Mapping[str, Any], int], Passes] | None = None,
                    ) -> Callable[[MethodFn], MethodFn]:
    """Decorator that adds a CAM method; the function is returned unchanged.

    The function receives a :class:`~nbviz.cam.context.MethodContext` and returns the raw map, a
    (B, h, w) tensor (ReLU, upsampling and min-max normalisation are applied afterwards).  ``name``
    is the canonical lower-case name, ``label`` the name shown in menus and reports, ``family`` one
    of :data:`FAMILIES`, ``aliases`` further names (case, spaces, ``-``, ``_`` and ``.`` are ignored
    when names are resolved), ``options`` the keyword options with their defaults (an
    :class:`~nbviz.cam.options.Option`, or a bare default that accepts any value); the flags are
    described on :class:`MethodSpec`, as are ``sanity`` (a measured sanity-check verdict) and
    ``passes`` (the model passes of one map, for cost estimates).  Once registered the method works in ``compute``,
    ``Explainer.explain``, new ``CAMExplorer`` menus and reports.  A name or alias that is already
    taken raises :class:`~nbviz.cam.MethodError`.

    Example: ``@register_method("absgradcam", label="|Grad|-CAM", family="gradient",
    needs_gradients=True)`` on ``def absgradcam(ctx): return weighted_sum(ctx.gradient().abs().mean((2, 3)),
    ctx.activation)``.
    """
    flags = {"needs_layer": needs_layer, "needs_gradients": needs_gradients, "needs_head": needs_head,
             "slow": slow, "input_resolution": input_resolution}

    def decorate(function: MethodFn) -> MethodFn:
        _add(_make_spec(name, function, label, family, aliases, options, flags, sanity, passes))
        return function

    return decorate


def unregister_method(name: str) -> MethodSpec:
    """Remove a method (by name or alias) with all its aliases; returns its spec (re-add it with :func:`add_spec`)."""
    with _lock:
        spec = _specs.pop(_canonical(name))
        for key in [key for key, owner in _aliases.items() if owner == spec.name]:
            del _aliases[key]
    return spec


def add_spec(spec: MethodSpec) -> None:
    """Register an existing :class:`MethodSpec` again (for example one returned by :func:`unregister_method`)."""
    _add(spec)


def specs() -> tuple[MethodSpec, ...]:
    """Every registered method, in menu order: by family (see :data:`FAMILIES`), then registration order."""
    with _lock:
        registered = list(_specs.values())
    order = list(FAMILIES)
    return tuple(sorted(registered, key=lambda spec: order.index(spec.family)))


def _menu() -> str:
    return ", ".join(spec.name for spec in specs())


def _canonical(name: Any) -> str:
    """Canonical name for ``name``; the caller holds the lock."""
    if not isinstance(name, str):
        raise MethodError(f"method must be a string such as 'gradcam', got {type(name).__name__}; "
                          f"use one of {_menu()}")
    canonical = _aliases.get(squash(name))
    if canonical is None:
        raise MethodError(f"unknown CAM method {name!r}; use one of {_menu()} "
                          "(case-insensitive aliases such as 'GradCAMPlusPlus' work too)")
    return canonical


def method_spec(name: str) -> MethodSpec:
    """The registered :class:`MethodSpec` for a method name or alias (case, ``-``, ``_``, spaces ignored)."""
    with _lock:
        return _specs[_canonical(name)]


def resolve_method(name: str) -> str:
    """Return the canonical method name for ``name`` (case, ``-``, ``_`` and spaces ignored).

    ``resolve_method("GradCAMPlusPlus") == "gradcam++"``.
    """
    with _lock:
        return _canonical(name)
