"""The one exception type of the t-SNE engine."""
from __future__ import annotations


class TSNEError(ValueError):
    """Bad input or a bad setting for the t-SNE engine; the message names the problem and the fix."""
