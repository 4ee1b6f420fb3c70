"""The base class that makes `TSNE` a scikit-learn estimator.

With scikit-learn installed it is `sklearn.base.BaseEstimator` (so `clone`, `Pipeline`, grid
search and the HTML repr work as for any estimator). Without it, `ParamsMixin` mirrors the part
of that contract nbviz relies on: the `__init__` parameters are the settings, stored under the
same names; `get_params()` reads them, `set_params(**settings)` writes them and returns the
estimator.
"""
from __future__ import annotations

import inspect
from typing import Any


class ParamsMixin:
    """scikit-learn's get_params / set_params contract, for when scikit-learn is not installed."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The keyword parameters of `__init__`, sorted (as scikit-learn lists them)."""
        signature = inspect.signature(cls.__init__)
        return sorted(name for name, p in signature.parameters.items()
                      if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The estimator's settings by name (`deep` is accepted for compatibility; there are no sub-estimators)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> "ParamsMixin":
        """Change settings by name and return the estimator; an unknown name raises ValueError."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator {type(self).__name__}; "
                                 f"valid parameters are: {', '.join(valid)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()}
        changed = [f"{name}={value!r}" for name, value in self.get_params().items()
                   if not _same(value, defaults.get(name))]
        return f"{type(self).__name__}({', '.join(changed)})"


def _same(value: Any, default: Any) -> bool:
    try:
        return bool(value is default or value == default)
    except (TypeError, ValueError):  # arrays compare element-wise
        return False


try:
    from sklearn.base import BaseEstimator as EstimatorBase
except ImportError:  # scikit-learn is optional (nbviz[data] / nbviz[test] install it)
    EstimatorBase = ParamsMixin  # type: ignore[assignment,misc]
