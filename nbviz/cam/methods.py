"""The built-in methods.  Each is declared with ``@register_method`` next to its formula, in these
modules; importing this module (``nbviz.cam`` does) registers them all."""
from __future__ import annotations

from . import ablation, activation_methods, gradient_methods, guided, score_methods, smooth

#: The modules whose functions are registered as built-in methods, one family or two each.
BUILTIN_MODULES = (activation_methods, gradient_methods, smooth, score_methods, ablation, guided)
