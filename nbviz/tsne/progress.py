"""The progress bar of `TSNE.fit`: iterations done, the KL divergence and the phase.

KL is computed (against the true P, exaggeration-corrected) every `KL_EVERY` iterations while a
bar is shown, never when none is: a silent fit costs nothing extra.
"""
from __future__ import annotations

from nbviz.progress import ProgressBar

from .optimizer import PHASE_EARLY, Frame

KL_EVERY = 10


def phase_label(frame: Frame) -> str:
    """The phase as a person reads it: "early exaggeration x12" or "main"."""
    if frame.phase == PHASE_EARLY:
        return f"early exaggeration x{frame.exaggeration:g}"
    return frame.phase


class FitProgress:
    """Shows a t-SNE fit's iterations on a `ProgressBar` (`verbose` is True, False or "auto")."""

    def __init__(self, verbose: bool | str, n_iter: int) -> None:
        self._bar = ProgressBar(n_iter, verbose, "t-SNE", unit="it")
        self._kl: float | None = None

    def wants_kl(self, iteration: int) -> bool:
        """Whether the step starting at `iteration` should compute the KL divergence for the bar."""
        return self._bar.active and iteration % KL_EVERY == 0

    def update(self, frame: Frame) -> None:
        """Record one finished step."""
        if frame.kl is not None:
            self._kl = frame.kl
        self._bar.advance(frame.iteration, self._postfix(phase_label(frame)))

    def finish(self, kl: float) -> None:
        """Close the bar showing the final layout's KL divergence."""
        self._kl = kl
        self._bar.close(self._postfix("done"))

    def close(self) -> None:
        """Close the bar as it stands (after an error); nothing happens once it is finished."""
        self._bar.close()

    def _postfix(self, phase: str) -> str:
        kl = "..." if self._kl is None else f"{self._kl:.4f}"
        return f"KL={kl}, phase={phase}"
