"""Exceptions raised by the CAM engine.

Every error a user can meet is a :class:`CAMError` (a ``ValueError``) whose message names the
problem and the fix.
"""
from __future__ import annotations


class CAMError(ValueError):
    """Base class of every error raised by :mod:`nbviz.cam`."""


class InputError(CAMError):
    """The input tensor has the wrong type, shape, dtype or values."""


class LayerError(CAMError):
    """The requested layer does not exist, has no spatial output, or cannot be used."""


class TargetError(CAMError):
    """The target (class index or callable) does not fit the model's output."""


class MethodError(CAMError):
    """Unknown method, bad method option, or a method that does not apply to this model."""


class ModelError(CAMError):
    """The model cannot be used for the requested computation (e.g. it has no parameters to randomise)."""


class ExplainerClosedError(CAMError):
    """The :class:`~nbviz.cam.Explainer` was closed and cannot compute any more."""


class Cancelled(CAMError):
    """The computation was stopped because its ``cancel`` flag was set."""
