"""The per-point extras of points added to a TSNEScatter: checked against the plot's, then joined.

A plot made with labels, texts, images or colour values needs them for every point it adds, in
the same form; nothing is changed until all of them are valid, so a failed `add_points` leaves
the plot as it was.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from nbviz.tsne.errors import TSNEError
from nbviz.widgets.tsne_inputs import MAX_LABELS, encode_texts, encode_thumbnails
from nbviz.widgets.tsne_projector import encode_color


def _require(has_it: bool, given: Any, name: str) -> bool:
    """Whether `name` must be joined: the plot has it and the new points give it (else an error)."""
    if has_it and given is None:
        raise TSNEError(f"this plot has {name} for every point: pass {name}= for the new points too")
    if not has_it and given is not None:
        raise TSNEError(f"this plot was made without {name}=, so the new points cannot have them; "
                        f"make the plot with {name}= to use them")
    return has_it


def joined_labels(codes: bytes, names: Sequence[str], labels: Any, n_new: int) -> tuple[bytes, list[str]]:
    """The plot's uint16 label codes followed by the new points', and the names (new ones appended).

    A new label matches an existing one by its text (labels are named by `str(value)`).
    """
    values = labels.detach().cpu().numpy() if hasattr(labels, "detach") else np.asarray(labels)
    as_text = [str(v) for v in values.reshape(-1).tolist()] if values.size == n_new else None
    if as_text is None:
        raise TSNEError(f"labels must give one label per new point ({n_new}), got shape {tuple(values.shape)}")
    index = {name: code for code, name in enumerate(names)}
    all_names = list(names)
    new_codes = np.empty(n_new, dtype="<u2")
    for i, text in enumerate(as_text):
        if text not in index:
            if len(all_names) >= MAX_LABELS:
                raise TSNEError(f"the labels would have more than {MAX_LABELS} categories")
            index[text] = len(all_names)
            all_names.append(text)
        new_codes[i] = index[text]
    return codes + new_codes.tobytes(), all_names


def joined_extras(
    plot: Any, n_new: int, *, labels: Any = None, texts: Sequence[Any] | None = None, images: Any = None,
    color: Any = None,
) -> dict[str, Any]:
    """Trait values for the plot with `n_new` more points: n_points, and whichever of label codes
    and names, texts, thumbnails and colour values (with their range) the plot has.

    `plot` is the TSNEScatter (its traits are read, not changed). Raises TSNEError (or the
    ValueError of `encode_color`) naming what is missing or mismatched.
    """
    n_total = plot.n_points + n_new
    traits: dict[str, Any] = {"n_points": n_total}
    if _require(bool(plot.label_names), labels, "labels"):
        traits["label_codes"], traits["label_names"] = joined_labels(plot.label_codes, plot.label_names, labels, n_new)
    if _require(bool(plot.texts), texts, "texts"):
        traits["texts"] = list(plot.texts) + encode_texts(texts, n_new)
    if _require(bool(plot.thumbnails), images, "images"):
        size = tuple(plot.thumbnail_shape)
        thumbs, _ = encode_thumbnails(images, n_new, size=size, budget_points=n_total)
        traits["thumbnails"] = plot.thumbnails + thumbs
    if _require(bool(plot.color_values), color, "color"):
        new_values, _ = encode_color(color, n_new)
        values = np.frombuffer(plot.color_values + new_values, dtype="<f4")
        finite = values[np.isfinite(values)]
        traits["color_values"] = values.tobytes()
        traits["color_range"] = [float(finite.min()), float(finite.max())]
    return traits
